import BPFLoader
import Foundation

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

    public func program(_ name: String) throws(AcceleratorError) -> BPFProgram {
        guard BPFFileSystem.exists(pins.directory) else { throw .notLoaded(pinDir: pins.directory) }
        do { return try BPFProgram(pinned: pins.program(name)) } catch { throw .kernel(error) }
    }

    public func counters() throws(AcceleratorError) -> Counters {
        let map = try map(DataPath.countersMap)
        do { return try Counters.read(from: map) } catch { throw .kernel(error) }
    }

    /// Every socket in the SOCKHASH, with its socket cookie.
    public func entries() throws(AcceleratorError) -> [SockhashEntry] {
        let map = try map(DataPath.sockhashMap)
        do {
            var result: [SockhashEntry] = []
            for key in try map.keys() {
                guard let decoded = SockKey(bytes: key) else { continue }
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
                result.append(SockhashEntry(key: decoded, cookie: cookie))
            }
            return result
        } catch { throw .kernel(error) }
    }

    public func config() throws(AcceleratorError) -> DataPath.Config {
        let map = try map(DataPath.configMap)
        do { return DataPath.Config(bytes: try map.lookup(UInt32(0).littleEndianBytes) ?? []) } catch { throw .kernel(error) }
    }

    public func setConfig(_ config: DataPath.Config) throws(AcceleratorError) {
        try Privileges.requireRoot()
        try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try writeConfig(config) }
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
        let map = try map(DataPath.configMap)
        do { try map.update(key: UInt32(0).littleEndianBytes, value: config.bytes) } catch { throw .kernel(error) }
    }
}
