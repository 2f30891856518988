import BPFLoader
import BPFObject
import FoundationEssentials
import Glibc

/// What `load` records about itself, kept in bpffs next to the pins (a one-entry array map
/// named `sockmap_state` holding JSON), so pins and their description can never disagree.
public struct LoadState: Codable, Sendable, Equatable {
    /// Path of the cgroup the sock_ops program is attached to.
    public var cgroup: String
    /// Whether `load` created the cgroup (then `detach` removes it once empty).
    public var createdCgroup: Bool
    /// The object's path, or `EmbeddedDataPath.name` for the one built into the binary.
    public var object: String
    /// SHA-256 of the object's bytes (as `sha256sum` prints it); nil in older states.
    public var objectSHA256: String?
    /// When the load (or the last `load --replace`) finished.
    public var loadedAt: Date
    /// Name of the sock_ops program attached to the cgroup.
    public var sockopsProgram: String
    /// Name of the sk_msg (or sk_skb stream verdict) program attached to the map.
    public var verdictProgram: String
    /// The SOCKHASH or SOCKMAP the verdict program is attached to.
    public var sockhashMap: String
    /// The sk_skb stream parser attached beside the verdict program; nil for sk_msg (and in
    /// states written before sk_skb objects were accepted).
    public var parserProgram: String?
    /// false when the object lacks our counters and config maps (not built from `bpf/redir.c`);
    /// nil in states written before other objects were accepted, which were all ours.
    public var ownMaps: Bool?
    /// How `dump-map` shows the keys of an object that is not ours.
    public var keyLayout: KeyLayout?
    /// Listeners of the cgroup opened before this `load` that now answer pairing tokens; nil
    /// when not tried (an object without the adoption iterator, or not this process's load).
    public var listenersAdopted: Int?
    /// Listeners opened before this `load` that the kernel would not adopt (before Linux 6.12):
    /// their connections stay on TCP until they listen again.
    public var listenersNotAdopted: Int?

    /// Whether the loaded object has our counters, config and policy maps.
    package var providesOwnMaps: Bool { ownMaps ?? true }
    /// The attach type of the verdict program on the map.
    package var verdictAttachType: AttachType { parserProgram == nil ? .skMsgVerdict : .skSkbStreamVerdict }

    /// Takes the programs (and key layout) of a replacement object; the maps stay.
    mutating func adopt(_ data: SockmapObject, object path: String) {
        object = path
        loadedAt = Date()
        sockopsProgram = data.sockopsProgram
        verdictProgram = data.verdictProgram
        parserProgram = data.parserProgram
        ownMaps = data.providesOwnMaps
        keyLayout = data.keyLayout
    }

    /// Name of the map that holds the state, pinned with the others.
    package static let mapName = "sockmap_state"
    static let valueSize = 4096

    static func createMap() throws(BPFError) -> BPFMap {
        try BPFMap(creating: MapSpec(name: mapName, type: .array, keySize: 4, valueSize: UInt32(valueSize), maxEntries: 1))
    }

    func store(in map: BPFMap) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.iso8601(date))
        }
        var bytes = Array(try encoder.encode(self))
        guard bytes.count < Self.valueSize else { throw AcceleratorError.io(path: Self.mapName, reason: "state too large") }
        bytes += [UInt8](repeating: 0, count: Self.valueSize - bytes.count)
        try map.update(key: UInt32(0).littleEndianBytes, value: bytes)
    }

    /// `date` in UTC as `.iso8601` writes it (`2026-12-07T04:33:55Z`), without the calendar and
    /// time zone `.iso8601` sets up: ICU's zone data was 1.7 MB of a load's peak memory.
    package static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))"
            + "T\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))Z"
    }

    static func load(from map: BPFMap) -> LoadState? {
        guard let value = try? map.lookup(UInt32(0).littleEndianBytes) else { return nil }
        let json = Data(value.prefix { $0 != 0 })
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(LoadState.self, from: json)
    }

    static func load(pins: PinLayout) -> LoadState? {
        guard let map = try? BPFMap(pinned: pins.map(mapName)) else { return nil }
        return load(from: map)
    }
}

extension LoadState {
    /// The state of a load of `path` into `cgroup`.
    init(cgroup: Cgroup, object path: String, data: SockmapObject) {
        self.init(cgroup: cgroup.path, createdCgroup: !cgroup.exists, object: path, loadedAt: Date(),
                  sockopsProgram: data.sockopsProgram, verdictProgram: data.verdictProgram, sockhashMap: data.sockmap,
                  parserProgram: data.parserProgram, ownMaps: data.providesOwnMaps, keyLayout: data.keyLayout)
    }
}
