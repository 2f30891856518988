import BPFLoader
import Foundation
import SockmapAccelerator
import SockmapAgent
import TestSupport
import Testing

extension KernelIntegration {
    /// `swift-sockmap agent` as an operator runs it: on a port of its own, with its own cgroup
    /// and pin directory, traffic moved through the cgroup by this process's sockets.
    @Suite struct AgentTests {
        static func start(_ env: AcceleratedCgroup, _ extra: [String] = [], prefix: [String] = [],
                          environment: [String: String] = [:]) throws -> AgentProcess {
            let agent = try AgentProcess(["--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory] + extra,
                                         prefix: prefix, environment: environment)
            try #require(agent.awaitServing(), "the agent did not start serving: \(agent.text)")
            return agent
        }

        static func delta(_ after: [String: Double], _ before: [String: Double], _ name: String) -> Double? {
            guard let a = after[name], let b = before[name] else { return nil }
            return a - b
        }

        @Test("/metrics counts what the traffic did; promtool accepts the page; a real Prometheus ingests it")
        func metricsFollowTraffic() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let agent = try Self.start(env)
            defer { agent.stop() }
            #expect(try agent.get("/healthz").status == 200)
            #expect(try agent.get("/readyz").body == "ready\n")

            let before = try agent.metrics().samples
            let pair = try TCPPair.make(.ipv4, in: env)
            let moved = try DataPathTests.exchange(pair, rounds: 100)
            let (page, after) = try agent.metrics()
            #expect(Self.delta(after, before, "swift_sockmap_bytes_redirected_total") == Double(moved.bytes))
            #expect(Self.delta(after, before, "swift_sockmap_messages_redirected_total") ?? 0 >= Double(moved.messages))
            #expect(Self.delta(after, before, "swift_sockmap_sockets_inserted_total") == 2)
            #expect(Self.delta(after, before, "swift_sockmap_redirect_missed_total") == 0)
            #expect(after["swift_sockmap_sockhash_entries"] == 2)
            #expect(after["swift_sockmap_loaded"] == 1)
            #expect(after["swift_sockmap_ready"] == 1)
            // Every counter the library reads, under its name: the page is the per-CPU sums now.
            let counters = try env.counters()
            for slot in Counters.Slot.allCases {
                #expect(after["swift_sockmap_\(slot.snakeCaseName)_total"] == Double(counters[slot]), "\(slot)")
            }
            #expect(page.contains("cgroup=\"\(env.cgroup.path)\""))
            let head = try HTTPResult.get(port: agent.port, path: "/metrics", method: "HEAD")
            #expect(head.headers["content-type"] == MetricsPage.contentType)

            let promtool = try Tools.require("promtool", from: "Debian's prometheus")
            let check = try Tools.run(promtool, ["check", "metrics"], input: page)
            #expect(check.status == 0, "promtool check metrics: \(check.stdout) \(check.stderr)")

            let bytes = try #require(after["swift_sockmap_bytes_redirected_total"])
            let result = try Self.queryPrometheus(scraping: agent.port, query: "swift_sockmap_bytes_redirected_total",
                                                  until: { $0 == bytes })
            print("Prometheus query swift_sockmap_bytes_redirected_total: \(result)")
        }

