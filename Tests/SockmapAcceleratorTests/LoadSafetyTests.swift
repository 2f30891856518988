import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension Accelerator.LoadStep: CustomTestStringConvertible {
    public var testDescription: String { "\(rawValue) \(self)" }
}

extension KernelIntegration {
    /// `load` killed at every step, and `load` over an existing installation.
    @Suite struct LoadSafetyTests {
        static let killVariable = "SWIFT_SOCKMAP_TEST_KILL_AFTER_STEP"

        @Test("a load killed after any step leaves all or nothing; load and detach recover without help",
              arguments: Accelerator.LoadStep.allCases)
        func killedLoad(step: Accelerator.LoadStep) throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            try #require(!env.cgroup.exists)
            let object = PackageLayout.redirObject, cgroup = env.cgroup.path, pinDir = env.pinDirectory

            // 1. Killed load, then a plain load, then detach.
            try killLoad(after: step, env)
            let complete = try expectAllOrNothing(env, after: step)
            let load = try CommandRunner.cli("load", object, "--cgroup", cgroup, "--pin-dir", pinDir)
            if complete {
                #expect(load.status == 3, "\(load.stderr)")
                #expect(load.stderr.contains("already loaded"))
            } else {
                #expect(load.status == 0, "load after a load killed at step \(step.rawValue): \(load.stderr)")
            }
            #expect(!BPFFileSystem.exists(env.accelerator.pins.staging))
            let status = try CommandRunner.cli("status", "--pin-dir", pinDir)
            #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
            #expect(try attachedSockops(env).count == 1)
            try expectRedirected(env)
            try detachLeavesNothing(env)

            // 2. Killed load, then detach straight away.
            try killLoad(after: step, env)
            try detachLeavesNothing(env)
        }

        @Test("loading a different object while loaded is refused with exit 3 and leaves the installation alone")
        func reloadRefused() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let other = FileManager.default.temporaryDirectory.appendingPathComponent("other-redir-\(getpid()).o").path
            try? FileManager.default.removeItem(atPath: other)
            try FileManager.default.copyItem(atPath: PackageLayout.redirObject, toPath: other)
            defer { try? FileManager.default.removeItem(atPath: other) }
            let programsBefore = try attachedSockops(env)

            let again = try CommandRunner.cli("load", other, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory, "--max-entries", "16")
            #expect(again.status == 3)
            #expect(again.stderr.contains("already loaded"), "\(again.stderr)")
            #expect(again.stderr.split(separator: "\n").count == 1, "one line: \(again.stderr)")

            guard case .loaded(let state) = env.accelerator.installation() else {
                Issue.record("the installation is gone after a refused load")
                return
            }
            #expect(state.object == PackageLayout.redirObject)
            #expect(try attachedSockops(env) == programsBefore)
            #expect(try env.accelerator.map(DataPath.sockhashMap).info().maxEntries != 16)
            try expectRedirected(env)
        }

        // MARK: helpers

        private func killLoad(after step: Accelerator.LoadStep, _ env: AcceleratedCgroup) throws {
            let killed = try CommandRunner.cli(environment: [Self.killVariable: "\(step.rawValue)"],
                                               "load", PackageLayout.redirObject, "--cgroup", env.cgroup.path,
                                               "--pin-dir", env.pinDirectory)
            try #require(killed.signal == SIGKILL, "load was to die by SIGKILL after step \(step.rawValue); exit \(killed.status): \(killed.stderr)")
        }

        /// Asserts the state after a killed load is complete (true) or shows nothing attached (false).
        private func expectAllOrNothing(_ env: AcceleratedCgroup, after step: Accelerator.LoadStep) throws -> Bool {
            let attached = try attachedSockops(env)
            let status = try CommandRunner.cli("status", "--pin-dir", env.pinDirectory)
            if !attached.isEmpty {
                #expect(step == .cgroupAttached, "attached after a load killed at step \(step.rawValue)")
                #expect(attached.count == 1)
                #expect(status.status == 0, "attached but status says: \(status.stdout)\(status.stderr)")
                try expectRedirected(env)
                return true
            }
            #expect(step != .cgroupAttached, "the commit point passed but nothing is attached")
            #expect(status.status == 4, "\(status.stdout)\(status.stderr)")
            #expect(status.stdout.contains("not loaded") || status.stdout.contains("incomplete"), "\(status.stdout)")
            return false
        }

        /// Every sock_ops program on the test's cgroup (a fresh cgroup: any program there is ours).
        private func attachedSockops(_ env: AcceleratedCgroup) throws -> [ProgramID] {
            guard env.cgroup.exists else { return [] }
            let fd = try env.cgroup.open()
            defer { try? fd.close() }
            return try CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps)
        }

        private func expectRedirected(_ env: AcceleratedCgroup) throws {
            let pair = try TCPPair.make(.ipv4, in: env)
            let before = try env.counters()
            let moved = try DataPathTests.exchange(pair, rounds: 5)
            let delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected >= UInt64(moved.messages))
            #expect(delta.redirectMissed == 0)
        }

        private func detachLeavesNothing(_ env: AcceleratedCgroup) throws {
            let detach = try CommandRunner.cli("detach", "--pin-dir", env.pinDirectory)
            #expect(detach.status == 0, "\(detach.stderr)")
            let pins = env.accelerator.pins
            for leftover in [pins.directory, pins.staging, pins.draining] {
                #expect(!BPFFileSystem.exists(leftover), "\(leftover) is left after detach")
            }
            #expect(!env.cgroup.exists, "the cgroup load created is left after detach")
        }
    
        @Test("an installation whose sock_ops program vanished is recovered without dropping its sockets' data")
        func recoveryKeepsSockets() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 5)
            // Unread redirected data waits in the server's queue while the installation breaks.
            let pending = Pattern.bytes(seed: 7, offset: 0, count: 4096)
            try pair.client.sendAll(pending)
            let sockops = try env.accelerator.program("sockmap_sockops")
            let fd = try env.cgroup.open()
            try CgroupAttachment(program: sockops, cgroup: fd, type: .cgroupSockOps).detach()
            try? fd.close()
            guard case .incomplete = env.accelerator.installation() else {
                Issue.record("expected an incomplete installation")
                return
            }
            // The next load cleans up, but keeps the old map (and so the queued bytes) in draining:
            // the server stays in it; the idle client, whose queue is empty, is swept out.
            try env.accelerator.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            let draining = env.accelerator.drainingMaps()
            #expect(draining.count == 1)
            #expect(draining.first?.sockets == 1)
            if let directory = draining.first?.directory {
                let sockhash = try BPFMap(pinned: PinLayout(directory: directory).map(DataPath.sockhashMap))
                let cookies = try sockhash.keys().compactMap { try sockhash.lookup($0)?.littleEndian(UInt64.self, at: 0) }
                #expect(cookies == [pair.server.cookie])
            }
            #expect(try pair.server.receiveExactly(pending.count) == pending)
            _ = try DataPathTests.exchange(pair, rounds: 5)
        }
    }
}
