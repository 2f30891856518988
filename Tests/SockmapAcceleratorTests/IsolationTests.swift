import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    /// Connections that must not be confused with each other, sockets the accelerator must not
    /// touch, and pins only root may read.
    @Suite struct IsolationTests {
        @Test("equal 4-tuples in two network namespaces: both accelerated, each gets only its own bytes")
        func sameTupleInTwoNamespaces() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let namespaceA = try NetworkNamespace(name: "sockmap-test-\(getpid())-A")
            defer { namespaceA.delete() }
            let namespaceB = try NetworkNamespace(name: "sockmap-test-\(getpid())-B")
            defer { namespaceB.delete() }

            let serverPort: UInt16 = 40_123, clientPort: UInt16 = 40_124
            let pairA = try TCPPair.makeIPv4(listenerIn: env, clientIn: env, namespace: namespaceA, serverPort: serverPort, clientPort: clientPort)
            let pairB = try TCPPair.makeIPv4(listenerIn: env, clientIn: env, namespace: namespaceB, serverPort: serverPort, clientPort: clientPort)
            for pair in [pairA, pairB] {
                #expect(pair.client.localPort == clientPort && pair.client.remotePort == serverPort)
                #expect(pair.server.localPort == serverPort && pair.server.remotePort == clientPort)
            }

            let entries = try env.accelerator.entries()
            #expect(entries.count == 4)
            let namespaces = Dictionary(grouping: entries, by: { $0.key?.netnsCookie })
            #expect(namespaces.count == 2)
            for (_, group) in namespaces {
                #expect(Set(group.map { $0.key?.local }) == ["127.0.0.1:\(serverPort)", "127.0.0.1:\(clientPort)"])
            }
            #expect(Set(entries.compactMap(\.cookie)) ==
                    Set([pairA.client.cookie, pairA.server.cookie, pairB.client.cookie, pairB.server.cookie]))

            // Queue data on both connections before reading any, with a different pattern each:
            // a key collision would deliver one namespace's bytes to the other.
            let before = try env.counters()
            let rounds = 50, size = 4096
            for round in 0..<rounds {
                for (seed, pair) in [(UInt64(0xA), pairA), (UInt64(0xB), pairB)] {
                    try pair.client.sendAll(Pattern.bytes(seed: seed, offset: round, count: size))
                    try pair.server.sendAll(Pattern.bytes(seed: seed << 8, offset: round, count: size))
                }
                for (seed, pair) in [(UInt64(0xA), pairA), (UInt64(0xB), pairB)] {
                    let request = try pair.server.receiveExactly(size)
                    let reply = try pair.client.receiveExactly(size)
                    guard request == Pattern.bytes(seed: seed, offset: round, count: size),
                          reply == Pattern.bytes(seed: seed << 8, offset: round, count: size) else {
                        Issue.record("namespace \(seed == 0xA ? "A" : "B") received bytes that are not its own in round \(round)")
                        return
                    }
                }
            }
            let delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected == UInt64(4 * rounds))
            #expect(delta.bytesRedirected == UInt64(4 * rounds * size))
            #expect(delta.redirectMissed == 0)
        }

        @Test("a socket outside the cgroup talking to one inside: correct bytes, neither enters the map")
        func insideTalksToOutside() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let before = try env.counters()
            let insideServer = try TCPPair.makeIPv4(listenerIn: env, clientIn: nil)
            let insideClient = try TCPPair.makeIPv4(listenerIn: nil, clientIn: env)
            // The outside client's SYN carries no token; the outside listener's SYN-ACK no answer
            // to the inside client's token: no pairing, so neither inside socket takes the
            // sockmap's slower send path.
            #expect(try env.accelerator.entries().isEmpty)
            let first = try DataPathTests.exchange(insideServer, rounds: 20)
            let second = try DataPathTests.exchange(insideClient, rounds: 20)
            #expect(first.messages == 40 && second.messages == 40)
            let delta = try env.counters().delta(since: before)
            #expect(delta.noToken == 1 && delta.unanswered == 1 && delta.tokensOffered == 1)
            #expect(delta.socketsInserted == 0 && delta.messagesRedirected == 0 && delta.redirectMissed == 0 && delta.keptOnTCP == 0)
            #expect(try env.accelerator.map("sock_state").keys().isEmpty, "the unanswered client gave its state up with its token")
        }

        @Test("sockets made for a cgroup come from its socket factory: the test runner never moves, so its own connections made meanwhile stay out of the cgroup")
        func runnerNeverJoinsTheCgroup() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let runnerCgroup = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
            let pairs = 50
            // The runner's own connections, made on another thread while the factory makes
            // sockets for the cgroup: with the old way (moving the runner in and out), some
            // would have been born in the cgroup.
            let outside = BackgroundTask { () -> UncheckedBox<Result<[TCPPair], any Error>> in
                UncheckedBox(Result { try (0..<pairs).map { _ in try TCPPair.make(.ipv4) } })
            }
            let inside = try (0..<pairs).map { _ in try TCPPair.make(.ipv4, in: env) }
            let runnerPairs = try #require(outside.wait(timeout: 30)).value.get()
            #expect(try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) == runnerCgroup)
            #expect(env.cgroup.processes().isEmpty, "the factory waits outside the cgroup between sockets")
            let cookies = Set(try env.accelerator.entries().compactMap(\.cookie))
            #expect(cookies == Set(inside.flatMap { [$0.client.cookie, $0.server.cookie] }))
            #expect(cookies.isDisjoint(with: runnerPairs.flatMap { [$0.client.cookie, $0.server.cookie] }))
            for pair in runnerPairs { _ = try DataPathTests.exchange(pair, rounds: 1) }
            #expect(try env.counters().socketsInserted == UInt64(2 * pairs))
        }

        @Test("a peer on another host is left alone: its SYN carries no token, neither socket enters the map, traffic is plain TCP")
        func remotePeerNotInserted() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            // Two namespaces joined by a veth pair, made after `load` (so it does not count them as
            // this host's), stand for two hosts (TEST-NET-2 addresses, reachable only inside them).
            let hostA = try NetworkNamespace(name: "sockmap-test-\(getpid())-hA")
            defer { hostA.delete() }
            let hostB = try NetworkNamespace(name: "sockmap-test-\(getpid())-hB")
            defer { hostB.delete() }
            let ip = NetworkNamespace.ipTool
            for command in [
                ["link", "add", "smt-a", "netns", hostA.name, "type", "veth", "peer", "name", "smt-b", "netns", hostB.name],
                ["-n", hostA.name, "addr", "add", "198.51.100.1/24", "dev", "smt-a"],
                ["-n", hostB.name, "addr", "add", "198.51.100.2/24", "dev", "smt-b"],
                ["-n", hostA.name, "link", "set", "smt-a", "up"],
                ["-n", hostB.name, "link", "set", "smt-b", "up"],
            ] {
                let result = try CommandRunner.run(ip, command, timeout: 10)
                try #require(result.status == 0, "ip \(command.joined(separator: " ")): \(result.stderr)")
            }
            let before = try env.counters()
            let (listener, client) = (try env.tcp(in: hostB), try env.tcp(in: hostA))
            guard bind(listener.fd, TestSocket.ipv4("198.51.100.2", 0)) == 0, listen(listener.fd, 4) == 0 else { throw TestSocketError("bind/listen") }
            guard connect(client.fd, TestSocket.ipv4("198.51.100.2", listener.localPort)) == 0 else { throw TestSocketError("connect") }
            let moved = try DataPathTests.exchange(try TCPPair.accepting(client, on: listener), rounds: 10)
            let delta = try env.counters().delta(since: before)
            #expect(moved.messages == 20)
            #expect(delta.skippedNotLocal == 1, "the connecting side writes no token toward another host")
            #expect(delta.noToken == 1 && delta.tokensOffered == 0)
            #expect(delta.socketsInserted == 0)
            #expect(delta.messagesRedirected == 0 && delta.redirectMissed == 0)
            #expect(try env.accelerator.entries().isEmpty)
        }

        @Test("a TCP Fast Open connection (data in the SYN) stays on TCP, and its bytes arrive in order")
        func fastOpenStaysOnTCP() throws {
            let sysctl = "/proc/sys/net/ipv4/tcp_fastopen"
            let saved = try String(contentsOfFile: sysctl, encoding: .utf8)
            try "3\n".write(toFile: sysctl, atomically: false, encoding: .utf8) // client and server
            defer { try? saved.write(toFile: sysctl, atomically: false, encoding: .utf8) }
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let listener = try env.tcp()
            try listener.bindLoopback(port: 0)
            var queue: Int32 = 16
            setsockopt(listener.fd, Int32(IPPROTO_TCP), 23 /* TCP_FASTOPEN */, &queue, socklen_t(MemoryLayout<Int32>.size))
            guard listen(listener.fd, 16) == 0 else { throw TestSocketError("listen") }
            let msgFastOpen: Int32 = 0x2000_0000
            func fastOpenConnection(_ first: [UInt8]) throws -> TCPPair {
                let client = try env.tcp()
                var address = TestSocket.loopback(listener.localPort)
                let sent = withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                        first.withUnsafeBytes { sendto(client.fd, $0.baseAddress, first.count, msgFastOpen, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
                guard sent == first.count else { throw TestSocketError("sendto MSG_FASTOPEN") }
                return try TCPPair.accepting(client, on: listener)
            }
            // The first connection fetches the Fast Open cookie; the second carries data in its SYN.
            let warmup = try fastOpenConnection([1])
            #expect(try warmup.server.receiveExactly(1) == [1])
            let before = try env.counters()
            let first = Pattern.bytes(seed: 5, offset: 0, count: 512)
            let pair = try fastOpenConnection(first)
            // More bytes right behind the SYN data: redirecting them would let them overtake it.
            let rest = Pattern.bytes(seed: 5, offset: 512, count: 8192)
            try pair.client.sendAll(rest)
            #expect(try pair.server.receiveExactly(first.count + rest.count) == first + rest)
            let delta = try env.counters().delta(since: before)
            // The connection never enters the map, so nothing can be redirected ahead of the SYN
            // data: its SYN has no room left for the token beside the Fast Open cookie (seen on
            // 6.18), or, with room, its data before ESTABLISHED keeps it out.
            #expect(delta.skippedEarlyData + delta.noOptionRoom == 1, "\(delta)")
            #expect(delta.socketsInserted == 0)
            #expect(delta.messagesRedirected == 0)
        }

        @Test("pins are root-only, and status/dump-map as another user exit 77 saying root is needed")
        func rootOnly() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pins = env.accelerator.pins
            for directory in [pins.directory, pins.maps, pins.programs] {
                #expect(permissions(directory) == 0o700, "\(directory)")
            }
            let pinned = try FileManager.default.contentsOfDirectory(atPath: pins.maps).map { pins.maps + "/" + $0 }
                + FileManager.default.contentsOfDirectory(atPath: pins.programs).map { pins.programs + "/" + $0 }
            #expect(pinned.count >= 6)
            for path in pinned { #expect(permissions(path) == 0o600, "\(path)") }

            let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
            for command in ["status", "dump-map"] {
                let result = try CommandRunner.run("/usr/bin/setpriv", nobody + [KernelTestEnvironment.cliPath, command, "--pin-dir", env.pinDirectory])
                #expect(result.status == 77, "\(command): \(result.stderr)")
                #expect(result.stderr.contains("needs root"), "\(command): \(result.stderr)")
            }
            // And the pins themselves cannot be reached by that user.
            let list = try CommandRunner.run("/usr/bin/setpriv", nobody + ["/bin/ls", pins.maps])
            #expect(list.status != 0)
        }
    }
}
