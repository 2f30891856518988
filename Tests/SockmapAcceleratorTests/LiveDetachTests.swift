import BPFLoader
import Foundation
import SockmapAccelerator
import Testing

extension KernelIntegration {
    /// `detach` under live connections: no byte lost, and the map freed once they are gone.
    @Suite struct LiveDetachTests {
        @Test("detach mid-stream: every byte arrives, counters stop, a later detach frees the draining map",
              .timeLimit(.minutes(2)))
        func detachWhileStreaming() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            var pairs = try (0..<8).map { _ in try TCPPair.make(.ipv4, in: env) }
            // Kept open across detach, which moves the pins away.
            let counters = try env.accelerator.map(DataPath.countersMap)
            let sockhashID = try env.accelerator.map(DataPath.sockhashMap).info().id

            // Large enough that detach starts while the streams are running.
            let streams = BidirectionalStreams(pairs: pairs, bytesPerStream: 192 << 20)
            streams.start()
            // On an early exit, stop the threads while their sockets are open; a no-op once they are done.
            defer { withExtendedLifetime(pairs) { streams.stop() } }
            let total = streams.streamCount * streams.bytesPerStream
            #expect(poll(timeout: 30) { streams.progress.reduce(0, +) >= total / 10 || !streams.errors.isEmpty })
            let progressAtDetach = streams.progress
            let detachStarted = Date()
            let detached = try env.accelerator.detach()
            let detachSeconds = Date().timeIntervalSince(detachStarted)
            let countersAtDetach = try Counters.read(from: counters)

            #expect(streams.wait(), "streams did not finish")
            #expect(streams.errors.isEmpty, "\(streams.errors)")
            #expect(progressAtDetach.contains { $0 < streams.bytesPerStream }, "every stream had finished before detach")
            #expect(countersAtDetach.messagesRedirected > 0, "nothing was redirected before detach")
            let countersAfter = try Counters.read(from: counters)
            #expect(countersAfter.messagesRedirected == countersAtDetach.messagesRedirected, "redirecting after detach")
            #expect(countersAfter.bytesRedirected == countersAtDetach.bytesRedirected)

            #expect(detached.wasLoaded)
            // Pass-through put every stream on TCP and, before the sock_ops program left, the
            // callbacks of their TCP traffic released the sockets whose redirect queues were empty
            // (docs/backpressure.md); the count no longer moves after detach.
            report("detach under 16 live streams: \(countersAtDetach.socketsReleased) sockets left the map, \(detached.socketsStillOpen) still in it at detach; detach took \(String(format: "%.2f", detachSeconds)) s")
            #expect(detached.socketsStillOpen + Int(countersAtDetach.socketsReleased) == 16)
            #expect(try Counters.read(from: counters).socketsReleased == countersAtDetach.socketsReleased)
            if detached.socketsStillOpen > 0 {
                let draining = try #require(detached.drainingDirectory)
                #expect(BPFFileSystem.exists(draining))
                #expect(permissions(env.accelerator.pins.draining) == 0o700)
            } else {
                #expect(detached.drainingDirectory == nil, "an empty map is freed at once")
            }
            #expect(!BPFFileSystem.exists(env.pinDirectory))

            // Once the connections are closed, any later detach frees the map.
            pairs.removeAll()
            #expect(poll { env.accelerator.drainingMaps().allSatisfy { $0.sockets == 0 } })
            let later = try env.accelerator.detach()
            #expect(!later.wasLoaded)
            #expect(!BPFFileSystem.exists(env.accelerator.pins.draining))
            #expect(poll { (try? BPFMap(id: sockhashID)) == nil }, "sock_hash (id \(sockhashID)) still exists")
            #expect(!env.cgroup.exists)
        }

        @Test("detach --force with idle connections: they go on working over plain TCP")
        func forcedDetachIdle() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pairs = try (0..<4).map { _ in try TCPPair.make(.ipv4, in: env) }
            for pair in pairs { _ = try DataPathTests.exchange(pair, rounds: 5) }
            let counters = try env.accelerator.map(DataPath.countersMap)
            let sockhashID = try env.accelerator.map(DataPath.sockhashMap).info().id
            let before = try Counters.read(from: counters)
            #expect(before.messagesRedirected > 0)

            let detach = try CommandRunner.cli("detach", "--force", "--pin-dir", env.pinDirectory)
            #expect(detach.status == 0, "\(detach.stderr)")
            #expect(!BPFFileSystem.exists(env.pinDirectory))
            #expect(!BPFFileSystem.exists(env.accelerator.pins.draining))
            #expect(poll { (try? BPFMap(id: sockhashID)) == nil }, "sock_hash (id \(sockhashID)) still exists")

            for pair in pairs { _ = try DataPathTests.exchange(pair, rounds: 20) }
            #expect(try Counters.read(from: counters) == before)
        }
    }
}
