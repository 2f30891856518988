import BPFLoader
import FoundationEssentials
import Glibc

extension Accelerator {
    /// What `detach` did.
    public struct DetachReport: Sendable {
        /// Whether something was installed in the pin directory.
        public var wasLoaded: Bool
        /// Whether the cgroup the load had created was removed (it was left empty).
        public var removedCgroup: Bool
        /// Sockets still in the map; when non-zero and not forced, the map is kept (unpinned from
        /// the main directory) until they close, so no redirected byte waiting to be read is freed.
        public var socketsStillOpen: Int
        /// Where the kept map's pins moved (`<pin-dir>-draining/<map id>`), when it was kept.
        public var drainingDirectory: String?
        /// Sockets of idle connections taken out of the map (by the sweep program), before the
        /// sock_ops program left or from maps kept by an earlier detach: they run at plain TCP
        /// speed from then on.
        public var idleSocketsReleased: Int = 0
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
        if case .unknown(let reason) = installation(), !force {
            throw .unverifiable(pinDir: pins.directory, reason: reason)
        }
        if BPFFileSystem.exists(pins.directory) {
            report.wasLoaded = true
            let state = LoadState.load(pins: pins)
            let retired = try retire(pins, state: state, force: force)
            report.socketsStillOpen = retired.openSockets ?? 0
            report.drainingDirectory = retired.drainingDirectory
            report.idleSocketsReleased = retired.idleReleased
            if let state, state.createdCgroup { report.removedCgroup = Cgroup(path: state.cgroup).removeIfEmpty() }
        }
        report.idleSocketsReleased += collectDrainedMaps(force: force, sweeping: true)
        return report
    }

    /// Takes an installation out of service without losing a byte:
    /// 1. pass-through: from here every send takes the TCP path, in order behind the data already
    ///    queued for the peer (the receive path drains that queue first); connections that are
    ///    moving data then leave the map (plain TCP speed) while the sock_ops program is still
    ///    there to release them, which `detach` waits for, briefly (`awaitRelease`); idle
    ///    connections, which have no traffic to do that, are then swept out (`IdleSweep`);
    /// 2. no new socket enters the map (our sock_ops programs leave the cgroup);
    /// 3. the map is freed only when no socket is left in it (or when forced, after evicting them);
    ///    otherwise, or when that cannot be told, its pins move to `<pin-dir>-draining/<id>`.
    func retire(_ layout: PinLayout, state: LoadState?, force: Bool) throws(AcceleratorError)
        -> (openSockets: Int?, drainingDirectory: String?, idleReleased: Int) {
        let sockhash = try? BPFMap(pinned: layout.map(state?.sockhashMap ?? DataPath.sockhashMap))
        var stopped = false
        if let config = try? BPFMap(pinned: layout.map(DataPath.configMap)),
           let value = try? config.lookup(UInt32(0).littleEndianBytes) {
            var current = DataPath.Config(bytes: value)
            current.passthrough = true
            stopped = (try? config.update(key: UInt32(0).littleEndianBytes, value: current.bytes)) != nil
        }
        var idleReleased = 0
        if stopped, let sockhash {
            Self.awaitRelease(sockhash)
            idleReleased = sweepIdle(layout, sockhash: sockhash, cgroup: state.map { Cgroup(path: $0.cgroup) })
        }
        if let state {
            Attachments.detachSockops(cgroup: Cgroup(path: state.cgroup), sockhashPin: layout.map(state.sockhashMap))
        }
        let open = sockhash.flatMap { try? $0.keys().count }
        if open == 0 || (force && sockhash != nil) || sockhash == nil {
            if let open, open > 0, let sockhash { evictSockets(sockhash) }
            Attachments.detachVerdict(layout: layout, state: state)
            BPFFileSystem.removeTree(layout.directory)
            return (open, nil, idleReleased)
        }
        if !stopped { logger.warning("could not switch \(layout.directory) to pass-through; its sockets keep redirecting until they close") }
        var id = "\(getpid())"
        if let info = try? sockhash?.info() { id = "\(info.id)" }
        let target = pins.draining + "/\(id)"
        try BPFFileSystem.makeDirectory(pins.draining)
        do { try HostSystem.move(layout.directory, to: target) } catch {
            throw .systemCall(path: target, operation: "move pins aside", errno: error)
        }
        return (open, target, idleReleased)
    }

    /// Whether the installation at `layout` has pass-through on (every send takes TCP), which a
    /// sweep needs: a socket's peer seen idle then never redirects again.
    static func passesThrough(_ layout: PinLayout) -> Bool {
        guard let config = try? BPFMap(pinned: layout.map(DataPath.configMap)),
              let value = try? config.lookup(UInt32(0).littleEndianBytes) else { return false }
        return DataPath.Config(bytes: value).passthrough
    }

