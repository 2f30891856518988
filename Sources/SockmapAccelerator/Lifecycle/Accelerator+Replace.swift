import BPFLoader
import BPFObject
import FoundationEssentials
import Glibc
import SystemPackage

extension Accelerator {
    /// Swaps the programs of a running installation for those of another object, without
    /// dropping a tracked socket: the maps (and so every socket in the SOCKHASH, the counters and
    /// the policy) are reused by name, the sk_msg program is re-attached to the SOCKHASH and the
    /// sock_ops program is replaced on the cgroup atomically (`BPF_F_REPLACE`).
    ///
    /// Sockets already in the map keep the verdict program they were inserted with (the kernel
    /// copies it into each socket), which uses the same maps, so their connections stay
    /// accelerated; sockets established after the swap get the new programs.
    @discardableResult
    public func replace(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        try Privileges.requireRoot()
        try KernelSupport.requireLoadable()
        try BPFFileSystem.ensureMounted(for: pins.directory)
        return try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try replaceLocked(options) }
    }

    /// `replace`, with the installation lock held (a plain `load` when nothing is loaded).
    private func replaceLocked(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        guard case .loaded(var state) = installation() else { return try loadLocked(options) }
        try KernelSupport.requireReplaceable()
        let (spec, sha256) = try parseObject(options)
        // The new programs must use the running installation's map, which keeps its sockets.
        let data = try SockmapObject(spec: spec, path: options.objectPath, mapName: options.mapName ?? state.sockhashMap)
        let cgroup = Cgroup(path: state.cgroup)
        try requireSameCgroup(options, running: state)
        let existing = try pinnedMapsToKeep(for: spec, sockmap: data.sockmap, options: options)
        let object = try loadNextToRunning(spec, existingMaps: existing, sockmap: data.sockmap, options: options)
        let running = try runningPrograms(of: state, on: cgroup)
        guard data.verdictAttachType == state.verdictAttachType else {
            throw .objectUnusable(path: options.objectPath, reason: "its verdict program is \(data.verdictAttachType), the running one \(state.verdictAttachType): detach and load instead")
        }
        try writeLocalNetworks(to: object.maps[DataPath.localNetworksMap], options: options, cgroup: cgroup)
        if let policy = object.maps[DataPath.policyMap], let config = object.maps[DataPath.configMap] {
            // An installation from before CONFIG_HAS_POLICY: its kept policy must still be looked up.
            try mapAccess { () throws(BPFMapError) in
                var current = DataPath.Config(bytes: try config.lookup(UInt32(0).littleEndianBytes) ?? [])
                current.hasPolicy = !((try? policy.keys()) ?? [[0]]).isEmpty
                try config.update(key: UInt32(0).littleEndianBytes, value: current.bytes)
            }
        }
        try swapPrograms(to: data, programs: object.programs, sockhash: object.maps[data.sockmap]!, from: running,
                         verdictAttachType: state.verdictAttachType, on: cgroup)
        try repin(object, created: object.maps.keys.filter { existing[$0] == nil }.sorted())
        state.adopt(data, object: options.objectPath)
        adoptListeners(of: object, cgroup: cgroup, into: &state)
        state.objectSHA256 = sha256
        if let stateMap = try? BPFMap(pinned: pins.map(LoadState.mapName)) {
            try? state.store(in: stateMap)
        }
        logger.debug("replaced programs", metadata: ["object": "\(options.objectPath)"])
        return state
    }

    /// `--replace` keeps the running installation's cgroup.
    private func requireSameCgroup(_ options: LoadOptions, running state: LoadState) throws(AcceleratorError) {
        if let wanted = options.cgroup, try Cgroup.resolve(wanted).path != state.cgroup {
            throw .objectUnusable(path: options.objectPath, reason: "--replace keeps the cgroup \(state.cgroup); detach and load to move to \(wanted)")
        }
    }

    /// Every pinned map the new object names (the SOCKHASH with its sockets, the counters, the
    /// policy and config), except global data, which must be the new object's (its constants,
    /// `--set` values and format strings belong to the new programs).
    private func pinnedMapsToKeep(for spec: ObjectSpec, sockmap: String, options: LoadOptions) throws(AcceleratorError) -> [String: BPFMap] {
        var existing: [String: BPFMap] = [:]
        for mapSpec in spec.maps where mapSpec.origin != .globalData && BPFFileSystem.exists(pins.map(mapSpec.name)) {
            existing[mapSpec.name] = try kernel { () throws(BPFError) in try BPFMap(pinned: pins.map(mapSpec.name)) }
        }
        guard existing[sockmap] != nil else {
            throw .objectUnusable(path: options.objectPath, reason: "the running installation has no pinned \(sockmap) to keep")
        }
        return existing
    }

    /// Loads the new object's programs (and its maps that are not kept) beside the running ones.
    /// The kept SOCKHASH and `sock_state` keep their capacity (the running load may have set them
    /// with `--max-entries`).
    private func loadNextToRunning(_ spec: ObjectSpec, existingMaps: [String: BPFMap], sockmap: String,
                                   options: LoadOptions) throws(AcceleratorError) -> LoadedObject {
        let object: LoadedObject
        var capacity: [String: UInt32] = [:]
        for name in [sockmap, DataPath.stateMap] {
            if let map = existingMaps[name] { capacity[name] = map.maxEntries }
        }
        do {
            var loadOptions = LoadedObject.Options(maxEntries: capacity, existingMaps: existingMaps, coreBTFPath: options.btfPath)
            loadOptions.optionalPrograms = DataPath.optionalPrograms
            object = try LoadedObject(spec, options: loadOptions)
        } catch {
            throw .objectUnusable(path: options.objectPath, reason: "cannot load it next to the running installation: \(error)")
        }
        for reason in object.btfFallbacks { logger.notice("BTF: \(reason)") }
        return object
    }

    /// The programs of the running installation: the sock_ops program found on the cgroup (by
    /// its map), and the pinned verdict program and stream parser, to restore if the swap fails.
    private struct RunningPrograms {
        let sockops: BPFProgram
        let verdict: BPFProgram?
        let parser: BPFProgram?
    }

    private func runningPrograms(of state: LoadState, on cgroup: Cgroup) throws(AcceleratorError) -> RunningPrograms {
        let sockops = Attachments.sockopsPrograms(cgroup: cgroup, sockhashPin: pins.map(state.sockhashMap))
        guard let first = sockops.first else { throw .notLoaded(pinDir: pins.directory) }
        return RunningPrograms(sockops: first, verdict: try? BPFProgram(pinned: pins.program(state.verdictProgram)),
                               parser: state.parserProgram.flatMap { try? BPFProgram(pinned: pins.program($0)) })
    }

    /// 1. New sockets get the new verdict program (attaching replaces the map's program).
    /// 2. The sock_ops program is swapped in place; if that fails, the old verdict program and
    ///    stream parser go back on the map.
    private func swapPrograms(to data: SockmapObject, programs: [String: BPFProgram], sockhash: BPFMap,
                              from running: RunningPrograms, verdictAttachType: AttachType,
                              on cgroup: Cgroup) throws(AcceleratorError) {
        try kernel { () throws(BPFError) in try Attachments.attachVerdict(of: data, programs: programs, to: sockhash) }
        let cgroupFD = try cgroup.open()
        defer { try? cgroupFD.close() }
        do {
            try programs[data.sockopsProgram]!.attach(toCgroup: cgroupFD, type: .cgroupSockOps, flags: [.allowMulti, .replace],
                                                      replacing: running.sockops,
                                                      context: "replace \(running.sockops.name) with \(data.sockopsProgram) on \(cgroup.path)")
        } catch {
            let oldPrograms = pins.programs
            if let oldParser = running.parser {
                _ = try? oldParser.attach(toMap: sockhash, type: .skSkbStreamParser, context: "restore \(oldParser.name) in \(oldPrograms)")
            }
            if let oldVerdict = running.verdict {
                _ = try? oldVerdict.attach(toMap: sockhash, type: verdictAttachType, context: "restore \(oldVerdict.name) in \(oldPrograms)")
            }
            throw .kernel(error)
        }
    }

    /// 3. Re-pin. A crash here leaves a working installation whose pins name the old programs;
    ///    it is still recognised (by its map) and detached cleanly.
    private func repin(_ object: LoadedObject, created: [String]) throws(AcceleratorError) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: pins.programs)) ?? [] {
            unlink(pins.programs + "/" + name)
        }
        try kernel { () throws(BPFError) in
            for (name, program) in object.programs { try program.pin(at: pins.program(name)) }
            for name in created {
                unlink(pins.map(name)) // an old global-data map stays alive while old programs use it
                try object.maps[name]!.pin(at: pins.map(name))
            }
        }
    }
}
