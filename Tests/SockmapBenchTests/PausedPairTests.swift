import Foundation
import Testing
@testable import sockmap_bench

/// Paused mode's harness over real loopback TCP (no root: both groups plain, as in control mode).
@Suite("paused-pair harness")
struct PausedPairTests {
    /// What the client thread hands back.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<ChildReport, any Error>?

        func set(_ result: Result<ChildReport, any Error>) { lock.withLock { value = result } }
        func get() -> Result<ChildReport, any Error>? { lock.withLock { value } }
    }

    @Test func everyConnectionIsWrittenTimedAndCheckedByteForByte() throws {
        let timeouts = SocketTimeouts(idleSeconds: 10)
        let listener = try Socket.listen(on: .loopbackTCP(port: 0), timeouts: timeouts)
        let endpoint = try listener.boundEndpoint(like: .loopbackTCP(port: 0))
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let client = Thread {
            outcome.set(Result {
                var connections: [PausedPair.Connection] = []
                for index in 0..<(2 * PausedPair.pairs) {
                    let socket = try Socket.connect(to: endpoint, timeouts: timeouts)
                    connections.append(PausedPair.Connection(socket, isReference: index < PausedPair.pairs))
                }
                return try PausedPair.send(connections, writeSize: 4096, duration: 0.4, timeouts: timeouts)
            })
            done.signal()
        }
        client.start()
        // Accept order is connect order: the first `pairs` are the reference group, as in the client.
        var connections: [PausedPair.Connection] = []
        for index in 0..<(2 * PausedPair.pairs) {
            let socket = try listener.accept(timeouts: timeouts, noDelay: true)
            connections.append(PausedPair.Connection(socket, isReference: index < PausedPair.pairs))
        }
        let server = try PausedPair.receive(connections, writeSize: 4096, timeouts: timeouts)
        #expect(done.wait(timeout: .now() + 30) == .success)
        let sent = try #require(outcome.get()).get()   // the client checked every connection's count

        #expect(server.patternErrors == 0)
        let timed = sent.bytes + (sent.referenceBytes ?? 0)
        let received = server.bytes + (server.referenceBytes ?? 0)
        #expect(sent.bytes > 0 && (sent.referenceBytes ?? 0) > 0)
        #expect(received > timed)   // the server counts the untimed warm-up too
        // Each group wrote about `duration` seconds in all (slices end after the write that crosses them).
        #expect(abs(sent.seconds - 0.4) < 0.2)
        #expect(abs((sent.referenceSeconds ?? 0) - 0.4) < 0.2)
    }
}
