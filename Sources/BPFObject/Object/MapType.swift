/// A map type (`enum bpf_map_type`). Open set: objects may name types this loader has no name for.
public struct MapType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `BPF_MAP_TYPE_*` number.
    public let rawValue: UInt32
    /// The map type numbered `rawValue`, known by name or not.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `BPF_MAP_TYPE_HASH`.
    public static let hash = MapType(rawValue: 1)
    /// `BPF_MAP_TYPE_ARRAY`.
    public static let array = MapType(rawValue: 2)
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
    public static let perfEventArray = MapType(rawValue: 4)
    /// `BPF_MAP_TYPE_PERCPU_HASH`.
    public static let percpuHash = MapType(rawValue: 5)
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    public static let percpuArray = MapType(rawValue: 6)
    /// `BPF_MAP_TYPE_STACK_TRACE`.
    public static let stackTrace = MapType(rawValue: 7)
    /// `BPF_MAP_TYPE_CGROUP_ARRAY`.
    public static let cgroupArray = MapType(rawValue: 8)
    /// `BPF_MAP_TYPE_LRU_HASH`.
    public static let lruHash = MapType(rawValue: 9)
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
    public static let lruPercpuHash = MapType(rawValue: 10)
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    public static let arrayOfMaps = MapType(rawValue: 12)
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
    public static let hashOfMaps = MapType(rawValue: 13)
    /// `BPF_MAP_TYPE_DEVMAP`.
    public static let devmap = MapType(rawValue: 14)
    /// `BPF_MAP_TYPE_SOCKMAP`.
    public static let sockmap = MapType(rawValue: 15)
    /// `BPF_MAP_TYPE_CPUMAP`.
    public static let cpumap = MapType(rawValue: 16)
    /// `BPF_MAP_TYPE_XSKMAP`.
    public static let xskmap = MapType(rawValue: 17)
    /// `BPF_MAP_TYPE_SOCKHASH`.
    public static let sockhash = MapType(rawValue: 18)
    /// `BPF_MAP_TYPE_QUEUE`.
    public static let queue = MapType(rawValue: 22)
    /// `BPF_MAP_TYPE_STACK`.
    public static let stack = MapType(rawValue: 23)
    /// `BPF_MAP_TYPE_SK_STORAGE`.
    public static let skStorage = MapType(rawValue: 24)
    /// `BPF_MAP_TYPE_DEVMAP_HASH`.
    public static let devmapHash = MapType(rawValue: 25)
    /// `BPF_MAP_TYPE_RINGBUF`.
    public static let ringbuf = MapType(rawValue: 27)

    /// Whether each possible CPU has its own copy of every value (so a value read back is
    /// `possible CPUs × rounded-up value size` bytes).
    public var isPerCPU: Bool { self == .percpuArray || self == .percpuHash || self == .lruPercpuHash }

    /// The name bpftool gives the type, or `type N` for one without a name here.
    public var description: String {
        switch self {
        case .hash: "hash"
        case .array: "array"
        case .perfEventArray: "perf_event_array"
        case .percpuHash: "percpu_hash"
        case .percpuArray: "percpu_array"
        case .stackTrace: "stack_trace"
        case .cgroupArray: "cgroup_array"
        case .lruHash: "lru_hash"
        case .lruPercpuHash: "lru_percpu_hash"
        case .arrayOfMaps: "array_of_maps"
        case .hashOfMaps: "hash_of_maps"
        case .devmap: "devmap"
        case .sockmap: "sockmap"
        case .cpumap: "cpumap"
        case .xskmap: "xskmap"
        case .sockhash: "sockhash"
        case .queue: "queue"
        case .stack: "stack"
        case .skStorage: "sk_storage"
        case .devmapHash: "devmap_hash"
        case .ringbuf: "ringbuf"
        default: "type \(rawValue)"
        }
    }
}