        /// Starts Prometheus on loopback scraping the agent every second, queries its HTTP API until
        /// `accept` takes the value, and returns the API's answer.
        static func queryPrometheus(scraping port: Int, query: String, until accept: (Double) -> Bool) throws -> String {
            let prometheus = try Tools.require("prometheus", from: "Debian's prometheus")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agent-prometheus-\(getpid())-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: swift-sockmap
                    static_configs:
                      - targets: ["127.0.0.1:\(port)"]
                """
            try Data(config.utf8).write(to: directory.appendingPathComponent("prometheus.yml"))
            let webPort = try Tools.freePort()
            let server = Process()
            server.executableURL = URL(fileURLWithPath: prometheus)
            server.arguments = ["--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
                                "--web.listen-address=127.0.0.1:\(webPort)", "--log.level=warn"]
            let log = Pipe()
            server.standardOutput = FileHandle.nullDevice
            server.standardError = log
            try server.run()
            let collected = PipeCollector(log.fileHandleForReading)
            defer {
                server.terminate()
                server.waitUntilExit()
            }
            let path = "/api/v1/query?query=" + (query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query)
            let deadline = Date().addingTimeInterval(120)
            var last = ""
            while Date() < deadline {
                if let answer = try? HTTPResult.get(port: webPort, path: path), answer.status == 200 {
                    last = answer.body
                    struct Response: Decodable {
                        struct Data: Decodable {
                            struct Sample: Decodable { let metric: [String: String]; let value: [Value] }
                            let result: [Sample]
                        }
                        enum Value: Decodable {
                            case number(Double), text(String)
                            init(from decoder: any Decoder) throws {
                                let container = try decoder.singleValueContainer()
                                if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
                            }
                        }
                        let status: String
                        let data: Data
                    }
                    if let response = try? JSONDecoder().decode(Response.self, from: Data(answer.body.utf8)),
                       let sample = response.data.result.first, sample.metric["job"] == "swift-sockmap",
                       case .text(let text) = sample.value.last, let value = Double(text), accept(value) {
                        return answer.body
                    }
                }
                guard server.isRunning else { break }
                usleep(200_000)
            }
            Issue.record("Prometheus never returned an accepted \(query) (last answer: \(last); its log: \(collected.lines.suffix(5)))")
            return last
        }

        @Test("/readyz reports a missing cgroup attachment, map attachment or pin, and is ready again after SIGHUP")
        func readinessAndReload() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let notify = try NotifyListener()
            let agent = try Self.start(env, environment: ["NOTIFY_SOCKET": notify.path])
            defer { agent.stop() }
            #expect(notify.await("READY=1"))
            #expect(try agent.get("/readyz").status == 200)
            let state = try #require(env.accelerator.recordedState())
            let pins = env.accelerator.pins

            var reloads = 0
            func reloadAndExpectReady() throws {
                reloads += 1
                agent.signal(SIGHUP)
                #expect(agent.awaitMessage("reloaded", count: reloads), "no reload logged: \(agent.text)")
                #expect(notify.await("RELOADING=1"))
                let ready = try agent.get("/readyz")
                #expect(ready.status == 200, "\(ready.body)")
            }

            // 1. The sock_ops program taken off the cgroup behind the agent's back.
            let cgroupFD = try env.cgroup.open()
            for id in try CgroupAttachment.query(cgroup: cgroupFD, type: .cgroupSockOps) {
                try CgroupAttachment(program: BPFProgram(id: id), cgroup: cgroupFD, type: .cgroupSockOps).detach()
            }
            try cgroupFD.close()
            let noCgroup = try agent.get("/readyz")
            #expect(noCgroup.status == 503)
            #expect(noCgroup.body.hasPrefix("not ready: incomplete installation: no sock_ops program using our map is attached"), "\(noCgroup.body)")
            #expect(try agent.metrics().samples["swift_sockmap_ready"] == 0)
            try reloadAndExpectReady()

            // 2. The verdict program taken off the map.
            let verdict = try BPFProgram(pinned: pins.program(state.verdictProgram))
            try MapAttachment(program: verdict, map: BPFMap(pinned: pins.map(state.sockhashMap)), type: state.verdictAttachType).detach()
            let noVerdict = try agent.get("/readyz")
            #expect(noVerdict.status == 503)
            #expect(noVerdict.body == "not ready: \(state.verdictProgram) is not attached to map \(state.sockhashMap)\n")
            try reloadAndExpectReady()

            // 3. A pin removed.
            unlink(pins.program(state.verdictProgram))
            let noPin = try agent.get("/readyz")
            #expect(noPin.status == 503)
            #expect(noPin.body == "not ready: pin missing: \(pins.program(state.verdictProgram))\n")
            try reloadAndExpectReady()

            #expect(try agent.metrics().samples["swift_sockmap_agent_reloads_total{result=\"ok\"}"] == 3)
            // Reloaded means working: a new connection is accelerated.
            let before = try env.counters()
            let moved = try DataPathTests.exchange(try TCPPair.make(.ipv4, in: env), rounds: 20)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(moved.bytes))
            agent.signal(SIGTERM)
            #expect(agent.awaitExit() == 0)
            #expect(notify.await("STOPPING=1"))
        }

        @Test("SIGTERM leaves the installation: the connection stays accelerated, and the next agent adopts it")
        func restartKeepsAcceleration() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let first = try Self.start(env)
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 50)
            first.signal(SIGTERM)
            #expect(first.awaitExit() == 0)
            #expect(first.lines.contains { ($0["message"] as? String) == "leaving the installation in place" })
            guard case .loaded = env.accelerator.installation() else {
                Issue.record("the installation is gone after SIGTERM")
                return
            }
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory + "-agent"))

            // No agent runs: the same connection is still redirected.
            let whileAway = try env.counters()
            let movedAway = try DataPathTests.exchange(pair, rounds: 50)
            #expect(try env.counters().delta(since: whileAway).bytesRedirected == UInt64(movedAway.bytes))

            let second = try Self.start(env)
            defer { second.stop() }
            #expect(second.lines.contains { ($0["message"] as? String) == "adopted the running installation" }, "\(second.text)")
            let before = try second.metrics().samples
            #expect(before["swift_sockmap_bytes_redirected_total"] == Double(try env.counters().bytesRedirected))
            let moved = try DataPathTests.exchange(pair, rounds: 50)
            let after = try second.metrics().samples
            #expect(Self.delta(after, before, "swift_sockmap_bytes_redirected_total") == Double(moved.bytes))
            #expect(after["swift_sockmap_sockhash_entries"] == 2)
        }

        @Test("--detach-on-exit leaves nothing behind: no pins, no lock directory, no cgroup it created")
        func detachOnExit() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let agent = try Self.start(env, ["--detach-on-exit"])
            do {
                let pair = try TCPPair.make(.ipv4, in: env)
                let moved = try DataPathTests.exchange(pair, rounds: 20)
                #expect(try agent.metrics().samples["swift_sockmap_bytes_redirected_total"] == Double(moved.bytes))
            }
            // The closed connection's sockets leave the map as they close.
            _ = waitUntil(timeout: 10) { (try? env.accelerator.entries().count) == 0 }
            agent.signal(SIGTERM)
            #expect(agent.awaitExit() == 0)
            #expect(agent.lines.contains { ($0["message"] as? String) == "detached" }, "\(agent.text)")
            for path in [env.pinDirectory, env.pinDirectory + "-agent", env.pinDirectory + "-staging", env.pinDirectory + "-draining"] {
                #expect(!FileManager.default.fileExists(atPath: path), "\(path) is left")
            }
            #expect(!env.cgroup.exists)
        }

        @Test("bad input: one clear line, a non-zero exit, nothing left behind")
        func badInput() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            func expectNothingLeft() {
                #expect(!FileManager.default.fileExists(atPath: env.pinDirectory))
                #expect(!FileManager.default.fileExists(atPath: env.pinDirectory + "-agent"))
                #expect(!env.cgroup.exists)
            }
            let common = ["--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory]

            let external = try CommandRunner.run(KernelTestEnvironment.cliPath, ["agent", "--listen", "0.0.0.0:0"] + common)
            #expect(external.status == 64)
            #expect(external.stderr.split(separator: "\n").count == 1)
            #expect(external.stderr.hasPrefix("swift-sockmap: error: refusing to serve on 0.0.0.0:0: it is reachable from other hosts"), "\(external.stderr)")
            let notAddress = try CommandRunner.run(KernelTestEnvironment.cliPath, ["agent", "--listen", "example.com:80"] + common)
            #expect(notAddress.status == 64)
            #expect(notAddress.stderr.split(separator: "\n").count == 1)
            expectNothingLeft()

            let listener = TestSocket(fd: socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            try #require(bind(listener.fd, address) == 0 && listen(listener.fd, 1) == 0)
            let inUse = try CommandRunner.run(KernelTestEnvironment.cliPath, ["agent", "--listen", "127.0.0.1:\(listener.localPort)"] + common)
            #expect(inUse.status == 1)
            #expect(inUse.stderr == "swift-sockmap: error: cannot listen on 127.0.0.1:\(listener.localPort): address already in use\n")
            expectNothingLeft()

            let first = try Self.start(env)
            defer { first.stop() }
            let second = try CommandRunner.run(KernelTestEnvironment.cliPath, ["agent", "--listen", "127.0.0.1:0"] + common)
            #expect(second.status == 3)
            #expect(second.stderr == "swift-sockmap: error: another swift-sockmap agent already serves the pin directory \(env.pinDirectory): stop it first, or give this one another --pin-dir\n")
            // Another pin directory on the same cgroup: the cgroup is taken, and the failed agent
            // leaves no pins or lock directory of its own.
            let otherPins = env.pinDirectory + "-other"
            let sameCgroup = try CommandRunner.run(KernelTestEnvironment.cliPath,
                                                   ["agent", "--listen", "127.0.0.1:0", "--cgroup", env.cgroup.path, "--pin-dir", otherPins])
            #expect(sameCgroup.status == 3)
            #expect(sameCgroup.stderr.split(separator: "\n").count == 1)
            #expect(sameCgroup.stderr.contains("is already accelerated by another installation"), "\(sameCgroup.stderr)")
            #expect(!FileManager.default.fileExists(atPath: otherPins))
            #expect(!FileManager.default.fileExists(atPath: otherPins + "-agent"))
            // The first agent is undisturbed.
            #expect(try first.get("/readyz").status == 200)
        }

        @Test("an installation of another object gets the agent's programs (load --replace); its connection stays accelerated")
        func upgradeReplaces() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            try env.accelerator.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 10)
            // The same object with bytes appended: an "upgrade" with another hash.
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: PackageLayout.redirObject)))
            let oldHash = SHA256.hex(bytes)
            bytes += Array("upgrade".utf8)
            let upgraded = FileManager.default.temporaryDirectory.appendingPathComponent("agent-upgrade-\(getpid()).o")
            try Data(bytes).write(to: upgraded)
            defer { try? FileManager.default.removeItem(at: upgraded) }

            let agent = try Self.start(env, ["--object", upgraded.path])
            let replaced = agent.lines.first { ($0["message"] as? String) == "replaced the running installation's programs" }
            #expect(replaced?["old_sha256"] as? String == oldHash, "\(agent.text)")
            #expect(replaced?["sha256"] as? String == SHA256.hex(bytes))
            #expect(env.accelerator.recordedState()?.objectSHA256 == SHA256.hex(bytes))
            let before = try env.counters()
            let moved = try DataPathTests.exchange(pair, rounds: 20)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(moved.bytes))
            #expect(try agent.metrics().text.contains("object_sha256=\"\(SHA256.hex(bytes))\""))
            agent.stop()

            let again = try Self.start(env, ["--object", upgraded.path])
            defer { again.stop() }
            #expect(again.lines.contains { ($0["message"] as? String) == "adopted the running installation" }, "\(again.text)")
        }

        @Test("the DaemonSet's capabilities are enough: the agent loads, serves ready and accelerates with only those")
        func manifestCapabilitiesSuffice() throws {
            let capabilities = try DeploymentManifest.load().agentContainer.capabilitiesAdded
            let setpriv = try Tools.require("setpriv", from: "Debian's util-linux")
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            _ = try env.cgroup.create() // on a node, kubepods.slice exists before the agent
            let bounding = "-all," + capabilities.map { "+" + $0.lowercased() }.joined(separator: ",")
            let agent = try Self.start(env, ["--detach-on-exit"], prefix: [setpriv, "--bounding-set", bounding, "--inh-caps", "-all"])
            let status = try String(contentsOfFile: "/proc/\(agent.process.processIdentifier)/status", encoding: .utf8)
            let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }.map { String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            #expect(effective.flatMap { UInt64($0, radix: 16) }?.nonzeroBitCount == capabilities.count, "CapEff \(effective ?? "?")")
            #expect(try agent.get("/readyz").status == 200)
            let before = try agent.metrics().samples
            let moved = try DataPathTests.exchange(try TCPPair.make(.ipv4, in: env), rounds: 20)
            #expect(Self.delta(try agent.metrics().samples, before, "swift_sockmap_bytes_redirected_total") == Double(moved.bytes))
            _ = waitUntil(timeout: 10) { (try? env.accelerator.entries().count) == 0 }
            agent.signal(SIGTERM)
            #expect(agent.awaitExit() == 0, "\(agent.text)")
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory))
        }
    }
}

/// A Unix datagram socket standing in for systemd's NOTIFY_SOCKET.
final class NotifyListener {
    let path: String
    private let fd: Int32
    private var received: [String] = []

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-notify-\(getpid())-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw TestSocketError("bind \(path)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Waits (up to 30 s) for a datagram containing `text`; datagrams seen stay seen.
    func await(_ text: String) -> Bool {
        if received.contains(where: { $0.contains(text) }) { return true }
        let deadline = Date().addingTimeInterval(30)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let message = String(decoding: buffer[0..<n], as: UTF8.self)
            received.append(message)
            if message.contains(text) { return true }
        }
        return false
    }
}
