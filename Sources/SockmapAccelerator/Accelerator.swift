import BPFLoader
import Foundation
import Logging
import SystemPackage

/// Loads, inspects and removes the accelerator: the sock_ops program on a cgroup, the sk_msg
/// program on the SOCKHASH, and their pins in bpffs.
public struct Accelerator: Sendable {
    public let pins: PinLayout
    public let logger: Logger

    public init(pinDirectory: String = PinLayout.defaultDirectory, logger: Logger = Logger(label: "swift-sockmap")) {
        self.pins = PinLayout(directory: pinDirectory)
        self.logger = logger
    }

    /// What `load` should do.
    public struct LoadOptions: Sendable {
        public var objectPath: String
        /// cgroup path (absolute or relative to the cgroup2 mount); nil = `<mount>/swift-sockmap`.
        public var cgroup: String?
        /// Capacity of the SOCKHASH; nil keeps the object's `max_entries`.
        public var maxEntries: UInt32?
        public var policyMode: DataPath.PolicyMode
        /// Initial values of `.rodata`/`.data` variables (e.g. `debug` = 1 for trace output).
        public var globals: [String: Int64] = [:]

        public init(objectPath: String, cgroup: String? = nil, maxEntries: UInt32? = nil, policyMode: DataPath.PolicyMode = .deny) {
            self.objectPath = objectPath
            self.cgroup = cgroup
            self.maxEntries = maxEntries
            self.policyMode = policyMode
        }
    }

    /// The steps of `load`, in order. A test may stop the loader after any of them
    /// (`SWIFT_SOCKMAP_TEST_KILL_AFTER_STEP=N` sends SIGKILL to itself).
    public enum LoadStep: Int, CaseIterable, Sendable {
        case objectParsed = 1, cgroupReady, objectLoaded, verdictAttached, pinnedInStaging, pinsInPlace, cgroupAttached
    }

    /// What is installed under the pin directory.
    public enum Installation: Sendable {
        case none
        case loaded(LoadState)
        /// Pins exist but the sock_ops program is not attached (a load that died midway).
        case incomplete(reason: String)
    }

    // MARK: load

