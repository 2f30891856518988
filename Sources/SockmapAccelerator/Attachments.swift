import BPFLoader

/// Finds our programs among those attached to a cgroup: a sock_ops program is ours when it uses
/// our SOCKHASH. Matching by map rather than by pinned program keeps this right across a
/// `load --replace` interrupted between swapping the program and re-pinning it.
enum Attachments {
    /// What a look at the cgroup found.
    enum Check {
        case attached([BPFProgram])
        case notAttached(reason: String)
        /// A kernel query failed: nobody can say, so nothing may be removed on this basis.
        case unknown(reason: String)
    }

    /// The sock_ops programs on `cgroup` that use the map pinned at `sockhashPin`.
    static func sockops(cgroup: Cgroup, sockhashPin: String) -> Check {
        guard cgroup.exists else { return .notAttached(reason: "cgroup \(cgroup.path) is gone") }
        let sockhashID: UInt32
        do { sockhashID = try BPFMap(pinned: sockhashPin).info().id } catch {
            return .unknown(reason: "cannot open \(sockhashPin): \(error.errno)")
        }
        let ids: [UInt32]
        switch cgroup.sockOpsProgramIDs(effective: false) {
        case .success(let found): ids = found
        case .failure(let failure): return .unknown(reason: failure.reason)
        }
        var ours: [BPFProgram] = []
        for id in ids {
            let object: KernelObject
            do { object = try BPFSyscall.programFD(id: id) } catch {
                if error.errno == .noSuchFileOrDirectory { continue } // detached meanwhile
                return .unknown(reason: "cannot open program \(id): \(error.errno)")
            }
            guard let info = try? BPFSyscall.programInfo(object.fd) else { return .unknown(reason: "cannot read program \(id)") }
            if info.mapIDs.contains(sockhashID) {
                ours.append(BPFProgram(object: object, name: info.name, type: ProgramType(rawValue: info.type)))
            }
        }
        return ours.isEmpty ? .notAttached(reason: "no sock_ops program using our map is attached to \(cgroup.path)") : .attached(ours)
    }

    /// The programs found, or none whatever the reason.
    static func sockopsPrograms(cgroup: Cgroup, sockhashPin: String) -> [BPFProgram] {
        if case .attached(let programs) = sockops(cgroup: cgroup, sockhashPin: sockhashPin) { return programs }
        return []
    }

    /// Attaches the verdict program of `data` (and its sk_skb stream parser) to `map`; attaching
    /// replaces a program of the same attach type already there.
    static func attachVerdict(of data: SockmapObject, programs: [String: BPFProgram], to map: BPFMap) throws(BPFError) {
        if let parser = data.parserProgram {
            try BPFSyscall.attach(program: programs[parser]!.fd, to: map.fd, type: AttachType.skSkbStreamParser.rawValue,
                                  context: "attach \(parser) to map \(map.name)")
        }
        try BPFSyscall.attach(program: programs[data.verdictProgram]!.fd, to: map.fd, type: data.verdictAttachType.rawValue,
                              context: "attach \(data.verdictProgram) to map \(map.name)")
    }

    /// Detaches the verdict program (and stream parser) pinned in `layout` from the map.
    static func detachVerdict(layout: PinLayout, state: LoadState?) {
        let sockmap = state?.sockhashMap ?? DataPath.sockhashMap
        guard let map = try? BPFMap(pinned: layout.map(sockmap)) else { return }
        var programs = [(state?.verdictProgram ?? "sockmap_redirect", state?.verdictAttachType ?? .skMsgVerdict)]
        if let parser = state?.parserProgram { programs.append((parser, .skSkbStreamParser)) }
        for (name, type) in programs {
            guard let program = try? BPFProgram(pinned: layout.program(name)) else { continue }
            try? BPFSyscall.detach(program: program.fd, from: map.fd, type: type.rawValue, context: "detach \(name) from \(map.name)")
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

extension Cgroup {
    /// What a look at the cgroup's own programs says about its sockets.
    public enum Acceleration: Sendable, Equatable {
        /// sock_ops programs in effect on the cgroup (attached to it or inherited) put its sockets
        /// in a SOCKHASH or SOCKMAP, whichever installation loaded them.
        case accelerated(programs: [String])
        case notAccelerated
        /// The kernel could not be asked.
        case unknown(reason: String)
    }

    /// Whether this cgroup's sockets are accelerated, decided by the sock_ops programs in effect
    /// on it (`BPF_PROG_QUERY` with `BPF_F_QUERY_EFFECTIVE`) that use a sockmap, not by any pin
    /// directory.
    public func acceleration() -> Acceleration {
        let ids: [UInt32]
        switch sockOpsProgramIDs(effective: true) {
        case .success(let found): ids = found
        case .failure(let failure): return .unknown(reason: failure.reason)
        }
        var names: [String] = []
        for id in ids {
            guard let program = try? BPFSyscall.programFD(id: id), let info = try? BPFSyscall.programInfo(program.fd) else { continue }
            let usesSockmap = info.mapIDs.contains { mapID in
                guard let map = try? BPFSyscall.mapFD(id: mapID), let mapInfo = try? BPFSyscall.mapInfo(map.fd) else { return false }
                return mapInfo.type == MapType.sockhash.rawValue || mapInfo.type == MapType.sockmap.rawValue
            }
            if usesSockmap { names.append("\(info.name) (id \(id))") }
        }
        return names.isEmpty ? .notAccelerated : .accelerated(programs: names)
    }
}

/// Why the kernel could not list a cgroup's programs, as one line.
struct QueryFailure: Error {
    let reason: String
}

extension Cgroup {
    /// The ids of the sock_ops programs attached to this cgroup (`effective`: also those it
    /// inherits), or why the kernel could not be asked.
    func sockOpsProgramIDs(effective: Bool) -> Result<[UInt32], QueryFailure> {
        do {
            let fd = try open()
            defer { try? fd.close() }
            return .success(try BPFSyscall.queryPrograms(target: fd, type: AttachType.cgroupSockOps.rawValue, effective: effective))
        } catch let error as AcceleratorError {
            return .failure(QueryFailure(reason: error.description))
        } catch let error as BPFError {
            return .failure(QueryFailure(reason: "cannot list the programs on \(path): \(error.errno)"))
        } catch {
            return .failure(QueryFailure(reason: "\(error)"))
        }
    }
}
