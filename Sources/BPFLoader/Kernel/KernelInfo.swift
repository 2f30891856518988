import BPFObject

/// What the kernel reports about a map (`struct bpf_map_info`).
public struct MapInfo: Sendable, Equatable {
    /// The map's id.
    public let id: MapID
    /// The map's type.
    public let type: MapType
    /// Key size in bytes.
    public let keySize: UInt32
    /// Value size in bytes (per CPU for per-CPU maps).
    public let valueSize: UInt32
    /// Capacity.
    public let maxEntries: UInt32
    /// `map_flags` the map was created with.
    public let flags: MapFlags
    /// The name, cut at 15 characters.
    public let name: String
    /// The id of the map's BTF (0: none).
    public let btfID: UInt32
    /// BTF id of the key type (0: none).
    public let btfKeyTypeID: UInt32
    /// BTF id of the value type (0: none).
    public let btfValueTypeID: UInt32
}

/// What the kernel reports about a program (`struct bpf_prog_info`).
public struct ProgramInfo: Sendable, Equatable {
    /// The program's id.
    public let id: ProgramID
    /// The program's type.
    public let type: ProgramType
    /// The name, cut at 15 characters.
    public let name: String
    /// The program tag (a hash of its instructions) in hexadecimal, as bpftool shows it.
    public let tag: String
    /// The maps the program uses (at most 64).
    public let mapIDs: [MapID]
    /// Cumulative run time; non-zero only while run-time statistics are enabled.
    public let runTimeNanoseconds: UInt64
    /// Cumulative run count; non-zero only while run-time statistics are enabled.
    public let runCount: UInt64
    /// Length in bytes of the program as the verifier rewrote it.
    public let translatedLength: UInt32
    /// The id of the program's BTF (0: none).
    public let btfID: UInt32
}
