/// How a map definition asks to be pinned (`pinning` in a BTF map definition).
public enum MapPinning: UInt32, Sendable {
    /// Not pinned (`LIBBPF_PIN_NONE`).
    case none = 0
    /// `LIBBPF_PIN_BY_NAME`: the map pinned under the loader's pin root by the map's name, shared
    /// by every load that asks for it (BPFLoader's `LoadedObject.Options.pinRoot`).
    case byName = 1
}

/// What an object file says about one map, before any kernel object exists.
public struct MapSpec: Sendable, Equatable {
    /// Where the definition came from, which decides how instructions refer to it.
    package enum Origin: Sendable, Equatable {
        /// A BTF-defined map in `.maps`.
        case btf
        /// A `struct bpf_map_def` in the legacy `maps` section.
        case legacy
        /// A global-data section (`.data`, `.rodata`, `.bss`) backed by a one-entry array.
        case globalData
    }

    /// The map's name: the symbol of its definition, or the section name for global data.
    public var name: String
    /// The map type.
    public var type: MapType
    /// Key size in bytes.
    public var keySize: UInt32
    /// Value size in bytes.
    public var valueSize: UInt32
    /// `max_entries`.
    public var maxEntries: UInt32
    /// `map_flags` (`BPF_F_*`).
    public var flags: UInt32
    /// Whether the definition asks to be pinned.
    public var pinning: MapPinning
    /// Where the definition came from.
    package var origin: Origin
    /// BTF ids of the key and value types, when the definition has `__type(key/value, …)`.
    package var btfKeyTypeID: Int
    /// BTF id of the value type; 0 without one.
    package var btfValueTypeID: Int
    /// ELF section of the definition and the symbol's offset in it.
    package var sectionIndex: Int
    /// The definition symbol's byte offset in that section.
    package var symbolOffset: UInt64
    /// Initial contents of a global-data map (nil for ordinary maps).
    package var initialValue: [UInt8]?
    /// Freeze after initialisation (`.rodata`), so programs may treat it as constant.
    package var freeze: Bool

    /// A map description; the defaults are those of a legacy map without BTF, pinning or initial value.
    package init(name: String, type: MapType, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32, flags: UInt32 = 0,
                pinning: MapPinning = .none, origin: Origin = .legacy, btfKeyTypeID: Int = 0, btfValueTypeID: Int = 0,
                sectionIndex: Int = 0, symbolOffset: UInt64 = 0, initialValue: [UInt8]? = nil, freeze: Bool = false) {
        self.name = name; self.type = type; self.keySize = keySize; self.valueSize = valueSize
        self.maxEntries = maxEntries; self.flags = flags; self.pinning = pinning; self.origin = origin
        self.btfKeyTypeID = btfKeyTypeID; self.btfValueTypeID = btfValueTypeID; self.sectionIndex = sectionIndex
        self.symbolOffset = symbolOffset; self.initialValue = initialValue; self.freeze = freeze
    }

    /// `BPF_F_RDONLY_PROG`.
    package static let flagReadOnlyProgram: UInt32 = 1 << 7
    /// `BPF_F_MMAPABLE`.
    package static let flagMmapable: UInt32 = 1 << 10
}
