import BPFLoader
import BPFObject

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
        let sockhashID: MapID
        do { sockhashID = try BPFMap(pinned: sockhashPin).info().id } catch {
            return .unknown(reason: "cannot open \(sockhashPin): \(error.errno)")
        }
        let ids: [ProgramID]
        switch cgroup.sockOpsProgramIDs(effective: false) {
        case .success(let found): ids = found
        case .failure(let failure): return .unknown(reason: failure.reason)
        }
        var ours: [BPFProgram] = []
        for id in ids {
            let program: BPFProgram
            do { program = try BPFProgram(id: id) } catch where error.command != .objGetInfoByFD {
                if error.errno == .noSuchFileOrDirectory { continue } // detached meanwhile
                return .unknown(reason: "cannot open program \(id): \(error.errno)")
            } catch {
                return .unknown(reason: "cannot read program \(id)")
            }
            guard let info = try? program.info() else { return .unknown(reason: "cannot read program \(id)") }
            if info.mapIDs.contains(sockhashID) { ours.append(program) }
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
            try programs[parser]!.attach(toMap: map, type: .skSkbStreamParser, context: "attach \(parser) to map \(map.name)")
        }
        try programs[data.verdictProgram]!.attach(toMap: map, type: data.verdictAttachType,
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
            try? MapAttachment(program: program, map: map, type: type).detach()
        }
    }

    /// Detaches every sock_ops program of ours from `cgroup`.
    static func detachSockops(cgroup: Cgroup, sockhashPin: String) {
        guard let cgroupFD = try? cgroup.open() else { return }
        defer { try? cgroupFD.close() }
        for program in sockopsPrograms(cgroup: cgroup, sockhashPin: sockhashPin) {
            try? CgroupAttachment(program: program, cgroup: cgroupFD, type: .cgroupSockOps).detach()
        }
    }
}

extension Cgroup {
    /// What a look at the cgroup's own programs says about its sockets.
    package enum Acceleration: Sendable, Equatable {
        /// sock_ops programs in effect on the cgroup (attached to it or inherited) put its sockets
        /// in a SOCKHASH or SOCKMAP, whichever installation loaded them.
        case accelerated(programs: [String])
        /// No sock_ops program in effect on the cgroup uses a SOCKHASH or SOCKMAP.
        case notAccelerated
        /// The kernel could not be asked.
        case unknown(reason: String)
    }

    /// Whether this cgroup's sockets are accelerated, decided by the sock_ops programs in effect
    /// on it (`BPF_PROG_QUERY` with `BPF_F_QUERY_EFFECTIVE`) that use a sockmap, not by any pin
    /// directory.
    package func acceleration() -> Acceleration {
        let ids: [ProgramID]
        switch sockOpsProgramIDs(effective: true) {
        case .success(let found): ids = found
        case .failure(let failure): return .unknown(reason: failure.reason)
        }
        var names: [String] = []
        for id in ids {
            guard let info = try? BPFProgram(id: id).info() else { continue }
            let usesSockmap = info.mapIDs.contains { mapID in
                guard let map = try? BPFMap(id: mapID) else { return false }
                return map.type == .sockhash || map.type == .sockmap
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
    func sockOpsProgramIDs(effective: Bool) -> Result<[ProgramID], QueryFailure> {
        do {
            let fd = try open()
            defer { try? fd.close() }
            return .success(try CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps, effective: effective))
        } catch let error as AcceleratorError {
            return .failure(QueryFailure(reason: error.description))
        } catch let error as BPFError {
            return .failure(QueryFailure(reason: "cannot list the programs on \(path): \(error.errno)"))
        } catch {
            return .failure(QueryFailure(reason: "\(error)"))
        }
    }
}