    /// Releases the idle connections of a retiring installation whose object has the sweep
    /// iterator (`bpf/redir.c` does), in the caller's network namespace and in the others its
    /// sockets may live in (`NetworkNamespaces`). Returns how many sockets left the map; 0 when
    /// the iterator is missing or the kernel refuses it (the connections then stay in the map
    /// until they close).
    private func sweepIdle(_ layout: PinLayout, sockhash: BPFMap, cgroup: Cgroup?) -> Int {
        guard let program = try? BPFProgram(pinned: layout.program(DataPath.sweepProgram)) else { return 0 }
        let iterator: IteratorLink
        do { iterator = try IteratorLink(program: program) } catch {
            logger.warning("cannot run \(DataPath.sweepProgram): \(error); idle connections stay in the map until they close")
            return 0
        }
        let records = (try? BPFProgram(pinned: layout.program(DataPath.socketsProgram))).flatMap { try? IteratorLink(program: $0) }
        let sweep = IdleSweep(iterator: iterator, sockhash: sockhash, recordsIterator: records,
                              namespaces: NetworkNamespaces.others(than: cgroup))
        return sweep.run()
    }

    /// Waits until the map is empty, or has not shrunk for `patience` seconds, or `limit` seconds
    /// have passed. With pass-through on, the sock_ops callbacks of a connection's TCP traffic
    /// take both its sockets out of the map once nothing redirected to either is left unread
    /// (docs/backpressure.md); after the sock_ops program has left the cgroup nothing releases
    /// them, and they would stay on the slower in-map path until they close. Idle connections
    /// have no traffic, so the wait stops when the map stops shrinking.
    static func awaitRelease(_ sockhash: BPFMap, limit: TimeInterval = 1, patience: TimeInterval = 0.2) {
        let deadline = Date().addingTimeInterval(limit)
        var last = Int.max, lastChange = Date()
        while Date() < deadline, let open = try? sockhash.keys().count, open > 0 {
            if open < last { last = open; lastChange = Date() }
            if Date().timeIntervalSince(lastChange) >= patience { return }
            usleep(10_000)
        }
    }

    /// Deletes every socket from the SOCKHASH (forced detach): each socket drops its psock, with
    /// any redirected data it has not read, and goes back to plain TCP. Unpinning alone would free
    /// nothing while sockets live: each psock holds the sk_msg program, which holds the map.
    private func evictSockets(_ map: BPFMap) {
        for _ in 0..<3 { // keys() may miss entries that move while it iterates
            let keys = (try? map.keys()) ?? []
            if keys.isEmpty { return }
            for key in keys { _ = try? map.delete(key) }
        }
    }

    /// Frees maps kept by an earlier `detach` once their last socket has closed (all of them
    /// when forced). With `sweeping` (detach and load; status only looks), first sweeps out the
    /// sockets that have become idle since (`IdleSweep`: for example one that has read the
    /// redirected bytes it held back then), and returns how many left. A map whose sockets
    /// cannot be counted is kept.
    @discardableResult
    func collectDrainedMaps(force: Bool = false, sweeping: Bool = false) -> Int {
        var released = 0
        let root = pins.draining
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return 0 }
        for name in names {
            let layout = PinLayout(directory: root + "/" + name)
            let state = LoadState.load(pins: layout)
            let sockhash = try? BPFMap(pinned: layout.map(state?.sockhashMap ?? DataPath.sockhashMap))
            if sweeping, !force, let sockhash, Self.passesThrough(layout) {
                released += sweepIdle(layout, sockhash: sockhash, cgroup: state.map { Cgroup(path: $0.cgroup) })
            }
            let open = sockhash.flatMap { try? $0.keys().count }
            guard open == 0 || force || sockhash == nil else { continue }
            if let sockhash, open ?? 1 > 0 { evictSockets(sockhash) }
            Attachments.detachVerdict(layout: layout, state: state)
            BPFFileSystem.removeTree(layout.directory)
        }
        if (try? FileManager.default.contentsOfDirectory(atPath: root))?.isEmpty == true { try? HostSystem.removeDirectory(root) }
        return released
    }

    /// Directories kept by `detach` because sockets were still open, with their socket counts
    /// (nil when they cannot be counted).
    public func drainingMaps() -> [(directory: String, sockets: Int?)] {
        let root = pins.draining
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().map { name in
            let layout = PinLayout(directory: root + "/" + name)
            let sockmap = LoadState.load(pins: layout)?.sockhashMap ?? DataPath.sockhashMap
            return (layout.directory, (try? BPFMap(pinned: layout.map(sockmap))).flatMap { try? $0.keys().count })
        }
    }

    /// Cleans up after a load that died midway: staging pins, or pins whose program never got
    /// attached. Sockets still in such a map are retired like `detach` does, never dropped.
    func recoverIncomplete() throws(AcceleratorError) {
        let staging = pins.relocated(to: pins.staging)
        if BPFFileSystem.exists(staging.directory) {
            logger.notice("removing pins of an interrupted load", metadata: ["dir": "\(staging.directory)"])
            try clean(staging)
        }
        if case .incomplete(let reason) = installation() {
            logger.notice("removing an incomplete installation", metadata: ["reason": "\(reason)"])
            try clean(pins)
        }
    }

    private func clean(_ layout: PinLayout) throws(AcceleratorError) {
        let state = LoadState.load(pins: layout)
        _ = try retire(layout, state: state, force: false)
        if let state, state.createdCgroup { _ = Cgroup(path: state.cgroup).removeIfEmpty() }
    }
}
