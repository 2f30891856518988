import BPFLoader
import FoundationEssentials

extension Accelerator {
    /// Looks at the pins and the cgroup to tell what is installed.
    public func installation() -> Installation {
        guard BPFFileSystem.exists(pins.directory) else { return .none }
        guard let state = LoadState.load(pins: pins) else {
            return BPFFileSystem.exists(pins.map(LoadState.mapName))
                ? .unknown(reason: "cannot read the state map in \(pins.maps)")
                : .incomplete(reason: "no state map in \(pins.maps)")
        }
        switch Attachments.sockops(cgroup: Cgroup(path: state.cgroup), sockhashPin: pins.map(state.sockhashMap)) {
        case .attached: return .loaded(state)
        case .notAttached(let reason): return .incomplete(reason: reason)
        case .unknown(let reason): return .unknown(reason: reason)
        }
    }

    /// Opens a pinned map of the loaded data path.
    public func map(_ name: String) throws(AcceleratorError) -> BPFMap {
        guard BPFFileSystem.exists(pins.directory) else { throw .notLoaded(pinDir: pins.directory) }
        do { return try BPFMap(pinned: pins.map(name)) } catch { throw .kernel(error) }
    }

    /// Opens a pinned program of the loaded data path by name; throws `notLoaded` when nothing is
    /// pinned.
    public func program(_ name: String) throws(AcceleratorError) -> BPFProgram {
        guard BPFFileSystem.exists(pins.directory) else { throw .notLoaded(pinDir: pins.directory) }
        do { return try BPFProgram(pinned: pins.program(name)) } catch { throw .kernel(error) }
    }

    /// What the last `load` recorded, if anything is pinned.
    public func recordedState() -> LoadState? { LoadState.load(pins: pins) }

    /// Opens a map of our own data path (counters, config, policy), saying plainly when the
    /// loaded object is not ours and has no such map.
    func ownMap(_ name: String, feature: String) throws(AcceleratorError) -> BPFMap {
        if !BPFFileSystem.exists(pins.map(name)), let state = recordedState(), !state.providesOwnMaps {
            throw .notProvided(feature: feature, object: state.object)
        }
        return try map(name)
    }

    /// The data path's counters, summed over CPUs; throws `notProvided` for an object without our
    /// counters map.
    public func counters() throws(AcceleratorError) -> Counters {
        let map = try ownMap(DataPath.countersMap, feature: "counters")
        do { return try Counters.read(from: map) } catch { throw AcceleratorError(error) }
    }

    /// Every socket in the SOCKHASH of our data path: its cookie, its connection as it sees it,
    /// and its peer's cookie once paired.
    public func entries() throws(AcceleratorError) -> [SockhashEntry] {
        let records = try socketRecords()
        return try rawEntries().map { entry in
            let cookie = entry.key.count == 8 ? entry.key.littleEndian(UInt64.self, at: 0) : entry.cookie
            let info = cookie.flatMap { records[$0] }
            return SockhashEntry(key: info?.key, cookie: cookie, peerCookie: info?.peerCookie)
        }
    }

    /// What the data path records of each socket in its SOCKHASH, by cookie: one pass of the
    /// `sockmap_sockets` TCP iterator in the caller's network namespace and in the others the
    /// cgroup's sockets may live in (those of its processes, and the named ones). Empty when the
    /// kernel refused that iterator at `load` (it is optional): entries then show only their
    /// cookies.
    func socketRecords() throws(AcceleratorError) -> [UInt64: SocketRecord] {
        guard BPFFileSystem.exists(pins.program(DataPath.socketsProgram)) else {
            if let state = recordedState(), !state.providesOwnMaps {
                throw .notProvided(feature: "socket records", object: state.object)
            }
            return [:]
        }
        let program = try program(DataPath.socketsProgram)
        let namespaces = NetworkNamespaces.others(than: recordedState().map { Cgroup(path: $0.cgroup) })
        do { return try SocketRecord.read(program: program, namespaces: namespaces) } catch { throw .kernel(error) }
    }

    /// Every socket in the loaded object's SOCKHASH or SOCKMAP, keys as bytes.
    public func rawEntries() throws(AcceleratorError) -> [RawSockmapEntry] {
        let map = try map(recordedState()?.sockhashMap ?? DataPath.sockhashMap)
        do {
            var result: [RawSockmapEntry] = []
            for key in try map.keys() {
                // The socket may close between listing and lookup (nil: it is simply gone); a
                // lookup that fails (a SOCKHASH with 4-byte values) leaves the cookie unknown.
                let value: [UInt8]?
                do {
                    guard let found = try map.lookup(key) else { continue }
                    value = found
                } catch {
                    value = nil
                }
                let cookie = value.flatMap { $0.count >= 8 ? $0.littleEndian(UInt64.self, at: 0) : nil }
                result.append(RawSockmapEntry(key: key, cookie: cookie))
            }
            return result
        } catch { throw .kernel(error) }
    }

    /// The data path's config (policy mode, pause); throws `notProvided` for an object without our
    /// config map.
    public func config() throws(AcceleratorError) -> DataPath.Config {
        let map = try ownMap(DataPath.configMap, feature: "pause, resume or a policy mode")
        do { return DataPath.Config(bytes: try map.lookup(UInt32(0).littleEndianBytes) ?? []) } catch { throw AcceleratorError(error) }
    }

    /// Changes the config under the installation lock, so `resume` cannot undo a `detach` that
    /// runs at the same time.
    func updateConfig(_ change: (inout DataPath.Config) -> Void) throws(AcceleratorError) {
        try Privileges.requireRoot()
        try InstallationLock.withLock(pins) { () throws(AcceleratorError) in
            guard case .loaded = installation() else { throw AcceleratorError.notLoaded(pinDir: pins.directory) }
            var current = try config()
            change(&current)
            try writeConfig(current)
        }
    }

    private func writeConfig(_ config: DataPath.Config) throws(AcceleratorError) {
        let map = try ownMap(DataPath.configMap, feature: "pause, resume or a policy mode")
        do { try map.update(key: UInt32(0).littleEndianBytes, value: config.bytes) } catch { throw AcceleratorError(error) }
    }
}
