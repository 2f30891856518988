import BPFLoader
import Foundation
import Logging
import SystemPackage

/// Loads, inspects and removes the accelerator: the sock_ops program on a cgroup, the sk_msg
/// program on the SOCKHASH, and their pins in bpffs.
public struct Accelerator: Sendable {
    /// Where this instance pins its maps and programs.
    public let pins: PinLayout
    /// Where steps and recoveries are logged.
    public let logger: Logger

    /// An accelerator pinned under `pinDirectory`; nothing is read or loaded until a method asks.
    public init(pinDirectory: String = PinLayout.defaultDirectory, logger: Logger = Logger(label: "swift-sockmap")) {
        self.pins = PinLayout(directory: pinDirectory)
        self.logger = logger
    }

    /// What `load` should do.
    public struct LoadOptions: Sendable {
        /// The object file, or what to call `objectBytes` when they are given.
        public var objectPath: String
        /// The object itself (the embedded data path); nil reads `objectPath`.
        public var objectBytes: [UInt8]?
        /// cgroup path (absolute or relative to the cgroup2 mount); nil = `<mount>/swift-sockmap`.
        public var cgroup: String?
        /// Capacity of the SOCKHASH; nil keeps the object's `max_entries`.
        public var maxEntries: UInt32?
        /// Whether the policy list allows or denies (the list starts as `policyEntries`).
        public var policyMode: DataPath.PolicyMode
        /// Initial values of `.rodata`/`.data` variables (e.g. `debug` = 1 for trace output).
        public var globals: [String: Int64] = [:]
        /// Allow/deny list entries in place before the first connection is seen.
        public var policyEntries: [PolicyEntry] = []
        /// The SOCKHASH/SOCKMAP to use when the verdict program references none or several.
        public var mapName: String?
        /// The BTF file CO-RE relocations are resolved against; nil: the running kernel's.
        public var btfPath: String?

        /// Options to load `objectPath`; the others keep the object's and the default cgroup's.
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
        /// The object is parsed and its data path found.
        case objectParsed = 1
        /// The cgroup exists (created if needed, recorded in staging first).
        case cgroupReady
        /// Maps created and programs loaded.
        case objectLoaded
        /// The verdict program (and stream parser) is attached to the map.
        case verdictAttached
        /// Everything is pinned in the staging directory.
        case pinnedInStaging
        /// Staging renamed to the pin directory.
        case pinsInPlace
        /// The sock_ops program is attached to the cgroup: the commit point.
        case cgroupAttached
    }

    /// What is installed under the pin directory.
    public enum Installation: Sendable {
        /// Nothing is pinned.
        case none
        /// A complete installation: pins in place, the sock_ops program attached.
        case loaded(LoadState)
        /// Pins exist but the sock_ops program is not attached (a load that died midway).
        case incomplete(reason: String)
        /// Pins exist but whether their programs are attached cannot be told (a kernel query
        /// failed): nothing is removed automatically.
        case unknown(reason: String)
    }

    // MARK: load

