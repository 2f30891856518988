import BPFLoader
import Foundation
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

    private func replaceLocked(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        guard case .loaded(var state) = installation() else { return try loadLocked(options) }
        try KernelSupport.requireReplaceable()
        let (spec, sha256) = try parseObject(options)
        // The new programs must use the running installation's map, which keeps its sockets.
        let data = try SockmapObject(spec: spec, path: options.objectPath, mapName: options.mapName ?? state.sockhashMap)
        let cgroup = Cgroup(path: state.cgroup)

        if let wanted = options.cgroup, try Cgroup.resolve(wanted).path != state.cgroup {
            throw .objectUnusable(path: options.objectPath, reason: "--replace keeps the cgroup \(state.cgroup); detach and load to move to \(wanted)")
        }

        // Maps: keep every pinned map the new object names (the SOCKHASH with its sockets, the
        // counters, the policy and config), except global data, which must be the new object's
        // (its constants, `--set` values and format strings belong to the new programs).
        var existing: [String: BPFMap] = [:]
        for mapSpec in spec.maps where mapSpec.origin != .globalData && BPFFileSystem.exists(pins.map(mapSpec.name)) {
            existing[mapSpec.name] = try kernel { () throws(BPFError) in try BPFMap(pinned: pins.map(mapSpec.name)) }
        }
        guard existing[data.sockmap] != nil else {
            throw .objectUnusable(path: options.objectPath, reason: "the running installation has no pinned \(data.sockmap) to keep")
        }
        let object: LoadedObject
        do {
            object = try LoadedObject(spec, options: .init(existingMaps: existing, coreBTFPath: options.btfPath))
        } catch {
            throw .objectUnusable(path: options.objectPath, reason: "cannot load it next to the running installation: \(error)")
        }
        for reason in object.btfFallbacks { logger.notice("BTF: \(reason)") }
        let maps = object.maps, programs = object.programs
        let created = maps.keys.filter { existing[$0] == nil }.sorted()
        let sockhash = maps[data.sockmap]!
        let oldSockops = Attachments.sockopsPrograms(cgroup: cgroup, sockhashPin: pins.map(state.sockhashMap))
        guard let oldSockopsProgram = oldSockops.first else { throw .notLoaded(pinDir: pins.directory) }
        let oldPrograms = pins.programs
        let oldVerdict = try? BPFProgram(pinned: pins.program(state.verdictProgram))
        let oldParser = state.parserProgram.flatMap { try? BPFProgram(pinned: pins.program($0)) }
        guard data.verdictAttachType == state.verdictAttachType else {
            throw .objectUnusable(path: options.objectPath, reason: "its verdict program is \(data.verdictAttachType), the running one \(state.verdictAttachType): detach and load instead")
        }

        // 1. New sockets get the new verdict program (attaching replaces the map's program).
        try kernel { () throws(BPFError) in try Attachments.attachVerdict(of: data, programs: programs, to: sockhash) }
        // 2. Swap the sock_ops program in place.
        let cgroupFD = try cgroup.open()
        defer { try? cgroupFD.close() }
        do {
            try programs[data.sockopsProgram]!.attach(toCgroup: cgroupFD, type: .cgroupSockOps, flags: [.allowMulti, .replace],
                                                      replacing: oldSockopsProgram,
                                                      context: "replace \(oldSockopsProgram.name) with \(data.sockopsProgram) on \(cgroup.path)")
        } catch {
            if let oldParser {
                _ = try? oldParser.attach(toMap: sockhash, type: .skSkbStreamParser, context: "restore \(oldParser.name) in \(oldPrograms)")
            }
            if let oldVerdict {
                _ = try? oldVerdict.attach(toMap: sockhash, type: state.verdictAttachType, context: "restore \(oldVerdict.name) in \(oldPrograms)")
            }
            throw .kernel(error)
        }
        // 3. Re-pin. A crash here leaves a working installation whose pins name the old programs;
        //    it is still recognised (by its map) and detached cleanly.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: pins.programs)) ?? [] {
            unlink(pins.programs + "/" + name)
        }
        try kernel { () throws(BPFError) in
            for (name, program) in programs { try program.pin(at: pins.program(name)) }
            for name in created {
                unlink(pins.map(name)) // an old global-data map stays alive while old programs use it
                try maps[name]!.pin(at: pins.map(name))
            }
        }
        state.adopt(data, object: options.objectPath)
        state.objectSHA256 = sha256
        if let stateMap = try? BPFMap(pinned: pins.map(LoadState.mapName)) {
            try? state.store(in: stateMap)
        }
        logger.debug("replaced programs", metadata: ["object": "\(options.objectPath)"])
        return state
    }
}
