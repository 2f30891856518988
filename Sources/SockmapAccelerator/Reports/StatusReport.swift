import BPFLoader

/// Everything `status` shows: what is loaded where, and the data path's counters.
public struct StatusReport: Codable, Sendable {
    /// One of the installation's programs as the kernel reports it.
    public struct Program: Codable, Sendable {
        /// The program's name.
        public let name: String
        /// The kernel's id of the program.
        public let id: ProgramID
        /// Its program type's name (`sock_ops`, `sk_msg`).
        public let type: String
        /// What it is attached to (`cgroup /sys/fs/cgroup/…`, `map sock_hash`).
        public let attachedTo: String
        /// Times the program ran, from `kernel.bpf_stats_enabled`; zero while statistics are off.
        public let runCount: UInt64
        /// Total run time in nanoseconds, from `kernel.bpf_stats_enabled`; zero while statistics are off.
        public let runTimeNanoseconds: UInt64
    }

    /// The SOCKHASH (or SOCKMAP) and how full it is.
    public struct Sockhash: Codable, Sendable {
        /// The kernel's id of the map.
        public let id: MapID
        /// Sockets in it now.
        public let entries: Int
        /// Its capacity (`max_entries`).
        public let maxEntries: UInt32
    }

    /// A map a `detach` kept because sockets in it were still open.
    public struct Draining: Codable, Sendable {
        /// Where it is pinned, under the pin directory's `-draining` sibling.
        public let directory: String
        /// nil when the map cannot be read.
        public let sockets: Int?
    }

    /// Whether a complete installation is in place.
    public let loaded: Bool
    /// Why the installation is incomplete, when it is.
    public let problem: String?
    /// The pin directory looked at.
    public let pinDirectory: String
    /// What the last `load` recorded; nil when nothing is pinned or the state cannot be read.
    public let state: LoadState?
    /// Processes in the cgroup (not its children); nil when not loaded.
    public let cgroupProcesses: Int?
    /// The attached programs that could be read.
    public let programs: [Program]
    /// The socket map; nil when it cannot be read.
    public let sockhash: Sockhash?
    /// The data path's counters; nil for an object without our counters map.
    public let counters: Counters?
    /// `allow` or `deny`; nil for an object without our config map.
    public let policyMode: String?
    /// Whether redirection is paused; nil for an object without our config map.
    public let paused: Bool?
    /// Maps kept by earlier detaches for sockets still open.
    public let draining: [Draining]
    /// The prefixes a SYN may carry a pairing token toward (and a token is accepted from),
    /// besides loopback and a socket's own address; nil for an object without them.
    public var localNetworks: [String]? = nil
}

extension Accelerator {
    /// Collects the status report. Never throws for "not loaded": that is a state to report.
    public func status() throws(AcceleratorError) -> StatusReport {
        try Privileges.requireRoot()
        // Maps a detach kept for open sockets are freed here once those sockets have closed.
        if BPFFileSystem.exists(pins.draining) {
            _ = try? InstallationLock.withLock(pins, timeout: 1) { () throws(AcceleratorError) in collectDrainedMaps() }
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
        var report = StatusReport(
            loaded: problem == nil, problem: problem, pinDirectory: pins.directory, state: state,
            cgroupProcesses: Cgroup(path: state.cgroup).processes().count, programs: programs, sockhash: sockhash,
            counters: state.providesOwnMaps ? try? counters() : nil, policyMode: config.map { $0.policyMode == .allow ? "allow" : "deny" },
            paused: config?.passthrough, draining: draining)
        if let localNets = try? map(DataPath.localNetworksMap) {
            report.localNetworks = LocalNetworks.read(from: localNets).map(\.description)
        }
        return report
    }
}