    /// Loads the object, attaches its programs and pins everything, crash-safely (see
    /// ``LoadStep``); an incomplete earlier load is removed first. Needs root; one load, detach or
    /// replace at a time per pin directory. Returns what it recorded.
    @discardableResult
    public func load(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        try Privileges.requireRoot()
        try KernelSupport.requireLoadable()
        try BPFFileSystem.ensureMounted(for: pins.directory)
        return try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try loadLocked(options) }
    }

    /// `load`, with the installation lock held.
    func loadLocked(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        let (spec, sha256) = try parseObject(options)
        let data = try SockmapObject(spec: spec, path: options.objectPath, mapName: options.mapName)
        if !data.providesOwnMaps {
            if options.policyMode != .deny || !options.policyEntries.isEmpty {
                throw .notProvided(feature: "a policy", object: options.objectPath)
            }
        }
        let cgroup = try Cgroup.resolve(options.cgroup)
        try recoverIncomplete()
        switch installation() {
        case .loaded(let state): throw .alreadyLoaded(pinDir: pins.directory, cgroup: state.cgroup)
        case .unknown(let reason): throw .unverifiable(pinDir: pins.directory, reason: reason)
        case .none, .incomplete: break
        }
        try refuseSecondInstallation(on: cgroup, program: data.sockopsProgram)
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
            var state = LoadState(cgroup: cgroup, object: options.objectPath, data: data)
            state.objectSHA256 = sha256
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
            var loadOptions = LoadedObject.Options(coreBTFPath: options.btfPath)
            if let max = options.maxEntries { loadOptions.maxEntries[data.sockmap] = max }
            let object = try kernel { () throws(BPFError) in try LoadedObject(spec, options: loadOptions) }
            for reason in object.btfFallbacks { logger.notice("BTF: \(reason)") }
            let sockhash = object.maps[data.sockmap]!
            try kernel { () throws(BPFError) in
                try object.maps[DataPath.configMap]?.update(
                    key: UInt32(0).littleEndianBytes, value: DataPath.Config(policyMode: options.policyMode).bytes)
                if let policy = object.maps[DataPath.policyMap] {
                    for entry in options.policyEntries { try policy.update(key: entry.key, value: UInt32(1).littleEndianBytes) }
                }
            }
            testHook(.objectLoaded)

            try kernel { () throws(BPFError) in try Attachments.attachVerdict(of: data, programs: object.programs, to: sockhash) }
            testHook(.verdictAttached)

            try kernel { () throws(BPFError) in
                for (name, map) in object.maps { try map.pin(at: staging.map(name)) }
                for (name, program) in object.programs { try program.pin(at: staging.program(name)) }
            }
            testHook(.pinnedInStaging)

            try BPFFileSystem.makeDirectory(pins.parentDirectory)
            do { try HostSystem.move(staging.directory, to: pins.directory) } catch {
                throw AcceleratorError.systemCall(path: pins.directory, operation: "move pins into place", errno: error)
            }
            undo.add("remove pins") { BPFFileSystem.removeTree(pins.directory) }
            testHook(.pinsInPlace)

            let cgroupFD = try cgroup.open()
            defer { try? cgroupFD.close() }
            try kernel { () throws(BPFError) in
                _ = try object.programs[data.sockopsProgram]!.attach(toCgroup: cgroupFD, type: .cgroupSockOps, flags: .allowMulti,
                                                                     context: "attach \(data.sockopsProgram) to cgroup \(cgroup.path)")
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

    /// Parses the object (and hashes it) and sets its global variables as `options` asks.
    func parseObject(_ options: LoadOptions) throws(AcceleratorError) -> (spec: ObjectSpec, sha256: String) {
        let bytes: [UInt8]
        if let given = options.objectBytes {
            bytes = given
        } else {
            do { bytes = try HostSystem.readFile(options.objectPath) } catch {
                throw .objectUnusable(path: options.objectPath, reason: "cannot read: \(error)")
            }
        }
        var spec: ObjectSpec
        do { spec = try ObjectSpec(bytes: bytes) } catch { throw .objectUnusable(path: options.objectPath, reason: error.description) }
        for (name, value) in options.globals.sorted(by: { $0.key < $1.key }) {
            do { try spec.setGlobal(name, integer: value) } catch {
                throw .objectUnusable(path: options.objectPath, reason: "--set \(name)=\(value): \(error)")
            }
        }
        return (spec, SHA256.hex(bytes))
    }

    /// A second installation on the same cgroup would put every socket in two SOCKHASHes.
    private func refuseSecondInstallation(on cgroup: Cgroup, program name: String) throws(AcceleratorError) {
        guard cgroup.exists, let fd = try? cgroup.open() else { return }
        defer { try? fd.close() }
        for id in (try? CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps)) ?? [] {
            guard let program = try? BPFProgram(id: id) else { continue }
            // Kernel program names are cut at 15 characters.
            if program.name == BPFProgram.kernelName(name) {
                throw .cgroupTaken(cgroup: cgroup.path, program: program.name, id: id)
            }
        }
    }

    func kernel<T>(_ body: () throws(BPFError) -> T) throws(AcceleratorError) -> T {
        do { return try body() } catch { throw .kernel(error) }
    }

    private func testHook(_ step: LoadStep) {
        guard let text = getenv("SWIFT_SOCKMAP_TEST_KILL_AFTER_STEP"),
              let wanted = Int(String(cString: text)), wanted == step.rawValue else { return }
        kill(getpid(), SIGKILL)
    }
}
