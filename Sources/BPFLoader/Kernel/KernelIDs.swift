import BPFObject

/// A program's id in the kernel (`prog_id`): what `bpftool prog` lists and `BPF_PROG_QUERY` returns.
/// Encoded as a plain number.
public struct ProgramID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The id as the kernel reports it.
    public let rawValue: UInt32
    /// An id the kernel reported.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The id as a number.
    public var description: String { String(rawValue) }
}

/// A map's id in the kernel (`map_id`), as `bpftool map` lists it. Encoded as a plain number.
public struct MapID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The id as the kernel reports it.
    public let rawValue: UInt32
    /// An id the kernel reported.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The id as a number.
    public var description: String { String(rawValue) }
}
