import BPFLoader
import BPFObject
import FoundationEssentials
import SystemPackage

/// The steps of `loadLocked`, in the order it runs them. Each step that leaves something behind
/// registers how to undo it in `undo`, which `loadLocked` runs if a later step fails.
extension Accelerator {
    /// Objects without swift-sockmap's own maps cannot take a policy.
    func requireOwnMapsForPolicy(_ options: LoadOptions, _ data: SockmapObject) throws(AcceleratorError) {
        if !data.providesOwnMaps, options.policyMode != .deny || !options.policyEntries.isEmpty {
            throw .notProvided(feature: "a policy", object: options.objectPath)
        }
    }

    /// Cleans up after a load that died midway, then refuses to load over a live installation
    /// (here or, with the same sock_ops program, on the same cgroup from another pin directory).
    func requireNoInstallation(on cgroup: Cgroup, program: String) throws(AcceleratorError) {
        try recoverIncomplete()
        switch installation() {
        case .loaded(let state): throw .alreadyLoaded(pinDir: pins.directory, cgroup: state.cgroup)
        case .unknown(let reason): throw .unverifiable(pinDir: pins.directory, reason: reason)
        case .none, .incomplete: break
        }
        try refuseSecondInstallation(on: cgroup, program: program)
        collectDrainedMaps(sweeping: true)
    }

    /// Creates the state map and pins it in a fresh staging directory.
    ///
    /// It records in staging that this load creates the cgroup *before* creating it: a load
    /// killed from here on leaves staging pins, and the next load or detach removes the cgroup
    /// along with them (`recoverIncomplete`). Otherwise the next load would take the cgroup for
    /// the user's and no detach would ever remove it.
    func stageState(cgroup: Cgroup, data: SockmapObject, options: LoadOptions, sha256: String, staging: PinLayout,
                    undo: inout Undo) throws(AcceleratorError) -> (LoadState, BPFMap) {
        BPFFileSystem.removeTree(staging.directory)
        undo.add("remove staging pins") { BPFFileSystem.removeTree(staging.directory) }
        let stateMap = try kernel { () throws(BPFError) in try LoadState.createMap() }
        var state = LoadState(cgroup: cgroup, object: options.objectPath, data: data)
        state.objectSHA256 = sha256
        try store(state, in: stateMap)
        try BPFFileSystem.makeDirectory(staging.maps)
        try BPFFileSystem.makeDirectory(staging.programs)
        try kernel { () throws(BPFError) in try stateMap.pin(at: staging.map(LoadState.mapName)) }
        return (state, stateMap)
    }

    /// Creates the cgroup if it is missing (removed again on undo when empty), correcting the
    /// state when someone else created it meanwhile.
    func createCgroup(_ cgroup: Cgroup, recordingIn state: inout LoadState, stateMap: BPFMap,
                      undo: inout Undo) throws(AcceleratorError) {
        let created = try cgroup.create()
        if created { undo.add("remove cgroup \(cgroup.path)") { _ = cgroup.removeIfEmpty() } }
        if created != state.createdCgroup {
            state.createdCgroup = created
            try store(state, in: stateMap)
        }
    }

    /// Creates the maps and loads the programs, then writes the config and the policy entries.
    func loadObject(_ spec: ObjectSpec, data: SockmapObject, options: LoadOptions) throws(AcceleratorError) -> LoadedObject {
        var loadOptions = LoadedObject.Options(coreBTFPath: options.btfPath)
        loadOptions.optionalPrograms = DataPath.optionalPrograms
        if let max = options.maxEntries {
            loadOptions.maxEntries[data.sockmap] = max
            // Our data path's per-socket state grows with the map (a foreign object has none).
            if spec.map(named: DataPath.stateMap) != nil { loadOptions.maxEntries[DataPath.stateMap] = DataPath.stateCapacity(forSockets: max) }
        }
        let object: LoadedObject
        do { object = try LoadedObject(spec, options: loadOptions) } catch {
            if let kernelError = error.kernelError { throw .kernel(kernelError) }
            throw .objectUnusable(path: options.objectPath, reason: error.description)
        }
        for reason in object.btfFallbacks { logger.notice("BTF: \(reason)") }
        for (name, reason) in object.skippedPrograms.sorted(by: { $0.key < $1.key }) {
            let without = switch name {
            case DataPath.adoptProgram: "listeners opened before load keep their connections on TCP until they listen again"
            case DataPath.socketsProgram: "dump-map shows sockets without their connections, and detach's sweep leaves unpaired ones in the map"
            default: "detach cannot sweep idle connections out of the map"
            }
            logger.notice("left out \(name) (\(reason)): \(without)")
        }
        try mapAccess { () throws(BPFMapError) in
            var config = DataPath.Config(policyMode: options.policyMode)
            config.hasPolicy = !options.policyEntries.isEmpty
            try object.maps[DataPath.configMap]?.update(key: UInt32(0).littleEndianBytes, value: config.bytes)
            if let policy = object.maps[DataPath.policyMap] {
                for entry in options.policyEntries { try policy.update(key: entry.key, value: UInt32(1).littleEndianBytes) }
            }
        }
        return object
    }

