import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    @Suite struct PolicyTests {
        @Test("deny-list: a listed port is left on TCP, at both ends; other connections are accelerated")
        func denyPort() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let port = try freePort()
            try env.accelerator.addPolicy(.port(port))
            #expect(try env.accelerator.policyEntries() == [.port(port)])

            var before = try env.counters()
            let listed = try TCPPair.make(.ipv4, in: env, port: port)
            let moved = try DataPathTests.exchange(listed, rounds: 10)
            var delta = try env.counters().delta(since: before)
            #expect(moved.messages == 20)
            #expect(delta.skippedByPolicy == 1, "one per connection: the side whose view the policy matches refuses")
            #expect(delta.socketsInserted == 0)
            #expect(delta.messagesRedirected == 0)

            before = try env.counters()
            let other = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(other, rounds: 10)
            delta = try env.counters().delta(since: before)
            #expect(delta.socketsInserted == 2)
            #expect(delta.messagesRedirected == 20)

            #expect(try env.accelerator.removePolicy(.port(port)))
            #expect(try env.accelerator.policyEntries().isEmpty)
        }

        /// A port nothing listens on right now.
        func freePort() throws -> UInt16 {
            let probe = TestSocket(fd: socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            guard bind(probe.fd, address) == 0 else { throw TestSocketError("bind") }
            return probe.localPort
        }

        @Test("deny-list by address; allow mode accelerates only listed addresses")
        func addressAndAllow() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            try env.accelerator.addPolicy(try PolicyEntry(parsing: "127.0.0.1"))
            var before = try env.counters()
            let denied = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(denied, rounds: 10)
            var delta = try env.counters().delta(since: before)
            #expect(delta.skippedByPolicy == 1, "one per connection: the side whose view the policy matches refuses")
            #expect(delta.socketsInserted == 0)
            #expect(delta.messagesRedirected == 0)

            // Allow mode with an empty list: nothing is accelerated.
            try env.accelerator.removePolicy(try PolicyEntry(parsing: "127.0.0.1"))
            try env.accelerator.setPolicyMode(.allow)
            before = try env.counters()
            let notAllowed = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(notAllowed, rounds: 5)
            delta = try env.counters().delta(since: before)
            #expect(delta.skippedByPolicy == 1, "one per connection: the side whose view the policy matches refuses")

            // Allow ::1 only: an IPv6 pair is accelerated, an IPv4 pair is not.
            try env.accelerator.addPolicy(try PolicyEntry(parsing: "::1"))
            before = try env.counters()
            let allowed = try TCPPair.make(.ipv6, in: env)
            _ = try DataPathTests.exchange(allowed, rounds: 5)
            delta = try env.counters().delta(since: before)
            #expect(delta.socketsInserted == 2)
            #expect(delta.messagesRedirected == 10)
        }

        @Test("policy entries given to load are in place before the first connection")
        func entriesAtLoad() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let port = try freePort()
            var options = Accelerator.LoadOptions(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path)
            options.policyEntries = [.port(port)]
            try env.accelerator.load(options)
            #expect(try env.accelerator.policyEntries() == [.port(port)])
            let pair = try TCPPair.make(.ipv4, in: env, port: port)
            _ = try DataPathTests.exchange(pair, rounds: 5)
            #expect(try env.counters().skippedByPolicy == 1)
        }

        @Test("pause sends everything over TCP at once; after resume, new connections are redirected and paused ones stay on TCP")
        func pauseResume() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 5)
            try env.accelerator.setPaused(true)
            var before = try env.counters()
            _ = try DataPathTests.exchange(pair, rounds: 10)
            var delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected == 0)
            // Every send is kept on TCP until its socket leaves the map (drained, 10 ms after its
            // first ACK); from then on our program no longer runs for it.
            #expect(delta.keptOnTCP <= 20)
            try env.accelerator.setPaused(false)
            // The paused connection may have TCP bytes in flight: redirecting it again could let later
            // bytes overtake them, so it stays on TCP.
            before = try env.counters()
            _ = try DataPathTests.exchange(pair, rounds: 10)
            delta = try env.counters().delta(since: before)
            #expect(delta.messagesRedirected == 0)
            #expect(delta.keptOnTCP <= 20)
            // Both paused sockets leave the map: plain TCP again.
            #expect(waitUntil(timeout: 5) {
                _ = try? DataPathTests.exchange(pair, rounds: 1)
                return (try? env.counters().socketsReleased) == 2
            })
            #expect(try env.accelerator.entries().count == 0)
            let fresh = try TCPPair.make(.ipv4, in: env)
            before = try env.counters()
            _ = try DataPathTests.exchange(fresh, rounds: 10)
            #expect(try env.counters().delta(since: before).messagesRedirected == 20)
        }

        @Test("policy entries parse ports and addresses, and reject the rest")
        func parsing() throws {
            #expect(try PolicyEntry(parsing: "6379") == .port(6379))
            #expect(try PolicyEntry(parsing: "127.0.0.2") == .address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 2]))
            #expect(try PolicyEntry(parsing: "[::1]") == .address([UInt8](repeating: 0, count: 15) + [1]))
            for bad in ["0", "70000", "1.2.3", "host", ":::", "1::2::3"] {
                #expect(throws: AcceleratorError.self) { try PolicyEntry(parsing: bad) }
            }
        }
    }
}
