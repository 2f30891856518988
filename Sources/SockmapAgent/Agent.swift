import Dispatch
import FoundationEssentials
import Glibc
import Logging
import NIOHTTP1
import SockmapAccelerator

/// `swift-sockmap agent`: ensures the installation (loads it, adopts a running one, or replaces
/// an older object), serves `/metrics`, `/healthz` and `/readyz`, reloads on SIGHUP and stops on
/// SIGTERM or SIGINT, leaving the installation in place unless told to detach.
///
/// Everything that touches the installation runs on one serial queue: startup, each HTTP
/// request's answer, the signal handlers. A scrape therefore never sees a reload half done, and
/// nothing runs in the background between requests.
package final class Agent: @unchecked Sendable { // mutable state is confined to `queue`
    /// What the agent is told on its command line.
    package struct Configuration: Sendable {
        package var listen: ListenAddress
        /// Serve on an address other hosts can reach (not loopback).
        package var allowExternal: Bool
        package var pinDirectory: String
        /// What to load (and, on SIGHUP, to replace the programs with).
        package var load: Accelerator.LoadOptions
        package var detachOnExit: Bool
        /// The binary's version, shown in the info metric.
        package var version: String

        package init(listen: ListenAddress, allowExternal: Bool, pinDirectory: String, load: Accelerator.LoadOptions,
                     detachOnExit: Bool, version: String) {
            self.listen = listen
            self.allowExternal = allowExternal
            self.pinDirectory = pinDirectory
            self.load = load
            self.detachOnExit = detachOnExit
            self.version = version
        }
    }

    private let configuration: Configuration
    private let accelerator: Accelerator
    private let logger: Logger
    private let queue = DispatchQueue(label: "swift-sockmap.agent")
    private let finished = DispatchSemaphore(value: 0)
    private var lock: AgentLock?
    private var server: HTTPServer?
    private var exitCode: Int32 = 0
    private var stopping = false
    private var reloadsSucceeded = 0
    private var reloadsFailed = 0
    private var lastReadiness: String?? = .none

    package init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        accelerator = Accelerator(pinDirectory: configuration.pinDirectory, logger: logger)
    }

    /// Starts, serves until SIGTERM or SIGINT, and returns the exit status. A failure to start
    /// throws after undoing what the start did (the lock, the listening socket): an installation
    /// the agent found is never touched by a failed start.
    package func run() throws(AgentError) -> Int32 {
        try start()
        finished.wait()
        server?.shutdown()
        lock?.release()
        logger.info("stopped", metadata: ["exit": "\(exitCode)"])
        return exitCode
    }

    private func start() throws(AgentError) {
        if !configuration.allowExternal, !configuration.listen.isLoopback { throw .externalAddress(configuration.listen) }
        do { try Privileges.requireRoot() } catch { throw .accelerator(error) }
        do { try BPFFileSystem.ensureMounted(for: configuration.pinDirectory) } catch { throw .accelerator(error) }
        let lock = try AgentLock(pins: accelerator.pins)
        installSignalHandlers()
        let server: HTTPServer
        do {
            server = try HTTPServer(address: configuration.listen, queue: queue) { [unowned self] method, path in
                answer(method, path)
            }
        } catch {
            lock.release()
            throw error
        }
        let ensured = queue.sync { () -> Result<Void, AgentError> in
            do throws(AgentError) { try ensureInstallation() } catch { return .failure(error) }
            self.lock = lock
            self.server = server
            return .success(())
        }
        if case .failure(let error) = ensured {
            server.shutdown()
            lock.release()
            throw error
        }
        logger.info("serving", metadata: ["address": "\(server.address)", "pins": "\(configuration.pinDirectory)",
                                          "endpoints": "/metrics /healthz /readyz"])
        SystemdNotify.send("READY=1\nSTATUS=serving on \(server.address)")
    }

    // MARK: the installation

    /// Loads when nothing (or a load that died midway) is there; adopts an installation of the
    /// same object; replaces the programs of one loaded from another object (an upgrade).
    private func ensureInstallation() throws(AgentError) {
        let options = configuration.load
        let hash = (options.objectBytes ?? (try? Array(Data(contentsOf: URL(fileURLWithPath: options.objectPath))))).map(SHA256.hex)
        do {
            switch accelerator.installation() {
            case .loaded(let state):
                if let wanted = options.cgroup, try Cgroup.resolve(wanted).path != state.cgroup {
                    throw AgentError.otherCgroup(pinDir: configuration.pinDirectory, running: state.cgroup, wanted: wanted)
                }
                if let hash, state.objectSHA256 == hash {
                    logger.info("adopted the running installation", metadata: ["cgroup": "\(state.cgroup)", "sha256": "\(hash)"])
                } else {
                    let replaced = try accelerator.replace(options)
                    logger.info("replaced the running installation's programs",
                                metadata: ["cgroup": "\(replaced.cgroup)", "old_sha256": "\(state.objectSHA256 ?? "unknown")",
                                           "sha256": "\(replaced.objectSHA256 ?? "unknown")"])
                }
            case .none, .incomplete:
                let state = try accelerator.load(options)
                logger.info("loaded", metadata: ["cgroup": "\(state.cgroup)", "object": "\(state.object)",
                                                 "sha256": "\(state.objectSHA256 ?? "unknown")"])
            case .unknown(let reason):
                throw AgentError.accelerator(.unverifiable(pinDir: configuration.pinDirectory, reason: reason))
            }
        } catch let error as AgentError {
            throw error
        } catch let error as AcceleratorError {
            throw .accelerator(error)
        } catch {
            throw .accelerator(.io(path: configuration.pinDirectory, reason: "\(error)"))
        }
    }

    /// SIGHUP: `load --replace` with the agent's options (a plain load when nothing is loaded).
    private func reload() {
        guard !stopping else { return }
        SystemdNotify.send(SystemdNotify.reloading)
        do {
            let state = try accelerator.replace(configuration.load)
            reloadsSucceeded += 1
            logger.info("reloaded", metadata: ["cgroup": "\(state.cgroup)", "sha256": "\(state.objectSHA256 ?? "unknown")"])
        } catch {
            reloadsFailed += 1
            logger.error("reload failed: \(error)")
        }
        SystemdNotify.send("READY=1")
    }

    /// SIGTERM, SIGINT: leave the installation (connections keep their fast path while no agent
    /// runs) or, with `--detach-on-exit`, detach it.
    private func stop(_ signal: Int32) {
        guard !stopping else { return }
        stopping = true
        SystemdNotify.send("STOPPING=1")
        logger.info("stopping", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
        if configuration.detachOnExit {
            do {
                let report = try accelerator.detach()
                logger.info("detached", metadata: ["idle_sockets_released": "\(report.idleSocketsReleased)",
                                                   "sockets_still_open": "\(report.socketsStillOpen)"])
            } catch {
                logger.error("detach failed: \(error)")
                exitCode = 1
            }
        } else {
            logger.info("leaving the installation in place", metadata: ["pins": "\(configuration.pinDirectory)"])
        }
        finished.signal()
    }

    /// SIGTERM, SIGINT and SIGHUP are blocked in every thread (threads started later inherit the
    /// mask, which is why this runs before the HTTP server starts its event loop) and taken by
    /// one thread in `sigwait`, which hands them to the queue: delivery does not depend on which
    /// thread the kernel picks or on how libdispatch implements signal sources on Linux.
    private func installSignalHandlers() {
        // A log reader that went away (a closed pipe) must not kill the agent mid-detach.
        signal(SIGPIPE, SIG_IGN)
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, number) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let waiter = SignalWaiter(signals: signals) { [unowned self] received in
            queue.async { received == SIGHUP ? self.reload() : self.stop(received) }
        }
        waiter.start()
    }

    // MARK: HTTP

    private func answer(_ method: HTTPMethod, _ path: String) -> HTTPReply {
        guard method == .GET || method == .HEAD else { return HTTPReply(.methodNotAllowed, "only GET and HEAD\n") }
        switch path {
        case "/metrics":
            var snapshot = MetricsSnapshot.collect(accelerator, version: configuration.version)
            snapshot.ready = readiness() == nil
            snapshot.reloadsSucceeded = reloadsSucceeded
            snapshot.reloadsFailed = reloadsFailed
            return HTTPReply(.ok, MetricsPage.render(snapshot), contentType: MetricsPage.contentType)
        case "/healthz":
            return HTTPReply(.ok, "ok\n")
        case "/readyz":
            if let problem = readiness() { return HTTPReply(.serviceUnavailable, "not ready: \(problem)\n") }
            return HTTPReply(.ok, "ready\n")
        case "/":
            return HTTPReply(.ok, "swift-sockmap agent: /metrics /healthz /readyz\n")
        default:
            return HTTPReply(.notFound, "no such endpoint: \(path) (try /metrics, /healthz or /readyz)\n")
        }
    }

    /// The readiness problem now, logged when it changes.
    private func readiness() -> String? {
        let problem = stopping ? "stopping" : Readiness.problem(of: accelerator)
        if lastReadiness != .some(problem) {
            if let problem { logger.warning("not ready: \(problem)") } else if lastReadiness != .none { logger.info("ready") }
            lastReadiness = .some(problem)
        }
        return problem
    }
}

/// The one thread that takes SIGTERM, SIGINT and SIGHUP (`sigwait`) for the rest of the process's
/// life and hands each to `deliver`. A plain pthread: the agent links FoundationEssentials only.
private final class SignalWaiter: @unchecked Sendable { // immutable once started; the thread owns it
    private let signals: sigset_t
    private let deliver: (Int32) -> Void

    init(signals: sigset_t, deliver: @escaping (Int32) -> Void) {
        self.signals = signals
        self.deliver = deliver
    }

    func start() {
        var thread = pthread_t()
        let waiter = Unmanaged.passRetained(self).toOpaque() // released never: the thread runs until exit
        _ = pthread_create(&thread, nil, { argument in
            let waiter = Unmanaged<SignalWaiter>.fromOpaque(argument!).takeUnretainedValue()
            var set = waiter.signals
            while true {
                var number: Int32 = 0
                guard sigwait(&set, &number) == 0 else { continue }
                waiter.deliver(number)
            }
        }, waiter)
        pthread_detach(thread)
    }
}