    /// Fills the data path's `local_nets` (when the object has one) with the operator's prefixes and
    /// what discovery finds now: the destinations a SYN may carry a pairing token toward. A
    /// replace rewrites it, picking up namespaces made since.
    func writeLocalNetworks(to map: BPFMap?, options: LoadOptions, cgroup: Cgroup) throws(AcceleratorError) {
        guard let map else { return }
        let networks = LocalNetworks.resolve(operatorPrefixes: options.localPrefixes, discover: options.discoverLocalNetworks, cgroup: cgroup)
        try mapAccess { () throws(BPFMapError) in try LocalNetworks.write(networks, to: map) }
        logger.debug("local networks", metadata: ["prefixes": "\(networks.map(\.description).joined(separator: ", "))"])
    }

    /// After the sock_ops program is attached: listeners of the cgroup opened before now get the
    /// callbacks that answer pairing tokens (``ListenerAdoption``). Never fails the load: a
    /// listener that cannot be adopted keeps its connections on TCP until it listens again.
    func adoptListeners(of object: LoadedObject, cgroup: Cgroup, into state: inout LoadState) {
        guard let program = object.programs[DataPath.adoptProgram], let cgroups = object.maps[DataPath.adoptMap] else { return }
        let iterator: IteratorLink
        do { iterator = try IteratorLink(program: program) } catch {
            logger.notice("cannot run \(DataPath.adoptProgram): \(error); listeners opened before load keep their connections on TCP until they listen again")
            return
        }
        let outcome = ListenerAdoption(iterator: iterator, cgroups: cgroups).run(cgroup: cgroup)
        state.listenersAdopted = outcome.adopted
        state.listenersNotAdopted = outcome.refused.count
        if let error = outcome.refused.first {
            logger.notice("\(outcome.refused.count) listeners opened before load cannot answer pairing tokens (bpf_setsockopt TCP_BPF_SOCK_OPS_CB_FLAGS: \(Errno(rawValue: error)); Linux 6.12 has it): their connections stay on TCP until they listen again")
        }
    }

    /// Pins every map and program of `object` under `staging`.
    func pin(_ object: LoadedObject, in staging: PinLayout) throws(AcceleratorError) {
        try kernel { () throws(BPFError) in
            for (name, map) in object.maps { try map.pin(at: staging.map(name)) }
            for (name, program) in object.programs { try program.pin(at: staging.program(name)) }
        }
    }

    /// Attaches the sock_ops program to the cgroup, next to any other (`BPF_F_ALLOW_MULTI`): the
    /// last step, after which new connections are accelerated.
    func attachSockops(of data: SockmapObject, programs: [String: BPFProgram], to cgroup: Cgroup) throws(AcceleratorError) {
        let cgroupFD = try cgroup.open()
        defer { try? cgroupFD.close() }
        try kernel { () throws(BPFError) in
            _ = try programs[data.sockopsProgram]!.attach(toCgroup: cgroupFD, type: .cgroupSockOps, flags: .allowMulti,
                                                          context: "attach \(data.sockopsProgram) to cgroup \(cgroup.path)")
        }
    }

    /// Writes `state` into the state map.
    private func store(_ state: LoadState, in stateMap: BPFMap) throws(AcceleratorError) {
        do { try state.store(in: stateMap) } catch { throw AcceleratorError.io(path: LoadState.mapName, reason: "\(error)") }
    }
}
