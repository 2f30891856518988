import BPFLoader
import Foundation

/// What `load` records about itself, kept in bpffs next to the pins (a one-entry array map
/// named `sockmap_state` holding JSON), so pins and their description can never disagree.
public struct LoadState: Codable, Sendable, Equatable {
    public var cgroup: String
    /// Whether `load` created the cgroup (then `detach` removes it once empty).
    public var createdCgroup: Bool
    public var object: String
    public var loadedAt: Date
    public var sockopsProgram: String
    public var verdictProgram: String
    public var sockhashMap: String

    public static let mapName = "sockmap_state"
    static let valueSize = 4096

    static func createMap() throws(BPFError) -> BPFMap {
        try BPFMap(creating: MapSpec(name: mapName, type: .array, keySize: 4, valueSize: UInt32(valueSize), maxEntries: 1))
    }

    func store(in map: BPFMap) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        var bytes = Array(try encoder.encode(self))
        guard bytes.count < Self.valueSize else { throw AcceleratorError.io(path: Self.mapName, reason: "state too large") }
        bytes += [UInt8](repeating: 0, count: Self.valueSize - bytes.count)
        try map.update(key: UInt32(0).littleEndianBytes, value: bytes)
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
