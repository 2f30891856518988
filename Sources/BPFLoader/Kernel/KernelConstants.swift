import BPFObject

/// How `BPF_MAP_UPDATE_ELEM` treats an existing key (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`).
public enum MapUpdateFlag: UInt64, Sendable {
    /// `BPF_ANY`: create the entry or overwrite it.
    case any = 0
    /// `BPF_NOEXIST`: create only; `EEXIST` when the key is there.
    case noExist = 1
    /// `BPF_EXIST`: overwrite only; `ENOENT` when the key is absent.
    case exist = 2
}

/// `map_flags` of `BPF_MAP_CREATE` (`BPF_F_…`). Open set: objects may carry flags without a name here.
public struct MapFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The flags as the kernel stores them.
    public let rawValue: UInt32
    /// Flags from their kernel value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `BPF_F_NO_PREALLOC`: entries are allocated on update (required by SK_STORAGE).
    public static let noPrealloc = MapFlags(rawValue: 1 << 0)
    /// `BPF_F_RDONLY_PROG`: programs may only read the map.
    public static let readOnlyProgram = MapFlags(rawValue: 1 << 7)

    /// The flags in hexadecimal, e.g. "0x1".
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// `attach_flags` of `BPF_PROG_ATTACH` for cgroups.
public struct AttachFlags: OptionSet, Hashable, Sendable {
    /// The flags as the kernel takes them.
    public let rawValue: UInt32
    /// Flags from their kernel value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `BPF_F_ALLOW_OVERRIDE`: a descendant cgroup's program overrides this one.
    public static let allowOverride = AttachFlags(rawValue: 1 << 0)
    /// `BPF_F_ALLOW_MULTI`: several programs of the type on one cgroup, all run.
    public static let allowMulti = AttachFlags(rawValue: 1 << 1)
    /// `BPF_F_REPLACE`: swap the program given as `replacing` atomically (5.6).
    public static let replace = AttachFlags(rawValue: 1 << 2)
}

/// `query_flags` of `BPF_PROG_QUERY`.
struct QueryFlags: OptionSet, Sendable {
    let rawValue: UInt32
    /// `BPF_F_QUERY_EFFECTIVE`: also the programs a cgroup inherits from its ancestors.
    static let effective = QueryFlags(rawValue: 1 << 0)
}

/// `enum bpf_stats_type` of `BPF_ENABLE_STATS`.
struct StatsType: RawRepresentable, Sendable {
    let rawValue: UInt32
    /// `BPF_STATS_RUN_TIME`: run time and count per program.
    static let runTime = StatsType(rawValue: 0)
}
