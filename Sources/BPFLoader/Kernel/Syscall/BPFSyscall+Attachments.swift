import BPFObject
internal import CBPF
import SystemPackage

/// `BPF_PROG_ATTACH`, `BPF_PROG_DETACH` and `BPF_PROG_QUERY`, for cgroups and maps alike.
extension BPFSyscall {
    static func attach(program: FileDescriptor, to target: FileDescriptor, type: AttachType,
                       flags: AttachFlags = [], replacing: FileDescriptor? = nil, context: String) throws(BPFError) {
        var attr = bpf_attr()
        attr.target_fd = fdField(target.rawValue)
        attr.attach_bpf_fd = fdField(program.rawValue)
        attr.attach_type = type.rawValue
        attr.attach_flags = flags.rawValue
        if let replacing { attr.replace_bpf_fd = fdField(replacing.rawValue) }
        try call(.progAttach, &attr, context)
    }

    /// Detaches `program` from `target` (a cgroup or a map) for attach type `type`.
    static func detach(program: FileDescriptor, from target: FileDescriptor, type: AttachType, context: String) throws(BPFError) {
        var attr = bpf_attr()
        attr.target_fd = fdField(target.rawValue)
        attr.attach_bpf_fd = fdField(program.rawValue)
        attr.attach_type = type.rawValue
        try call(.progDetach, &attr, context)
    }

    /// The most program ids one query returns.
    static let queryCapacity = 64

    /// Ids of the programs attached to `target` (a cgroup or a map) for `type`. With `effective`
    /// (`BPF_F_QUERY_EFFECTIVE`, cgroups only) also those inherited from its ancestors: every
    /// program that runs for the cgroup's sockets.
    static func queryPrograms(target: FileDescriptor, type: AttachType, effective: Bool = false) throws(BPFError) -> [ProgramID] {
        let ids = KernelBuffer(count: queryCapacity * 4)
        var attr = bpf_attr()
        attr.query.target_fd = fdField(target.rawValue)
        attr.query.attach_type = type.rawValue
        attr.query.query_flags = effective ? QueryFlags.effective.rawValue : 0
        attr.query.prog_cnt = UInt32(queryCapacity)
        attr.query.prog_ids = ids.address
        _ = try withExtendedLifetime(ids) { () throws(BPFError) in try call(.progQuery, &attr, "query attached programs") }
        let count = min(Int(attr.query.prog_cnt), queryCapacity)
        return (0..<count).map { ProgramID(rawValue: ids.bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
    }
}
