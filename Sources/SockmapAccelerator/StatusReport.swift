import BPFLoader

/// Everything `status` shows: what is loaded where, and the data path's counters.
public struct StatusReport: Codable, Sendable {
    public struct Program: Codable, Sendable {
        public let name: String
        public let id: ProgramID
        public let type: String
        public let attachedTo: String
        /// From `kernel.bpf_stats_enabled`; zero while statistics are off.
        public let runCount: UInt64
        public let runTimeNanoseconds: UInt64
    }

    public struct Sockhash: Codable, Sendable {
        public let id: MapID
        public let entries: Int
        public let maxEntries: UInt32
    }

    public struct Draining: Codable, Sendable {
        public let directory: String
        /// nil when the map cannot be read.
        public let sockets: Int?
    }

    public let loaded: Bool
    /// Why the installation is incomplete, when it is.
    public let problem: String?
    public let pinDirectory: String
    public let state: LoadState?
    public let cgroupProcesses: Int?
    public let programs: [Program]
    public let sockhash: Sockhash?
    public let counters: Counters?
    public let policyMode: String?
    public let paused: Bool?
    public let draining: [Draining]
}

extension Accelerator {
    /// Collects the status report. Never throws for "not loaded": that is a state to report.
    public func status() throws(AcceleratorError) -> StatusReport {
        try Privileges.requireRoot()
        // Maps a detach kept for open sockets are freed here once those sockets have closed.
        if BPFFileSystem.exists(pins.draining) {
            try? InstallationLock.withLock(pins, timeout: 1) { () throws(AcceleratorError) in collectDrainedMaps() }
        }
        let draining = drainingMaps().map { StatusReport.Draining(directory: $0.directory, sockets: $0.sockets) }
        let state: LoadState
        var problem: String?
        switch installation() {
        case .none:
            return StatusReport(loaded: false, problem: nil, pinDirectory: pins.directory, state: nil, cgroupProcesses: nil,
                                programs: [], sockhash: nil, counters: nil, policyMode: nil, paused: nil, draining: draining)
        case .incomplete(let reason), .unknown(let reason):
            guard let recorded = LoadState.load(pins: pins) else {
                return StatusReport(loaded: false, problem: reason, pinDirectory: pins.directory, state: nil, cgroupProcesses: nil,
                                    programs: [], sockhash: nil, counters: nil, policyMode: nil, paused: nil, draining: draining)
            }
            state = recorded
            problem = reason
        case .loaded(let loaded):
            state = loaded
        }
        var programs: [StatusReport.Program] = []
        var attached = [(state.sockopsProgram, "cgroup \(state.cgroup)")]
        if let parser = state.parserProgram { attached.append((parser, "map \(state.sockhashMap)")) }
        attached.append((state.verdictProgram, "map \(state.sockhashMap)"))
        for (name, target) in attached {
            guard let info = try? program(name).info() else { continue }
            programs.append(.init(name: name, id: info.id, type: info.type.description,
                                  attachedTo: target, runCount: info.runCount, runTimeNanoseconds: info.runTimeNanoseconds))
        }
        var sockhash: StatusReport.Sockhash?
        if let map = try? map(state.sockhashMap), let info = try? map.info() {
            // A SOCKMAP lists every slot as a key; only lookups tell the occupied ones.
            let entries = info.type == .sockmap ? (try? rawEntries().count) : (try? map.keys().count)
            sockhash = .init(id: info.id, entries: entries ?? 0, maxEntries: info.maxEntries)
        }
        let config = state.providesOwnMaps ? try? config() : nil
        return StatusReport(
            loaded: problem == nil, problem: problem, pinDirectory: pins.directory, state: state,
            cgroupProcesses: Cgroup(path: state.cgroup).processes().count, programs: programs, sockhash: sockhash,
            counters: state.providesOwnMaps ? try? counters() : nil, policyMode: config.map { $0.policyMode == .allow ? "allow" : "deny" },
            paused: config?.passthrough, draining: draining)
    }
}
