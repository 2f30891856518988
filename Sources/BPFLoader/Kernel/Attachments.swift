import BPFObject
import SystemPackage

/// A program attached to a target: a cgroup (`CgroupAttachment`, the target is the cgroup
/// directory's descriptor) or a SOCKMAP/SOCKHASH (`MapAttachment`).
///
/// The value keeps the program open. A cgroup's descriptor is borrowed, so it must still be open
/// when `detach()` runs. The kernel keeps an attachment when the value goes away: it lasts until
/// detached, or until the cgroup or map is gone.
public struct Attachment<Target: Sendable>: Sendable {
    /// The attached program.
    public let program: BPFProgram
    /// What it is attached to.
    public let target: Target
    /// The hook the program runs at, e.g. `.cgroupSockOps` or `.skMsgVerdict`.
    public let type: AttachType
}

/// A program attached to a cgroup (`BPF_PROG_ATTACH` on the cgroup directory's descriptor).
public typealias CgroupAttachment = Attachment<FileDescriptor>

/// A program attached to a SOCKMAP or SOCKHASH (an sk_msg verdict, an sk_skb stream parser or
/// verdict): it runs for every socket in the map. At most one program per attach type is on a
/// map; attaching another replaces it.
public typealias MapAttachment = Attachment<BPFMap>

extension Attachment where Target == FileDescriptor {
    /// Describes an attachment to a cgroup that exists already (found by a query), to detach it.
    public init(program: BPFProgram, cgroup: FileDescriptor, type: AttachType) {
        self.init(program: program, target: cgroup, type: type)
    }

    /// Detaches the program from the cgroup (`BPF_PROG_DETACH`).
    public func detach() throws(BPFError) {
        try BPFSyscall.detach(program: program.fd, from: target, type: type, context: "detach \(program.name) from a cgroup")
    }

    /// The programs attached to `cgroup` for `type` (`BPF_PROG_QUERY`, at most 64); with
    /// `effective` (`BPF_F_QUERY_EFFECTIVE`) also those it inherits from its ancestors: every
    /// program that runs for the cgroup's sockets.
    public static func query(cgroup: FileDescriptor, type: AttachType, effective: Bool = false) throws(BPFError) -> [ProgramID] {
        try BPFSyscall.queryPrograms(target: cgroup, type: type, effective: effective)
    }
}

extension Attachment where Target == BPFMap {
    /// Describes an attachment to a map that exists already, to detach it.
    public init(program: BPFProgram, map: BPFMap, type: AttachType) {
        self.init(program: program, target: map, type: type)
    }

    /// Detaches the program from the map (`BPF_PROG_DETACH`).
    public func detach() throws(BPFError) {
        try BPFSyscall.detach(program: program.fd, from: target.fd, type: type, context: "detach \(program.name) from \(target.name)")
    }

    /// The programs attached to `map` for `type` (`BPF_PROG_QUERY`).
    public static func query(map: BPFMap, type: AttachType) throws(BPFError) -> [ProgramID] {
        try BPFSyscall.queryPrograms(target: map.fd, type: type)
    }
}

extension BPFProgram {
    /// Attaches the program to the cgroup open as `cgroup` for `type`. With `replacing` (and
    /// `flags` containing `.replace`), swaps that program for this one atomically. `context`
    /// (default "attach NAME to a cgroup") starts the error's message.
    @discardableResult
    public func attach(toCgroup cgroup: FileDescriptor, type: AttachType, flags: AttachFlags = [],
                       replacing: BPFProgram? = nil, context: String? = nil) throws(BPFError) -> CgroupAttachment {
        try BPFSyscall.attach(program: fd, to: cgroup, type: type, flags: flags, replacing: replacing?.fd,
                              context: context ?? "attach \(name) to a cgroup")
        return CgroupAttachment(program: self, target: cgroup, type: type)
    }

    /// Attaches the program to `map` for `type`, replacing the program of that type there.
    @discardableResult
    public func attach(toMap map: BPFMap, type: AttachType, context: String? = nil) throws(BPFError) -> MapAttachment {
        try BPFSyscall.attach(program: fd, to: map.fd, type: type, context: context ?? "attach \(name) to map \(map.name)")
        return MapAttachment(program: self, target: map, type: type)
    }
}
