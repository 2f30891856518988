import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// Objects that are not built from bpf/redir.c: found by program type, attached to the sockmap
/// their verdict program references, shown by status and dump-map, replaced and detached as ours.
extension KernelIntegration {
    @Suite struct ForeignObjectTests {
        static let seedObject = PackageLayout.fixture("libbpf_seed_sockmap")

        /// Bytes the kernel's TCP receive path counted on `fd` (`tcpi_bytes_received` of
        /// `struct tcp_info`, offset 128): redirected bytes bypass it.
        static func tcpBytesReceived(_ fd: Int32) -> UInt64 {
            var info = [UInt8](repeating: 0, count: 256)
            var length = socklen_t(info.count)
            guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, length >= 136 else { return .max }
            return info[128..<136].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }

        /// The sk_msg program's run count (`run_cnt` of `BPF_OBJ_GET_INFO_BY_FD`).
        static func runCount(_ env: AcceleratedCgroup, _ program: String) throws -> UInt64 {
            try env.accelerator.program(program).info().runCount
        }

        @Test("the seed's object (sock_ops_map SOCKHASH, packed IPv4 key, int value) loads, redirects and shows decoded keys")
        func seedObject() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let load = try CommandRunner.cli("load", Self.seedObject, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(load.status == 0, "\(load.stderr)")
            let stats = try BPFProgram.enableRunTimeStatistics() // kernel.bpf_stats_enabled while this fd is open
            defer { _ = stats }

            // Plain TCP first: the oracle counts every byte on the TCP receive path.
            let plain = try TCPPair.make(.ipv4)
            let plainMoved = try DataPathTests.exchange(plain, rounds: 40)
            #expect(Self.tcpBytesReceived(plain.server.fd) == UInt64(plainMoved.bytes / 2))

            let before = try Self.runCount(env, "bpf_redir")
            let pair = try TCPPair.make(.ipv4, in: env)
            let moved = try DataPathTests.exchange(pair, rounds: 40)
            let runs = try Self.runCount(env, "bpf_redir") - before
            #expect(runs >= UInt64(moved.messages), "sk_msg ran \(runs) times for \(moved.messages) sends")
            // Every byte arrived (compared in exchange) and none took the TCP receive path.
            #expect(Self.tcpBytesReceived(pair.server.fd) == 0)
            #expect(Self.tcpBytesReceived(pair.client.fd) == 0)

            struct Dump: Decodable {
                struct Entry: Decodable { let key: String; let fields: [String: String]; let socketCookie: UInt64? }
                let map: String, keyType: String?, count: Int, entries: [Entry]
            }
            let dumpRun = try CommandRunner.cli("dump-map", "--json", "--pin-dir", env.pinDirectory)
            #expect(dumpRun.status == 0, "\(dumpRun.stderr)")
            let dump = try JSONDecoder().decode(Dump.self, from: Data(dumpRun.stdout.utf8))
            #expect(dump.map == "sock_ops_map")
            #expect(dump.keyType == "sock_key")
            #expect(dump.count == 2)
            let loopback = String(UInt32(0x0100_007f)) // 127.0.0.1 in network order, read as a little-endian u32
            #expect(dump.entries.allSatisfy { $0.fields["sip4"] == loopback && $0.fields["dip4"] == loopback && $0.fields["family"] == "1" })
            // sport is the local port in network order: both sockets of the pair, each once.
            let ports = Set([pair.server.localPort, pair.client.localPort].map { String(UInt32($0.byteSwapped)) })
            #expect(Set(dump.entries.compactMap { $0.fields["sport"] }) == ports)
            #expect(Set(dump.entries.compactMap { $0.fields["dport"] }) == ports)
            #expect(dump.entries.allSatisfy { $0.socketCookie == nil && $0.key.count == 48 }) // int values: no cookie
            let text = try CommandRunner.cli("dump-map", "--pin-dir", env.pinDirectory)
            #expect(text.stdout.contains("sip4=\(loopback) dip4=\(loopback) family=1 pad1=0 pad2=0 pad3=0 sport="), "\(text.stdout)")
            #expect(text.stdout.contains("2 entries in sock_ops_map (keys as struct sock_key from the object's BTF)"))

            let status = try CommandRunner.cli("status", "--json", "--pin-dir", env.pinDirectory)
            #expect(status.status == 0, "\(status.stderr)")
            let report = try JSONDecoder.iso8601.decode(StatusReport.self, from: Data(status.stdout.utf8))
            #expect(report.loaded)
            #expect(report.programs.map(\.name) == ["bpf_sockmap", "bpf_redir"])
            #expect(report.sockhash?.entries == 2)
            #expect(report.counters == nil)
            let statusText = try CommandRunner.cli("status", "--pin-dir", env.pinDirectory)
            #expect(statusText.stdout.contains("counters:  not provided by this object"), "\(statusText.stdout)")

            for command in [["stats", "--count", "1"], ["policy", "add", "80"], ["pause"], ["resume"], ["policy", "mode", "allow"]] {
                let result = try CommandRunner.run(KernelTestEnvironment.cliPath, command + ["--pin-dir", env.pinDirectory])
                #expect(result.status == 1, "\(command)")
                #expect(result.stderr.contains("\(Self.seedObject) does not provide"), "\(command): \(result.stderr)")
            }

            // replace: the map and its two sockets stay; the open connection keeps redirecting.
            let replace = try CommandRunner.cli("load", "--replace", Self.seedObject, "--pin-dir", env.pinDirectory)
            #expect(replace.status == 0, "\(replace.stderr)")
            _ = try DataPathTests.exchange(pair, rounds: 10)
            #expect(Self.tcpBytesReceived(pair.server.fd) == 0)
            #expect(try env.accelerator.rawEntries().count == 2)

            // detach with the connection open: no pass-through switch exists in this object, so
            // the map drains aside; once the sockets close, the next detach frees it.
            let detach = try CommandRunner.cli("detach", "--pin-dir", env.pinDirectory)
            #expect(detach.status == 0, "\(detach.stderr)")
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory))
            #expect(!env.cgroup.exists) // created by load, empty: removed with the sock_ops program
            #expect(env.accelerator.drainingMaps().map(\.sockets) == [2])
            _ = try DataPathTests.exchange(pair, rounds: 5) // still works, byte for byte
        }

        @Test("an sk_skb stream_parser + stream_verdict pair is attached to the SOCKMAP its verdict references")
        func streamPair() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let load = try CommandRunner.cli("load", PackageLayout.fixture("libbpf_skb_sockmap"), "--cgroup", env.cgroup.path,
                                             "--pin-dir", env.pinDirectory)
            #expect(load.status == 0, "\(load.stderr)")
            let state = try #require(env.accelerator.recordedState())
            #expect(state.sockhashMap == "skb_map")
            #expect(state.parserProgram == "skb_parser")
            #expect(!state.providesOwnMaps)
            let map = try env.accelerator.map("skb_map")
            let parser = try env.accelerator.program("skb_parser").info().id
            let verdict = try env.accelerator.program("skb_verdict").info().id
            #expect(try MapAttachment.query(map: map, type: .skSkbStreamParser) == [parser])
            #expect(try MapAttachment.query(map: map, type: .skSkbStreamVerdict) == [verdict])

            let pair = try TCPPair.make(.ipv4, in: env)
            // Every message passes, byte for byte. Read after poll() says readable: on 6.18 a
            // blocking recv() retried on EAGAIN did not get the parsed data here within 10 s,
            // while poll() + recv() (what Python's socket timeouts do) gets it at once.
            for round in 0..<20 {
                let message = Pattern.bytes(seed: 3, offset: round, count: 1 + round * 97)
                try pair.client.sendAll(message)
                var got: [UInt8] = []
                while got.count < message.count, pollEvents(pair.server.fd, milliseconds: 5000) & Int16(POLLIN) != 0 {
                    var buffer = [UInt8](repeating: 0, count: message.count - got.count)
                    let n = recv(pair.server.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    if n > 0 { got += buffer.prefix(n) } else if n == 0 || errno != EAGAIN { break }
                }
                #expect(got == message, "round \(round)")
            }
            #expect(try env.accelerator.rawEntries().count == 2)
            let report = try env.accelerator.status()
            #expect(report.programs.map(\.name) == ["skb_sockops", "skb_parser", "skb_verdict"])
            #expect(report.sockhash?.entries == 2)
            let dump = try CommandRunner.cli("dump-map", "--pin-dir", env.pinDirectory)
            #expect(dump.stdout.contains("key=\(pair.server.localPort % 64)"), "\(dump.stdout)")

            let detached = try env.accelerator.detach(force: true)
            #expect(detached.wasLoaded)
            #expect(try MapAttachment.query(map: map, type: .skSkbStreamVerdict).isEmpty)
            #expect(try MapAttachment.query(map: map, type: .skSkbStreamParser).isEmpty)
        }

        @Test("no sockmap, or several, is refused with a clear line; --map settles it")
        func mapChoice() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let two = PackageLayout.fixture("libbpf_two_sockmaps")
            let ambiguous = try CommandRunner.cli("load", two, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(ambiguous.status == 1)
            #expect(ambiguous.stderr.contains("its verdict program two_redirect references several sockmaps (hash_v4, hash_other): name the one to use with --map NAME"), "\(ambiguous.stderr)")
            let none = try CommandRunner.cli("load", PackageLayout.fixture("libbpf_no_sockmap"), "--cgroup", env.cgroup.path,
                                             "--pin-dir", env.pinDirectory)
            #expect(none.status == 1)
            #expect(none.stderr.contains("references no SOCKHASH or SOCKMAP"), "\(none.stderr)")
            let notSockmap = try CommandRunner.cli("load", PackageLayout.fixture("libbpf_no_sockmap"), "--map", "seen",
                                                   "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(notSockmap.stderr.contains("--map seen is a"), "\(notSockmap.stderr)")
            #expect(!env.cgroup.exists)

            let chosen = try CommandRunner.cli("load", two, "--map", "hash_v4", "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(chosen.status == 0, "\(chosen.stderr)")
            #expect(env.accelerator.recordedState()?.sockhashMap == "hash_v4")
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 10)
            #expect(Self.tcpBytesReceived(pair.server.fd) == 0) // redirected through hash_v4
        }

        @Test("a seed-object load killed after any step is recovered by the next load", arguments: Accelerator.LoadStep.allCases)
        func killedLoad(step: Accelerator.LoadStep) throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let killed = try CommandRunner.cli(environment: ["SWIFT_SOCKMAP_TEST_KILL_AFTER_STEP": "\(step.rawValue)"],
                                               "load", Self.seedObject, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(killed.status != 0)
            let again = try CommandRunner.cli("load", Self.seedObject, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            if step == .cgroupAttached {
                #expect(again.status == 3, "\(again.stderr)") // the killed load had committed
            } else {
                #expect(again.status == 0, "\(again.stderr)")
            }
            let fd = try env.cgroup.open()
            defer { try? fd.close() }
            #expect(try CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps).count == 1)
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 5)
            #expect(Self.tcpBytesReceived(pair.server.fd) == 0)
        }
    }
}