    @discardableResult
    public func load(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        try Privileges.requireRoot()
        try BPFFileSystem.ensureMounted(for: pins.directory)
        return try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try loadLocked(options) }
    }

    /// `load`, with the installation lock held.
    func loadLocked(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        let spec = try parseObject(options)
        guard let sockops = spec.programs.first(where: { $0.type == .sockOps }) else {
            throw .missingProgram(kind: "sockops", path: options.objectPath)
        }
        guard let verdict = spec.programs.first(where: { $0.type == .skMsg }) else {
            throw .missingProgram(kind: "sk_msg", path: options.objectPath)
        }
        for name in [DataPath.sockhashMap, DataPath.countersMap, DataPath.configMap] where spec.map(named: name) == nil {
            throw .missingMap(name: name, path: options.objectPath)
        }
        let cgroup = try Cgroup.resolve(options.cgroup)
        try recoverIncomplete()
        if case .loaded(let state) = installation() {
            throw .alreadyLoaded(pinDir: pins.directory, cgroup: state.cgroup)
        }
        collectDrainedMaps()
        testHook(.objectParsed)

        var undo = Undo(logger: logger)
        do {
            // Record in staging that this load creates the cgroup *before* creating it: a load
            // killed from here on leaves staging pins, and the next load or detach removes the
            // cgroup along with them (recoverIncomplete). Otherwise the next load would take the
            // cgroup for the user's and no detach would ever remove it.
            let staging = pins.relocated(to: pins.staging)
            BPFFileSystem.removeTree(staging.directory)
            undo.add("remove staging pins") { BPFFileSystem.removeTree(staging.directory) }
            let stateMap = try kernel { () throws(BPFError) in try LoadState.createMap() }
            var state = LoadState(cgroup: cgroup.path, createdCgroup: !cgroup.exists, object: options.objectPath, loadedAt: Date(),
                                  sockopsProgram: sockops.name, verdictProgram: verdict.name, sockhashMap: DataPath.sockhashMap)
            do { try state.store(in: stateMap) } catch { throw AcceleratorError.io(path: LoadState.mapName, reason: "\(error)") }
            try BPFFileSystem.makeDirectory(staging.maps)
            try BPFFileSystem.makeDirectory(staging.programs)
            try kernel { () throws(BPFError) in try stateMap.pin(at: staging.map(LoadState.mapName)) }

            let created = try cgroup.create()
            if created { undo.add("remove cgroup \(cgroup.path)") { _ = cgroup.removeIfEmpty() } }
            if created != state.createdCgroup { // someone else created it meanwhile
                state.createdCgroup = created
                do { try state.store(in: stateMap) } catch { throw AcceleratorError.io(path: LoadState.mapName, reason: "\(error)") }
            }
            testHook(.cgroupReady)
            var loadOptions = LoadedObject.Options()
            if let max = options.maxEntries { loadOptions.maxEntries[DataPath.sockhashMap] = max }
            let object = try kernel { () throws(BPFError) in try LoadedObject(spec, options: loadOptions) }
            for reason in object.btfFallbacks { logger.notice("BTF: \(reason)") }
            let sockhash = object.maps[DataPath.sockhashMap]!
            try kernel { () throws(BPFError) in
                try object.maps[DataPath.configMap]!.update(
                    key: UInt32(0).littleEndianBytes, value: DataPath.Config(policyMode: options.policyMode).bytes)
            }
            testHook(.objectLoaded)

            try kernel { () throws(BPFError) in
                try BPFSyscall.attach(program: object.programs[verdict.name]!.fd, to: sockhash.fd,
                                      type: AttachType.skMsgVerdict.rawValue, context: "attach \(verdict.name) to map \(sockhash.name)")
            }
            testHook(.verdictAttached)

            try kernel { () throws(BPFError) in
                for (name, map) in object.maps { try map.pin(at: staging.map(name)) }
                for (name, program) in object.programs { try program.pin(at: staging.program(name)) }
            }
            testHook(.pinnedInStaging)

            try BPFFileSystem.makeDirectory(parentDirectory(of: pins.directory))
            guard rename(staging.directory, pins.directory) == 0 else {
                throw AcceleratorError.io(path: pins.directory, reason: "cannot move pins into place: \(String(cString: strerror(errno)))")
            }
            undo.add("remove pins") { BPFFileSystem.removeTree(pins.directory) }
            testHook(.pinsInPlace)

            let cgroupFD = try cgroup.open()
            defer { try? cgroupFD.close() }
            try kernel { () throws(BPFError) in
                try BPFSyscall.attach(program: object.programs[sockops.name]!.fd, to: cgroupFD,
                                      type: AttachType.cgroupSockOps.rawValue, flags: .allowMulti,
                                      context: "attach \(sockops.name) to cgroup \(cgroup.path)")
            }
            testHook(.cgroupAttached)
            logger.debug("loaded", metadata: ["cgroup": "\(cgroup.path)", "pins": "\(pins.directory)"])
            return state
        } catch {
            undo.run()
            if let error = error as? AcceleratorError { throw error }
            throw .io(path: options.objectPath, reason: "\(error)")
        }
    }

    // MARK: detach

    /// What `detach` did.
    public struct DetachReport: Sendable {
        public var wasLoaded: Bool
        public var removedCgroup: Bool
        /// Sockets still in the map; when non-zero and not forced, the map is kept (unpinned from
        /// the main directory) until they close, so no redirected byte waiting to be read is freed.
        public var socketsStillOpen: Int
        public var drainingDirectory: String?
    }

    /// Detaches both programs and removes the pins. Safe to run again; safe under live traffic.
    @discardableResult
    public func detach(force: Bool = false) throws(AcceleratorError) -> DetachReport {
        try Privileges.requireRoot()
        guard BPFFileSystem.exists(pins.parentDirectory) else {
            return DetachReport(wasLoaded: false, removedCgroup: false, socketsStillOpen: 0, drainingDirectory: nil)
        }
        return try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try detachLocked(force: force) }
    }

    private func detachLocked(force: Bool) throws(AcceleratorError) -> DetachReport {
        var report = DetachReport(wasLoaded: false, removedCgroup: false, socketsStillOpen: 0, drainingDirectory: nil)
        try recoverIncomplete()
        if BPFFileSystem.exists(pins.directory) {
            report.wasLoaded = true
            let state = LoadState.load(pins: pins)
            // 1. Stop redirecting: from here every send takes the TCP path, in order behind the
            //    data already queued for the peer (the receive path drains that queue first).
            if let config = try? BPFMap(pinned: pins.map(DataPath.configMap)),
               let value = try? config.lookup(UInt32(0).littleEndianBytes) {
                var current = DataPath.Config(bytes: value)
                current.passthrough = true
                try? config.update(key: UInt32(0).littleEndianBytes, value: current.bytes)
            }
            // 2. No new sockets enter the map.
            if let state { detachSockops(state: state, layout: pins) }
            // 3. Free the map only when no socket is left in it, unless forced.
            let open = (try? BPFMap(pinned: pins.map(DataPath.sockhashMap)).keys().count) ?? 0
            report.socketsStillOpen = open
            if open == 0 || force {
                if open > 0 { evictSockets(layout: pins, state: state) }
                detachVerdict(layout: pins, state: state)
                BPFFileSystem.removeTree(pins.directory)
            } else {
                let id = (try? BPFMap(pinned: pins.map(DataPath.sockhashMap)).info().id) ?? UInt32(getpid())
                let target = pins.draining + "/\(id)"
                try BPFFileSystem.makeDirectory(pins.draining)
                guard rename(pins.directory, target) == 0 else {
                    throw .io(path: target, reason: "cannot move pins aside: \(String(cString: strerror(errno)))")
                }
                report.drainingDirectory = target
            }
            if let state, state.createdCgroup { report.removedCgroup = Cgroup(path: state.cgroup).removeIfEmpty() }
        }
        collectDrainedMaps(force: force)
        return report
    }

    // MARK: inspection

    /// Looks at the pins and the cgroup to tell what is installed.
    public func installation() -> Installation {
        guard BPFFileSystem.exists(pins.directory) else { return .none }
        guard let state = LoadState.load(pins: pins) else { return .incomplete(reason: "no state map in \(pins.maps)") }
        let cgroup = Cgroup(path: state.cgroup)
        guard cgroup.exists else { return .incomplete(reason: "cgroup \(state.cgroup) is gone") }
        let attached = Attachments.sockopsPrograms(cgroup: cgroup, sockhashPin: pins.map(state.sockhashMap))
        return attached.isEmpty ? .incomplete(reason: "no sock_ops program using our map is attached to \(state.cgroup)") : .loaded(state)
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
                // The socket may close between listing and lookup: then it is simply gone.
                guard let value = try? map.lookup(key) else { continue }
                let cookie = value.count >= 8 ? (0..<8).reduce(UInt64(0)) { $0 | UInt64(value[$1]) << ($1 * 8) } : nil
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
        let map = try map(DataPath.configMap)
        do { try map.update(key: UInt32(0).littleEndianBytes, value: config.bytes) } catch { throw .kernel(error) }
    }

    // MARK: internals

    /// Cleans up after a load that died midway: staging pins, or pins whose program never got attached.
    func recoverIncomplete() throws(AcceleratorError) {
        let staging = pins.relocated(to: pins.staging)
        if BPFFileSystem.exists(staging.directory) {
            logger.notice("removing pins of an interrupted load", metadata: ["dir": "\(staging.directory)"])
            cleanUp(layout: staging)
        }
        if case .incomplete(let reason) = installation() {
            logger.notice("removing an incomplete installation", metadata: ["reason": "\(reason)"])
            cleanUp(layout: pins)
        }
    }

    private func cleanUp(layout: PinLayout) {
        let state = LoadState.load(pins: layout)
        if let state {
            detachSockops(state: state, layout: layout)
            detachVerdict(layout: layout, state: state)
        }
        BPFFileSystem.removeTree(layout.directory)
        if let state, state.createdCgroup { _ = Cgroup(path: state.cgroup).removeIfEmpty() }
    }

    private func detachSockops(state: LoadState, layout: PinLayout) {
        Attachments.detachSockops(cgroup: Cgroup(path: state.cgroup), sockhashPin: layout.map(state.sockhashMap))
    }

    /// Deletes every socket from the SOCKHASH (forced detach): each socket drops its psock, with
    /// any redirected data it has not read, and goes back to plain TCP. Unpinning alone would free
    /// nothing while sockets live: each psock holds the sk_msg program, which holds the map.
    private func evictSockets(layout: PinLayout, state: LoadState?) {
        guard let map = try? BPFMap(pinned: layout.map(state?.sockhashMap ?? DataPath.sockhashMap)) else { return }
        for _ in 0..<3 { // keys() may miss entries that move while it iterates
            let keys = (try? map.keys()) ?? []
            if keys.isEmpty { return }
            for key in keys { _ = try? map.delete(key) }
        }
    }

    private func detachVerdict(layout: PinLayout, state: LoadState?) {
        let name = state?.verdictProgram ?? "sockmap_redirect"
        guard let program = try? BPFProgram(pinned: layout.program(name)),
              let map = try? BPFMap(pinned: layout.map(state?.sockhashMap ?? DataPath.sockhashMap)) else { return }
        try? BPFSyscall.detach(program: program.fd, from: map.fd, type: AttachType.skMsgVerdict.rawValue,
                               context: "detach \(name) from \(map.name)")
    }

    /// Frees maps kept by an earlier `detach` once their last socket has closed.
    func collectDrainedMaps(force: Bool = false) {
        let root = pins.draining
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for name in names {
            let layout = PinLayout(directory: root + "/" + name)
            let open = (try? BPFMap(pinned: layout.map(DataPath.sockhashMap)).keys().count) ?? 0
            if open == 0 || force {
                let state = LoadState.load(pins: layout)
                if open > 0 { evictSockets(layout: layout, state: state) }
                detachVerdict(layout: layout, state: state)
                BPFFileSystem.removeTree(layout.directory)
            }
        }
        if (try? FileManager.default.contentsOfDirectory(atPath: root))?.isEmpty == true { rmdir(root) }
    }

    /// Directories kept by `detach` because sockets were still open, with their socket counts.
    public func drainingMaps() -> [(directory: String, sockets: Int)] {
        let root = pins.draining
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().map { name in
            let layout = PinLayout(directory: root + "/" + name)
            return (layout.directory, (try? BPFMap(pinned: layout.map(DataPath.sockhashMap)).keys().count) ?? 0)
        }
    }

    /// Parses the object and sets its global variables as `options` asks.
    func parseObject(_ options: LoadOptions) throws(AcceleratorError) -> ObjectSpec {
        var spec = try parseObject(options.objectPath)
        for (name, value) in options.globals.sorted(by: { $0.key < $1.key }) {
            do { try spec.setGlobal(name, integer: value) } catch {
                throw .objectUnusable(path: options.objectPath, reason: "--set \(name)=\(value): \(error)")
            }
        }
        return spec
    }

    func parseObject(_ path: String) throws(AcceleratorError) -> ObjectSpec {
        do { return try ObjectSpec(path: path) } catch let error as ObjectError {
            throw .objectUnusable(path: path, reason: error.description)
        } catch {
            throw .objectUnusable(path: path, reason: "cannot read: \(error)")
        }
    }

    func kernel<T>(_ body: () throws(BPFError) -> T) throws(AcceleratorError) -> T {
        do { return try body() } catch { throw .kernel(error) }
    }

    private func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    private func testHook(_ step: LoadStep) {
        guard let text = ProcessInfo.processInfo.environment["SWIFT_SOCKMAP_TEST_KILL_AFTER_STEP"],
              let wanted = Int(text), wanted == step.rawValue else { return }
        kill(getpid(), SIGKILL)
    }
}

/// One socket in the SOCKHASH.
public struct SockhashEntry: Sendable, Equatable, Codable {
    public let key: SockKey
    /// The socket cookie (`SO_COOKIE`), when the map's values are 8 bytes.
    public let cookie: UInt64?
}

/// Undo actions for a multi-step operation, run newest first when it fails.
struct Undo {
    let logger: Logger
    private var actions: [(String, () -> Void)] = []

    init(logger: Logger) { self.logger = logger }

    mutating func add(_ what: String, _ action: @escaping () -> Void) { actions.append((what, action)) }

    func run() {
        for (what, action) in actions.reversed() {
            logger.debug("undo: \(what)")
            action()
        }
    }
}
