import BPFLoader

/// Finds our programs among those attached to a cgroup: a sock_ops program is ours when it uses
/// our SOCKHASH. Matching by map rather than by pinned program keeps this right across a
/// `load --replace` interrupted between swapping the program and re-pinning it.
enum Attachments {
    /// The sock_ops programs on `cgroup` that use the map pinned at `sockhashPin`.
    static func sockopsPrograms(cgroup: Cgroup, sockhashPin: String) -> [BPFProgram] {
        guard let sockhashID = try? BPFMap(pinned: sockhashPin).info().id,
              let cgroupFD = try? cgroup.open() else { return [] }
        defer { try? cgroupFD.close() }
        let ids = (try? BPFSyscall.queryPrograms(target: cgroupFD, type: AttachType.cgroupSockOps.rawValue)) ?? []
        return ids.compactMap { id in
            guard let object = try? BPFSyscall.programFD(id: id), let info = try? BPFSyscall.programInfo(object.fd),
                  info.mapIDs.contains(sockhashID) else { return nil }
            return BPFProgram(object: object, name: info.name, type: ProgramType(rawValue: info.type))
        }
    }

    /// Detaches every sock_ops program of ours from `cgroup`.
    static func detachSockops(cgroup: Cgroup, sockhashPin: String) {
        guard let cgroupFD = try? cgroup.open() else { return }
        defer { try? cgroupFD.close() }
        for program in sockopsPrograms(cgroup: cgroup, sockhashPin: sockhashPin) {
            try? BPFSyscall.detach(program: program.fd, from: cgroupFD, type: AttachType.cgroupSockOps.rawValue,
                                   context: "detach \(program.name) from \(cgroup.path)")
        }
    }
}
