import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    @Suite struct DataPathTests {
        /// Ping-pong in both directions with several message sizes; every byte compared.
        static func exchange(_ pair: TCPPair, rounds: Int = 200, sizes: [Int] = [1, 64, 1000, 16384, 65536]) throws -> (messages: Int, bytes: Int) {
            var messages = 0, bytes = 0
            for round in 0..<rounds {
                let size = sizes[round % sizes.count]
                let request = Pattern.bytes(seed: 1, offset: round, count: size)
                try pair.client.sendAll(request)
                #expect(try pair.server.receiveExactly(size) == request)
                let reply = Pattern.bytes(seed: 2, offset: round, count: size)
                try pair.server.sendAll(reply)
                #expect(try pair.client.receiveExactly(size) == reply)
                messages += 2
                bytes += 2 * size
            }
            return (messages, bytes)
        }

        @Test("traffic inside the cgroup is redirected, in order, byte for byte", arguments: [TCPPair.Family.ipv4, .ipv6, .dualStack])
        func redirected(family: TCPPair.Family) throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(family, in: env)
            let before = try env.counters()
            let moved = try Self.exchange(pair)
            let delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected >= UInt64(moved.messages))
            #expect(delta.bytesRedirected == UInt64(moved.bytes))
            #expect(delta.redirectMissed == 0)
            #expect(try env.counters().socketsInserted == 2)
        }

        @Test("dump shows both ends of a live connection, with their socket cookies")
        func entriesShowBothEnds() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try Self.exchange(pair, rounds: 2)
            let entries = try env.accelerator.entries()
            #expect(entries.count == 2)
            let client = try #require(entries.first { $0.key?.localPort == pair.client.localPort })
            let server = try #require(entries.first { $0.key?.localPort == pair.server.localPort })
            #expect(client.key?.remotePort == pair.server.localPort)
            #expect(server.key?.remotePort == pair.client.localPort)
            #expect(client.peerCookie == server.cookie && server.peerCookie == client.cookie, "paired both ways by cookie")
            #expect(client.key?.local == "127.0.0.1:\(pair.client.localPort)")
            #expect(client.cookie == pair.client.cookie)
            #expect(server.cookie == pair.server.cookie)
            #expect(client.key?.netnsCookie == server.key?.netnsCookie)
            #expect((client.key?.netnsCookie ?? 0) != 0)
        }

        @Test("a connection whose sockets have sent nothing yet shows both ends paired; the connecting side reads its peer (and drops its token) at its first send or its close", arguments: [false, true])
        func idleConnectionShowsItsPair(closeFirst: Bool) throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pending = try env.accelerator.map("pending")
            let pair = try TCPPair.make(.ipv4, in: env)
            #expect(try waitUntil(timeout: 2) { try env.accelerator.entries().count == 2 }, "both sockets entered the map")
            let entries = try env.accelerator.entries()
            let client = try #require(entries.first { $0.cookie == pair.client.cookie })
            let server = try #require(entries.first { $0.cookie == pair.server.cookie })
            #expect(client.peerCookie == server.cookie && server.peerCookie == client.cookie,
                    "the accepting side's record names the pair before the connecting side knows it")
            #expect(client.key?.remotePort == pair.server.localPort && server.key?.remotePort == pair.client.localPort)
            #expect(try pending.keys().count == 1, "the claimed token waits for the connecting side's first send")
            if closeFirst {
                pair.client.close()
                #expect(try pair.server.receiveToEnd().isEmpty, "the FIN arrives")
            } else {
                let before = try env.counters()
                _ = try Self.exchange(pair, rounds: 1, sizes: [64])
                let delta = try env.counters().delta(since: before)
                #expect(delta.bytesRedirected == 128 && delta.redirectMissed == 0, "the first send from either side is redirected")
            }
            #expect(try pending.keys().isEmpty, "the token went with the first send or the FIN")
        }

        @Test("a socket that has shut its sending side keeps its record until it closes: dump-map shows the pair, its peer's bytes still arrive redirected, and both states go at TCP_CLOSE")
        func halfClosedKeepsItsRecord() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let states = try env.accelerator.map(DataPath.stateMap)
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try Self.exchange(pair, rounds: 1, sizes: [64])
            try #require(shutdown(pair.client.fd, Int32(SHUT_WR)) == 0)
            #expect(try pair.server.receiveToEnd().isEmpty, "the FIN arrives")
            let client = try env.accelerator.entries().first { $0.cookie == pair.client.cookie }
            #expect(client?.peerCookie == pair.server.cookie, "the half-closed client still shows its pair")
            let before = try env.counters()
            let reply = [UInt8](repeating: 0x5A, count: 1000)
            try pair.server.sendAll(reply)
            #expect(try pair.client.receiveExactly(reply.count) == reply)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(reply.count), "redirected into the half-closed socket")
            pair.client.close()
            pair.server.close()
            #expect(try waitUntil(timeout: 5) { try states.keys().isEmpty }, "both states went at their TCP_CLOSE")
        }

        @Test("a pair created outside the cgroup is not touched")
        func outsideNotRedirected() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(.ipv4)
            let before = try env.counters()
            _ = try Self.exchange(pair, rounds: 20)
            let delta = try env.counters().delta(since: before)
            #expect(delta == Counters())
            #expect(try env.accelerator.entries().isEmpty)
        }

        @Test("closed sockets leave the map")
        func closedSocketsLeave() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            do {
                let pair = try TCPPair.make(.ipv4, in: env)
                _ = try Self.exchange(pair, rounds: 2)
                #expect(try env.accelerator.entries().count == 2)
            }
            var remaining = -1
            _ = try waitUntil(timeout: 2) {
                remaining = try env.accelerator.entries().count
                return remaining == 0
            }
            #expect(remaining == 0)
        }

        /// How a test connection ends: both sides close normally (FIN), or one side resets it
        /// (SO_LINGER 0) before the other closes.
        enum Ending: String, CaseIterable, CustomTestStringConvertible {
            case fin, clientResets, serverResets
            var testDescription: String { rawValue }
        }

        @Test("a closed connection leaves no record behind, whether it ends with FINs or a reset", arguments: Ending.allCases)
        func closedConnectionsLeaveNoRecords(ending: Ending) throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pending = try env.accelerator.map("pending"), closing = try env.accelerator.map("closing")
            let states = try env.accelerator.map("sock_state")
            let connections = 20
            for _ in 0..<connections {
                let pair = try TCPPair.make(.ipv4, in: env)
                _ = try Self.exchange(pair, rounds: 1, sizes: [64])
                let (first, second) = ending == .serverResets ? (pair.server, pair.client) : (pair.client, pair.server)
                if ending != .fin { first.setLingerZero() }
                first.close()
                if ending == .fin {
                    #expect(try second.receiveToEnd().isEmpty, "the FIN arrives")
                }
                second.close()
            }
            #expect(try env.counters().socketsPaired == UInt64(connections), "every connection was paired")
            var records = -1, entries = -1, stateCount = -1
            _ = try waitUntil(timeout: 2) {
                records = try pending.keys().count + closing.keys().count
                entries = try env.accelerator.entries().count
                stateCount = try states.keys().count
                return records == 0 && entries == 0 && stateCount == 0
            }
            #expect(entries == 0, "every socket left the SOCKHASH")
            #expect(records == 0, "no token or `closing` entry left behind (\(records))")
            #expect(stateCount == 0, "no socket's state left in `sock_state` (\(stateCount))")
        }

        @Test("a socket that disconnects (connect with AF_UNSPEC) and connects again is paired and redirected afresh")
        func reconnectedSocketStartsAfresh() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let first = try TCPPair.make(.ipv4, in: env)
            _ = try Self.exchange(first, rounds: 2)
            // A send while paused puts the first connection on TCP for good: state its socket keeps.
            try env.accelerator.setPaused(true)
            _ = try Self.exchange(first, rounds: 1, sizes: [64])
            try env.accelerator.setPaused(false)
            var unspecified = sockaddr()
            unspecified.sa_family = sa_family_t(AF_UNSPEC)
            try #require(connect(first.client.fd, unspecified) == 0, "disconnect: \(String(cString: strerror(errno)))")

            let listener = try env.tcp(AF_INET)
            try listener.bindLoopback(port: 0)
            try #require(listen(listener.fd, 4) == 0)
            try #require(connect(first.client.fd, TestSocket.loopback(listener.localPort)) == 0,
                         "connect again: \(String(cString: strerror(errno)))")
            let second = try TCPPair.accepting(first.client, on: listener)

            let before = try env.counters()
            let moved = try Self.exchange(second, rounds: 20)
            let delta = try env.counters().delta(since: before)
            #expect(delta.bytesRedirected == UInt64(moved.bytes), "both directions of the new connection redirected")
            #expect(delta.keptOnTCP == 0 && delta.redirectMissed == 0)
            let entries = try env.accelerator.entries()
            let client = try #require(entries.first { $0.cookie == second.client.cookie })
            #expect(client.peerCookie == second.server.cookie, "paired with the new peer")
        }

        @Test("a socket whose connect was refused leaves no token or state behind, connects again and is paired")
        func refusedThenConnected() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pending = try env.accelerator.map("pending"), states = try env.accelerator.map("sock_state")
            let client = try env.tcp(AF_INET)
            let listener = try env.tcp(AF_INET)
            try listener.bindLoopback(port: 0)
            let address = TestSocket.loopback(listener.localPort)
            // Bound, not listening yet: the SYN (with its token) is answered by a reset.
            let refused = connect(client.fd, address)
            let refusal = errno
            #expect(refused == -1 && refusal == ECONNREFUSED, "refused: \(String(cString: strerror(refusal)))")
            #expect(try env.counters().tokensOffered == 1)
            // The refusal is the socket's TCP_CLOSE: its token and its state go there and then.
            #expect(try pending.keys().isEmpty, "the refused SYN's token went at the socket's close")
            #expect(try states.keys().isEmpty, "the refused socket's state went at its close")

            try #require(listen(listener.fd, 4) == 0)
            try #require(connect(client.fd, address) == 0, "connect again: \(String(cString: strerror(errno)))")
            let pair = try TCPPair.accepting(client, on: listener)
            let moved = try Self.exchange(pair, rounds: 10)
            let counters = try env.counters()
            #expect(counters.socketsPaired == 1)
            #expect(counters.bytesRedirected == UInt64(moved.bytes))
            #expect(try states.keys().count == 2, "both sockets of the new connection have state")
        }
    }
}
