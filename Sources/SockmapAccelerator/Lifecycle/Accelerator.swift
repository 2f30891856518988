import BPFLoader
import BPFObject
import FoundationEssentials
import Glibc
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
        /// Prefixes a SYN may carry a pairing token toward, besides those discovered
        /// (`--local-prefix`): list only this host's addresses, since a token sent to another
        /// host leaves it.
        public var localPrefixes: [LocalNetwork] = []
        /// Whether `load` adds the networks of the host's and the cgroup's namespaces to
        /// `localPrefixes`.
        public var discoverLocalNetworks = true

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
    package enum LoadStep: Int, CaseIterable, Sendable {
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

    /// Loads the object, attaches its programs and pins everything, crash-safely: everything is
    /// pinned in a staging directory that is renamed into place, and attaching the sock_ops
    /// program to the cgroup is the commit point; an incomplete earlier load is removed first.
    /// Needs root; one load, detach or replace at a time per pin directory. Returns what it
    /// recorded.
    @discardableResult
    public func load(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        try Privileges.requireRoot()
        try KernelSupport.requireLoadable()
        try BPFFileSystem.ensureMounted(for: pins.directory)
        return try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try loadLocked(options) }
    }

    /// `load`, with the installation lock held: each step below in order; a failure after the
    /// checks undoes, newest first, what the steps before it did.
    func loadLocked(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        let (spec, sha256) = try parseObject(options)
        let data = try SockmapObject(spec: spec, path: options.objectPath, mapName: options.mapName)
        try requireOwnMapsForPolicy(options, data)
        let cgroup = try Cgroup.resolve(options.cgroup)
        try requireNoInstallation(on: cgroup, program: data.sockopsProgram)
        testHook(.objectParsed)

        var undo = Undo(logger: logger)
        do {
            let staging = pins.relocated(to: pins.staging)
            var (state, stateMap) = try stageState(cgroup: cgroup, data: data, options: options, sha256: sha256,
                                                   staging: staging, undo: &undo)
            try createCgroup(cgroup, recordingIn: &state, stateMap: stateMap, undo: &undo)
            testHook(.cgroupReady)
            let object = try loadObject(spec, data: data, options: options)
            try writeLocalNetworks(to: object.maps[DataPath.localNetworksMap], options: options, cgroup: cgroup)
            testHook(.objectLoaded)
            try kernel { () throws(BPFError) in
                try Attachments.attachVerdict(of: data, programs: object.programs, to: object.maps[data.sockmap]!)
            }
            testHook(.verdictAttached)
            try pin(object, in: staging)
            testHook(.pinnedInStaging)
            try movePinsIntoPlace(from: staging, undo: &undo)
            testHook(.pinsInPlace)
            try attachSockops(of: data, programs: object.programs, to: cgroup)
            testHook(.cgroupAttached)
            adoptListeners(of: object, cgroup: cgroup, into: &state)
            logger.debug("loaded", metadata: ["cgroup": "\(cgroup.path)", "pins": "\(pins.directory)"])
            return state
        } catch {
            undo.run()
            throw error
        }
    }

    /// Moves the staged pins to the pin directory in one rename: from here on the installation exists.
    private func movePinsIntoPlace(from staging: PinLayout, undo: inout Undo) throws(AcceleratorError) {
        try BPFFileSystem.makeDirectory(pins.parentDirectory)
        do { try HostSystem.move(staging.directory, to: pins.directory) } catch {
            throw AcceleratorError.systemCall(path: pins.directory, operation: "move pins into place", errno: error)
        }
        undo.add("remove pins") { [pins] in BPFFileSystem.removeTree(pins.directory) }
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
    func refuseSecondInstallation(on cgroup: Cgroup, program name: String) throws(AcceleratorError) {
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

    func mapAccess<T>(_ body: () throws(BPFMapError) -> T) throws(AcceleratorError) -> T {
        do { return try body() } catch { throw AcceleratorError(error) }
    }

    private func testHook(_ step: LoadStep) {
        guard let text = getenv("SWIFT_SOCKMAP_TEST_KILL_AFTER_STEP"),
              let wanted = Int(String(cString: text)), wanted == step.rawValue else { return }
        kill(getpid(), SIGKILL)
    }
}
