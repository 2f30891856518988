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
        try BPFFileSystem.ensureMounted(for: pins.directory)
        return try InstallationLock.withLock(pins) { () throws(AcceleratorError) in try replaceLocked(options) }
    }

    private func replaceLocked(_ options: LoadOptions) throws(AcceleratorError) -> LoadState {
        guard case .loaded(var state) = installation() else { return try loadLocked(options) }
        let spec = try parseObject(options)
        guard let sockops = spec.programs.first(where: { $0.type == .sockOps }) else {
            throw .missingProgram(kind: "sockops", path: options.objectPath)
        }
        guard let verdict = spec.programs.first(where: { $0.type == .skMsg }) else {
            throw .missingProgram(kind: "sk_msg", path: options.objectPath)
        }
        let cgroup = Cgroup(path: state.cgroup)

        // Maps: reuse every pinned map the new object names (it must have the same layout), create the rest.
        var maps: [String: BPFMap] = [:]
        var created: [String] = []
        for mapSpec in spec.maps {
            if let existing = try? BPFMap(pinned: pins.map(mapSpec.name)) {
                guard existing.type == mapSpec.type, existing.keySize == Int(mapSpec.keySize),
                      existing.valueSize == Int(mapSpec.valueSize) else {
                    throw .objectUnusable(path: options.objectPath, reason: "map \(mapSpec.name) is \(existing.type) \(existing.keySize)/\(existing.valueSize) bytes in the running installation but \(mapSpec.type) \(mapSpec.keySize)/\(mapSpec.valueSize) in the new object; detach and load instead")
                }
                maps[mapSpec.name] = existing
            } else {
                maps[mapSpec.name] = try kernel { () throws(BPFError) in try BPFMap(creating: mapSpec) }
                created.append(mapSpec.name)
            }
        }
        guard let sockhash = maps[DataPath.sockhashMap] else { throw .missingMap(name: DataPath.sockhashMap, path: options.objectPath) }
        var programs: [String: BPFProgram] = [:]
        for programSpec in spec.programs {
            programs[programSpec.name] = try kernel { () throws(BPFError) in try BPFProgram(loading: programSpec, maps: maps) }
        }
        let oldSockops = Attachments.sockopsPrograms(cgroup: cgroup, sockhashPin: pins.map(state.sockhashMap))
        guard let oldSockopsProgram = oldSockops.first else { throw .notLoaded(pinDir: pins.directory) }
        let oldVerdict = try? BPFProgram(pinned: pins.program(state.verdictProgram))

        // 1. New sockets get the new verdict program (attaching replaces the map's program).
        try kernel { () throws(BPFError) in
            try BPFSyscall.attach(program: programs[verdict.name]!.fd, to: sockhash.fd, type: AttachType.skMsgVerdict.rawValue,
                                  context: "attach \(verdict.name) to map \(sockhash.name)")
        }
        // 2. Swap the sock_ops program in place.
        let cgroupFD = try cgroup.open()
        defer { try? cgroupFD.close() }
        do {
            try BPFSyscall.attach(program: programs[sockops.name]!.fd, to: cgroupFD, type: AttachType.cgroupSockOps.rawValue,
                                  flags: [.allowMulti, .replace], replacing: oldSockopsProgram.fd,
                                  context: "replace \(oldSockopsProgram.name) with \(sockops.name) on \(cgroup.path)")
        } catch {
            if let oldVerdict {
                try? BPFSyscall.attach(program: oldVerdict.fd, to: sockhash.fd, type: AttachType.skMsgVerdict.rawValue,
                                       context: "restore \(oldVerdict.name)")
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
            for name in created { try maps[name]!.pin(at: pins.map(name)) }
        }
        state.object = options.objectPath
        state.loadedAt = Date()
        state.sockopsProgram = sockops.name
        state.verdictProgram = verdict.name
        if let stateMap = try? BPFMap(pinned: pins.map(LoadState.mapName)) {
            try? state.store(in: stateMap)
        }
        logger.debug("replaced programs", metadata: ["object": "\(options.objectPath)"])
        return state
    }
}
