import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
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
            #expect(waitUntil(timeout: 30) { streams.progress.reduce(0, +) >= total / 10 || !streams.errors.isEmpty })
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
            #expect(detached.socketsStillOpen + Int(countersAtDetach.socketsReleased) + detached.idleSocketsReleased == 16)
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
            #expect(waitUntil(timeout: 5) { env.accelerator.drainingMaps().allSatisfy { $0.sockets == 0 } })
            let later = try env.accelerator.detach()
            #expect(!later.wasLoaded)
            #expect(!BPFFileSystem.exists(env.accelerator.pins.draining))
            #expect(waitUntil(timeout: 5) { (try? BPFMap(id: sockhashID)) == nil }, "sock_hash (id \(sockhashID)) still exists")
            #expect(!env.cgroup.exists)
        }

        @Test("detach with idle connections: their sockets leave the map, except those holding unread redirected bytes and the peer of a reader blocked in recv(); every byte arrives; a later detach sweeps those that became idle",
              .timeLimit(.minutes(1)))
        func detachReleasesIdleConnections() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            var pairs = try (0..<5).map { _ in try TCPPair.make(.ipv4, in: env) }
                + [try TCPPair.make(.ipv6, in: env), try TCPPair.make(.dualStack, in: env)]
            for pair in pairs { _ = try DataPathTests.exchange(pair, rounds: 5) }
            // Opened by id each time: a descriptor kept open would keep the map from being freed.
            let sockhashID = try env.accelerator.map(DataPath.sockhashMap).info().id
            let counters = try env.accelerator.map(DataPath.countersMap)
            func cookiesInMap() throws -> Set<UInt64> {
                let sockhash = try BPFMap(id: sockhashID)
                return Set(try sockhash.keys().compactMap { try sockhash.lookup($0)?.littleEndian(UInt64.self, at: 0) })
            }
            #expect(try cookiesInMap().count == 14)

            // pairs[0]: the server leaves 64 KiB redirected to it unread across detach;
            // pairs[2]: both sockets do.
            let held = Pattern.bytes(seed: 7, offset: 0, count: 64 << 10)
            try pairs[0].client.sendAll(held)
            try pairs[2].client.sendAll(held)
            try pairs[2].server.sendAll(held)
            // pairs[1]: a thread is blocked in the server's recv(). Its psock reference looks like
            // a send in flight, so the client, whose peer it is, must stay in the map.
            let blockedRead = Pattern.bytes(seed: 8, offset: 0, count: 1000)
            let reader = BlockedReader(pairs[1].server, count: blockedRead.count)
            #expect(waitUntil(timeout: 5) { reader.taskID.map(threadBlockedInReceive) ?? false }, "the reader is blocked in recv()")
            let before = try Counters.read(from: counters)
            #expect(before.messagesRedirected > 0 && before.socketsReleased == 0)

            let detached = try env.accelerator.detach()
            let remaining = try cookiesInMap()
            report("detach with 7 idle connections: \(detached.idleSocketsReleased) sockets swept out of the map, \(detached.socketsStillOpen) left")
            let kept: Set<UInt64> = [pairs[0].server.cookie, pairs[1].client.cookie, pairs[2].client.cookie, pairs[2].server.cookie]
            #expect(remaining == kept, "left in the map: \(remaining)")
            #expect(detached.idleSocketsReleased == 10)
            #expect(detached.socketsStillOpen == 4 && detached.drainingDirectory != nil)

            // Every byte arrives, over TCP from now on; released sockets no longer run sk_msg.
            #expect(try pairs[0].server.receiveExactly(held.count) == held)
            #expect(try pairs[2].server.receiveExactly(held.count) == held)
            #expect(try pairs[2].client.receiveExactly(held.count) == held)
            try pairs[1].client.sendAll(blockedRead)
            #expect(reader.wait() == blockedRead, "the blocked reader: \(reader.error ?? "")")
            for pair in pairs[3...] { _ = try DataPathTests.exchange(pair, rounds: 20) }
            let after = try Counters.read(from: counters)
            #expect(after.messagesRedirected == before.messagesRedirected, "redirecting after detach")
            #expect(after.keptOnTCP - before.keptOnTCP == 1, "only the client of pairs[1], still in the map, ran sk_msg")

            // pairs[2] has read everything and is idle: the next detach sweeps both its sockets out
            // of the draining map. The two whose peers left the map earlier stay until they close
            // (nothing shows any more whether their peers' last redirect is in flight).
            _ = try env.accelerator.detach()
            #expect(try cookiesInMap() == [pairs[0].server.cookie, pairs[1].client.cookie])
            for pair in pairs { _ = try DataPathTests.exchange(pair, rounds: 5) }
            pairs.removeAll()
            #expect(waitUntil(timeout: 5) { env.accelerator.drainingMaps().allSatisfy { $0.sockets == 0 } })
            _ = try env.accelerator.detach()
            #expect(!BPFFileSystem.exists(env.accelerator.pins.draining))
            #expect(waitUntil(timeout: 5) { (try? BPFMap(id: sockhashID)) == nil }, "sock_hash (id \(sockhashID)) still exists")
        }

        @Test("detach sweeps idle connections out of the map in other network namespaces too", .timeLimit(.minutes(1)))
        func detachSweepsOtherNamespaces() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            // Made by a thread that has left since: only `ip netns`'s name still points at it.
            let namespace = try NetworkNamespace(name: "sockmap-test-\(getpid())-sweep")
            defer { namespace.delete() }
            let elsewhere = try TCPPair.makeIPv4(listenerIn: env, clientIn: env, namespace: namespace)
            let here = try TCPPair.make(.ipv4, in: env)
            for pair in [elsewhere, here] { _ = try DataPathTests.exchange(pair, rounds: 5) }
            let entries = try env.accelerator.entries()
            #expect(entries.count == 4 && Set(entries.map { $0.key?.netnsCookie }).count == 2)

            let detached = try env.accelerator.detach()
            report("detach, idle connections in two namespaces: \(detached.idleSocketsReleased) sockets swept out, \(detached.socketsStillOpen) left")
            #expect(detached.idleSocketsReleased == 4 && detached.socketsStillOpen == 0 && detached.drainingDirectory == nil)
            for pair in [elsewhere, here] { _ = try DataPathTests.exchange(pair, rounds: 5) }
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
            #expect(waitUntil(timeout: 5) { (try? BPFMap(id: sockhashID)) == nil }, "sock_hash (id \(sockhashID)) still exists")

            for pair in pairs { _ = try DataPathTests.exchange(pair, rounds: 20) }
            #expect(try Counters.read(from: counters) == before)
        }
    }
}

/// A thread blocked in `recv()` on a socket until `count` bytes have come (it retries the
/// spurious `EAGAIN` of redirected sockets).
final class BlockedReader: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [UInt8]?
    private(set) var error: String?
    private var thread: pid_t?
    private let done = DispatchSemaphore(value: 0)

    /// `socket` must stay open until `wait()` returns.
    init(_ socket: TestSocket, count: Int) {
        nonisolated(unsafe) let socket = socket // only this thread uses it until then
        Thread { [self] in
            lock.withLock { thread = LibC.shared.gettid() }
            do {
                let bytes = try socket.receiveExactly(count, deadline: Date().addingTimeInterval(30))
                lock.withLock { received = bytes }
            } catch { lock.withLock { self.error = "\(error)" } }
            done.signal()
        }.start()
    }

    /// The reading thread's kernel id, once it has started.
    var taskID: pid_t? { lock.withLock { thread } }

    /// Waits for the thread; the bytes it read, or nil when it failed (see `error`).
    func wait() -> [UInt8]? {
        done.wait()
        return lock.withLock { received }
    }
}
