import BPFLoader
import BPFObject
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    /// Connections between network namespaces on one host, as containers and pods make them:
    /// paired by the token in the connecting side's SYN, never by addresses. Each test builds its
    /// own namespaces, bridges and veths; every address lives only inside them.
    @Suite struct CrossNamespaceTests {
        static let forger = PackageLayout.fixture("forge_token")

        /// A unique name prefix for one test's namespaces.
        static func name(_ tag: String) -> String { "smx-\(getpid() % 100_000)-\(tag)" }

        /// `rounds` request/reply exchanges with a pattern of `seed`; returns the bytes each way.
        @discardableResult
        static func exchange(_ pair: TCPPair, seed: UInt64, rounds: Int = 50, size: Int = 3000) throws -> Int {
            for round in 0..<rounds {
                let request = Pattern.bytes(seed: seed, offset: round, count: size)
                try pair.client.sendAll(request)
                #expect(try pair.server.receiveExactly(size) == request, "request \(round) of stream \(seed)")
                let reply = Pattern.bytes(seed: seed << 8, offset: round, count: size)
                try pair.server.sendAll(reply)
                #expect(try pair.client.receiveExactly(size) == reply, "reply \(round) of stream \(seed)")
            }
            return rounds * size
        }

        @Test("two namespaces on a bridge: paired by token, every byte redirected, TCP at the server receives none",
              arguments: [("10.0.0.1/24", "10.0.0.2"), ("fd5a::1/64", "fd5a::2")])
        func acrossABridge(clientAddress: String, serverAddress: String) throws {
            let prefix = serverAddress.contains(":") ? "fd5a::2/64" : "10.0.0.2/24"
            let network = try BridgeNetwork(name: Self.name(serverAddress.contains(":") ? "b6" : "b4"),
                                            containerAddresses: [clientAddress, prefix])
            defer { network.delete() }
            let env = try AcceleratedCgroup() // after the namespaces: load finds their addresses
            defer { env.tearDown() }
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[1], cgroup: env), listenAddress: serverAddress,
                                        port: 80, client: Endpoint(namespace: network.containers[0], cgroup: env))
            let before = try env.counters()
            let rounds = 50, size = 3000
            let moved = try Self.exchange(pair, seed: 0xB1, rounds: rounds, size: size)
            let delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected == UInt64(2 * rounds))
            #expect(delta.bytesRedirected == UInt64(2 * moved))
            #expect(delta.redirectMissed == 0 && delta.keptOnTCP == 0)
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == 0, "no byte crossed TCP into the server")
            #expect(ForeignObjectTests.tcpBytesReceived(pair.client.fd) == 0, "no byte crossed TCP into the client")

            let entries = try env.accelerator.entries()
            let client = try #require(entries.first { $0.cookie == pair.client.cookie })
            let server = try #require(entries.first { $0.cookie == pair.server.cookie })
            #expect(client.peerCookie == server.cookie && server.peerCookie == client.cookie)
            #expect(client.key?.netnsCookie != server.key?.netnsCookie, "each end in its own namespace")
            #expect(client.key?.remote == server.key?.local && server.key?.remote == client.key?.local)

            // dump-map shows the pair, both ends as each side sees them, with their namespaces.
            let dump = try CommandRunner.cli("dump-map", "--pin-dir", env.pinDirectory)
            #expect(dump.status == 0)
            #expect(dump.stdout.contains("1 pair, 0 without a peer"), "\(dump.stdout)")
            #expect(dump.stdout.contains("netns \(client.key?.netnsCookie ?? 0)") && dump.stdout.contains("netns \(server.key?.netnsCookie ?? 0)"))
        }

        @Test("two bridges whose namespaces reuse the same addresses and ports at once: each server gets only its own client's bytes")
        func reusedAddresses() throws {
            let networkA = try BridgeNetwork(name: Self.name("ra"), containerAddresses: ["10.0.0.1/24", "10.0.0.2/24"])
            defer { networkA.delete() }
            let networkB = try BridgeNetwork(name: Self.name("rb"), containerAddresses: ["10.0.0.1/24", "10.0.0.2/24"])
            defer { networkB.delete() }
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pairs = try [networkA, networkB].map { network in
                try TCPPair.make(server: Endpoint(namespace: network.containers[1], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                 client: Endpoint(namespace: network.containers[0], cgroup: env))
            }
            #expect(pairs[0].client.localPort != 0 && pairs[0].server.localPort == 80 && pairs[1].server.localPort == 80)
            let before = try env.counters()
            // Interleaved: both clients write before either server reads, with a pattern of their own.
            let rounds = 40, size = 4096
            for round in 0..<rounds {
                for (index, pair) in pairs.enumerated() {
                    try pair.client.sendAll(Pattern.bytes(seed: UInt64(0xA0 + index), offset: round, count: size))
                }
                for (index, pair) in pairs.enumerated() {
                    let got = try pair.server.receiveExactly(size)
                    guard got == Pattern.bytes(seed: UInt64(0xA0 + index), offset: round, count: size) else {
                        Issue.record("server \(index) received bytes that are not its client's in round \(round)")
                        return
                    }
                }
            }
            let delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected == UInt64(2 * rounds))
            #expect(delta.redirectMissed == 0)
            let entries = try env.accelerator.entries()
            for pair in pairs {
                let client = try #require(entries.first { $0.cookie == pair.client.cookie })
                #expect(client.peerCookie == pair.server.cookie)
            }
        }

        @Test("a published port: DNAT from the host's address to a container's, accelerated")
        func publishedPort() throws {
            let network = try BridgeNetwork(name: Self.name("pp"), hostAddress: "10.0.0.254/24", containerAddresses: ["10.0.0.2/24"])
            defer { network.delete() }
            try network.publish(hostPort: 8080, to: "10.0.0.2:80")
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[0], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                        client: Endpoint(namespace: network.host, cgroup: env), connectAddress: "10.0.0.254", connectPort: 8080)
            let before = try env.counters()
            let moved = try Self.exchange(pair, seed: 0xD1)
            let delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected == 100 && delta.bytesRedirected == UInt64(2 * moved))
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == 0)
            let entries = try env.accelerator.entries()
            let client = try #require(entries.first { $0.cookie == pair.client.cookie })
            let server = try #require(entries.first { $0.cookie == pair.server.cookie })
            #expect(client.key?.remote == "10.0.0.254:8080", "the client sees the published port")
            #expect(server.key?.local == "10.0.0.2:80", "the server sees its own address")
            #expect(client.peerCookie == server.cookie && server.peerCookie == client.cookie)
        }

        @Test("a peer outside the cgroup: no token, the inside socket never enters the map, every byte over TCP")
        func peerOutsideTheCgroup() throws {
            let network = try BridgeNetwork(name: Self.name("po"), containerAddresses: ["10.0.0.1/24", "10.0.0.2/24"])
            defer { network.delete() }
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let before = try env.counters()
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[1], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                        client: Endpoint(namespace: network.containers[0], cgroup: nil))
            let moved = try Self.exchange(pair, seed: 0xE1, rounds: 20)
            let delta = try env.counters().delta(since: before)
            #expect(delta.noToken == 1 && delta.socketsInserted == 0 && delta.messagesRedirected == 0)
            #expect(try env.accelerator.entries().isEmpty)
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == UInt64(moved))
        }

        @Test("a remote-looking source: a real token from an address that cannot be on this host is burnt, not paired")
        func remoteLookingSource() throws {
            let network = try BridgeNetwork(name: Self.name("rs"), containerAddresses: ["10.0.0.1/24", "10.0.0.2/24"])
            defer { network.delete() }
            // Only the server's address counts as local: the client writes a token toward it, and
            // the server sees that token arrive from an address that is not this host's.
            let env = try AcceleratedCgroup { options in
                options.discoverLocalNetworks = false
                options.localPrefixes = [LocalNetwork(cidr: "10.0.0.2/32")!]
            }
            defer { env.tearDown() }
            let before = try env.counters()
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[1], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                        client: Endpoint(namespace: network.containers[0], cgroup: env))
            let delta = try env.counters().delta(since: before)
            #expect(delta.tokensOffered == 1 && delta.tokenRejected == 1, "the listener refuses to answer it")
            #expect(delta.unanswered == 1 && delta.noToken == 1 && delta.socketsPaired == 0 && delta.socketsInserted == 0)
            #expect(try env.accelerator.entries().isEmpty, "neither side enters the map")
            #expect(try env.accelerator.map("pending").keys().isEmpty, "the token was burnt when shown")
            #expect(try env.accelerator.map("sock_state").keys().isEmpty, "the client gave its state up with its token")
            let moved = try Self.exchange(pair, seed: 0xE2, rounds: 20)
            #expect(try env.counters().delta(since: before).messagesRedirected == 0)
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == UInt64(moved), "every byte over TCP")
        }

        @Test("forged and replayed tokens get no pairing", arguments: ["forged", "replayed"])
        func forgedTokens(kind: String) throws {
            let network = try BridgeNetwork(name: Self.name(kind == "forged" ? "ff" : "fr"), containerAddresses: ["10.0.0.1/24", "10.0.0.2/24"])
            defer { network.delete() }
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            var token = UInt64.random(in: 1...UInt64.max)
            if kind == "replayed" {
                // A listener outside the cgroup reads the token from the SYN it received
                // (TCP_SAVED_SYN: any application can), then shows it to a listener of the cgroup.
                let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[1], cgroup: nil), listenAddress: "10.0.0.2",
                                            port: 81, client: Endpoint(namespace: network.containers[0], cgroup: env), saveSYN: true)
                token = try #require(Self.pairingToken(inSavedSYNOf: pair.server.fd), "the SYN carried a token")
                #expect(try env.counters().unanswered == 1, "the outside listener's SYN-ACK carried no answer")
            }
            // The forger: another cgroup whose SYNs carry `token`.
            let forgerGroup = try AcceleratedCgroup(load: false)
            defer { forgerGroup.tearDown() }
            try forgerGroup.cgroup.create()
            var spec = try ObjectSpec(path: Self.forger)
            try spec.setGlobal("forged_token", integer: Int64(bitPattern: token))
            let forgerObject = try LoadedObject(spec)
            let cgroupFD = try forgerGroup.cgroup.open()
            let attachment = try forgerObject.programs["forge_token"]!.attach(toCgroup: cgroupFD, type: .cgroupSockOps)
            defer { try? attachment.detach(); try? cgroupFD.close() }

            let before = try env.counters()
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[1], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                        client: Endpoint(namespace: network.containers[0], cgroup: forgerGroup))
            let moved = try Self.exchange(pair, seed: 0xF1, rounds: 20)
            let delta = try env.counters().delta(since: before)
            #expect(delta.socketsPaired == 0 && delta.messagesRedirected == 0)
            #expect(!(try env.accelerator.entries()).contains { $0.cookie == pair.server.cookie }, "the accepted socket stays out of the map")
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == UInt64(moved), "every byte over TCP, none lost")
            #expect(delta.tokenRejected == 1 && delta.noToken == 1, "an unknown or burnt token is not answered")
            #expect(try env.accelerator.map("pending").keys().isEmpty)
        }

        /// The pairing token in the SYN saved on an accepted socket (`TCP_SAVED_SYN`: IP and TCP
        /// headers), or nil when it carries none.
        static func pairingToken(inSavedSYNOf fd: Int32) -> UInt64? {
            var buffer = [UInt8](repeating: 0, count: 512)
            var length = socklen_t(buffer.count)
            guard getsockopt(fd, Int32(IPPROTO_TCP), 28 /* TCP_SAVED_SYN */, &buffer, &length) == 0, length > 0 else { return nil }
            let ipLength = buffer[0] >> 4 == 4 ? Int(buffer[0] & 0x0F) * 4 : 40
            let tcp = Array(buffer[ipLength..<Int(length)])
            guard tcp.count >= 20 else { return nil }
            var offset = 20
            let end = min(tcp.count, Int(tcp[12] >> 4) * 4)
            while offset + 1 < end {
                let kind = tcp[offset]
                if kind == 0 { break }
                if kind == 1 { offset += 1; continue }
                let length = Int(tcp[offset + 1])
                if kind == 254, length == 12, offset + 12 <= end, tcp[offset + 2] == 0x5A, tcp[offset + 3] == 0xC5 {
                    return tcp[(offset + 4)..<(offset + 12)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                }
                offset += max(length, 2)
            }
            return nil
        }

        @Test("one side in the map, the other refused by its own policy: the unpaired side goes to TCP, leaves the map, no byte lost")
        func oneSidePaired() throws {
            let network = try BridgeNetwork(name: Self.name("os"), hostAddress: "10.0.0.254/24", containerAddresses: ["10.0.0.2/24"])
            defer { network.delete() }
            try network.publish(hostPort: 8080, to: "10.0.0.2:80")
            // The server's view (local port 80) is denied; the client's (remote port 8080) is not.
            let env = try AcceleratedCgroup { options in options.policyEntries = [try! PolicyEntry(parsing: "80")] }
            defer { env.tearDown() }
            let before = try env.counters()
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[0], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                        client: Endpoint(namespace: network.host, cgroup: env), connectAddress: "10.0.0.254", connectPort: 8080)
            #expect(try env.accelerator.entries().map(\.cookie) == [pair.client.cookie])
            let moved = try Self.exchange(pair, seed: 0xC1, rounds: 30)
            let delta = try env.counters().delta(since: before)
            #expect(delta.skippedByPolicy == 1 && delta.socketsPaired == 0 && delta.messagesRedirected == 0)
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == UInt64(moved))
            #expect(try waitUntil(timeout: 5) { try env.accelerator.entries().isEmpty }, "the unpaired socket leaves the map")
            #expect(try env.counters().delta(since: before).socketsReleased == 1)
            #expect(try env.accelerator.map("sock_state").keys().isEmpty, "and its state with it, the connection still open")
        }

        @Test("the handshake's last ACK lost (it carries the token): the connecting side sends over TCP, leaves the map unpaired and takes its token along; the accepting side stays on TCP; every byte arrives")
        func lastAckLost() throws {
            let network = try BridgeNetwork(name: Self.name("la"), hostAddress: "10.0.0.254/24", containerAddresses: ["10.0.0.2/24"])
            defer { network.delete() }
            // Pure ACKs from the client (host namespace) to the server are dropped: the handshake's
            // last ACK never arrives, and the server's handshake ends with the client's first data
            // segment, which carries no token.
            try network.nft("""
                table ip sockmap_ack { chain output { type filter hook output priority 0; ip daddr 10.0.0.2 tcp dport 80 tcp flags == ack drop; }; }
                """)
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pending = try env.accelerator.map("pending")
            let before = try env.counters()
            let server = Endpoint(namespace: network.containers[0], cgroup: env), client = Endpoint(namespace: network.host, cgroup: env)
            let listener = try server.socket(family: AF_INET)
            guard SocketAddress.withAddress("10.0.0.2", 80, { Glibc.bind(listener.fd, $0, $1) }) == 0, listen(listener.fd, 4) == 0 else {
                throw TestSocketError("bind/listen")
            }
            let connecting = try client.socket(family: AF_INET)
            guard SocketAddress.withAddress("10.0.0.2", 80, { Glibc.connect(connecting.fd, $0, $1) }) == 0 else { throw TestSocketError("connect") }
            #expect(try pending.keys().count == 1, "the token waits, confirmed, for a claim that cannot come")
            let request = Pattern.bytes(seed: 0xA1, offset: 0, count: 3000)
            try connecting.sendAll(request) // completes the server's handshake
            let pair = try TCPPair.accepting(connecting, on: listener)
            #expect(try pair.server.receiveExactly(request.count) == request)
            try network.nft("delete table ip sockmap_ack")
            let reply = Pattern.bytes(seed: 0xA2, offset: 0, count: 3000)
            try pair.server.sendAll(reply)
            #expect(try pair.client.receiveExactly(reply.count) == reply)
            let delta = try env.counters().delta(since: before)
            #expect(delta.tokensOffered == 1 && delta.noToken == 1 && delta.socketsPaired == 0 && delta.messagesRedirected == 0)
            #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == UInt64(request.count))
            #expect(try waitUntil(timeout: 5) { try env.accelerator.entries().isEmpty }, "the connecting side leaves the map")
            #expect(try pending.keys().isEmpty, "and its token with it: a late claim would find nothing")
            #expect(try env.accelerator.map("sock_state").keys().isEmpty, "and its state")
        }

        @Test("a paired socket that dies of a retransmission timeout (no FIN, no reset of its own) leaves no state: its TCP_CLOSE takes it; its peer's FIN takes the peer's")
        func timedOutSocketLeavesNoState() throws {
            let network = try BridgeNetwork(name: Self.name("to"), hostAddress: "10.0.0.254/24", containerAddresses: ["10.0.0.2/24"])
            defer { network.delete() }
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let states = try env.accelerator.map("sock_state"), closing = try env.accelerator.map("closing")
            func stateCookies() throws -> Set<UInt64> {
                Set(try states.keys().map { key in key.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } })
            }
            let before = try env.counters()
            let pair = try TCPPair.make(server: Endpoint(namespace: network.containers[0], cgroup: env), listenAddress: "10.0.0.2", port: 80,
                                        client: Endpoint(namespace: network.host, cgroup: env))
            let moved = try Self.exchange(pair, seed: 0xD1, rounds: 5)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(2 * moved), "paired: every byte redirected, both ways")
            #expect(try stateCookies() == [pair.client.cookie, pair.server.cookie])
            // Nothing of the client reaches the server from now on. A send while paused takes TCP;
            // its segment is never acknowledged, and TCP_USER_TIMEOUT ends the socket with
            // ETIMEDOUT: no FIN, no reset, only its TCP_CLOSE.
            try network.nft("table ip sockmap_drop { chain output { type filter hook output priority 0; ip daddr 10.0.0.2 tcp dport 80 drop; }; }")
            var timeout: Int32 = 500
            try #require(setsockopt(pair.client.fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &timeout, socklen_t(MemoryLayout<Int32>.size)) == 0)
            try env.accelerator.setPaused(true)
            try pair.client.sendAll(Pattern.bytes(seed: 0xD2, offset: 0, count: 1000))
            #expect(try waitUntil(timeout: 15) { try !stateCookies().contains(pair.client.cookie) }, "the client's state went at its TCP_CLOSE")
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(pair.client.fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == ETIMEDOUT,
                    "the client died of the timeout: \(String(cString: strerror(error)))")
            #expect(try stateCookies() == [pair.server.cookie], "the server, still open, keeps its own")
            try env.accelerator.setPaused(false)
            try network.nft("delete table ip sockmap_drop")
            pair.server.close()
            #expect(try waitUntil(timeout: 5) { try states.keys().isEmpty && closing.keys().isEmpty },
                    "the server's FIN took its state; no `closing` entry is left")
        }

        @Test("a listener opened before load: adopted where the kernel allows it (6.12), so its connections pair; else both ends stay on TCP")
        func listenerOpenedBeforeLoad() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            _ = try env.cgroup.create()
            // One listener in the cgroup and one outside it, both before load.
            let inside = try env.tcp()
            try inside.bindLoopback(port: 0)
            let outside = try TestSocket.tcp()
            try outside.bindLoopback(port: 0)
            guard listen(inside.fd, 16) == 0, listen(outside.fd, 16) == 0 else { throw TestSocketError("listen") }

            let state = try env.accelerator.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            let release = try #require(KernelRelease.running)
            let adoptable = release >= KernelRelease(major: 6, minor: 12) // TCP_BPF_SOCK_OPS_CB_FLAGS in bpf_setsockopt
            if adoptable {
                #expect(state.listenersAdopted == 1 && state.listenersNotAdopted == 0, "only the listener of the cgroup")
            } else {
                // The iterator refuses bpf_setsockopt's TCP_BPF_SOCK_OPS_CB_FLAGS (EINVAL), or the
                // kernel refuses the iterator itself: nothing is adopted either way.
                #expect((state.listenersAdopted ?? 0) == 0)
            }

            let before = try env.counters()
            let client = try env.tcp()
            guard connect(client.fd, TestSocket.loopback(inside.localPort)) == 0 else { throw TestSocketError("connect") }
            let pair = try TCPPair.accepting(client, on: inside)
            let moved = try Self.exchange(pair, seed: 0xAD, rounds: 20)
            let delta = try env.counters().delta(since: before)
            if adoptable {
                #expect(delta.socketsPaired == 1 && delta.messagesRedirected == 40 && delta.bytesRedirected == UInt64(2 * moved))
            } else {
                #expect(delta.unanswered == 1 && delta.noToken == 1 && delta.socketsInserted == 0 && delta.messagesRedirected == 0)
                #expect(ForeignObjectTests.tcpBytesReceived(pair.server.fd) == UInt64(moved))
            }
        }
    }
}
