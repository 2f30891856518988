import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    /// Drives the built `swift-sockmap` binary end to end, as a user would.
    @Suite struct CLITests {
        /// A client/server pair in one Python process (started through `swift-sockmap run`): echoes
        /// 2000 messages, checks every byte, and prints `dump-map --json` while connected.
        static let echoScript = """
            import socket, subprocess, sys
            cli, pins = sys.argv[1], sys.argv[2]
            srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
            cli_sock = socket.create_connection(srv.getsockname()); conn, _ = srv.accept()
            for i in range(2000):
                msg = bytes([(i * 7 + j) % 251 for j in range(1 + i % 300)])
                cli_sock.sendall(msg)
                got = b""
                while len(got) < len(msg): got += conn.recv(len(msg) - len(got))
                assert got == msg, "payload mismatch"
                conn.sendall(got)
                back = b""
                while len(back) < len(msg): back += cli_sock.recv(len(msg) - len(back))
                assert back == msg, "echo mismatch"
            print(subprocess.run([cli, "dump-map", "--json", "--pin-dir", pins], capture_output=True, text=True, check=True).stdout)
            """

        @Test("load, run, status, dump-map and detach through the CLI")
        func endToEnd() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let load = try CommandRunner.cli("load", PackageLayout.redirObject, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.stdout.contains("accelerating TCP in cgroup \(env.cgroup.path)"))

            let again = try CommandRunner.cli("load", PackageLayout.redirObject, "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(again.status == 3)
            #expect(again.stderr.contains("already loaded"))

            let run = try CommandRunner.cli("run", "--pin-dir", env.pinDirectory, "--", "/usr/bin/env", "python3", "-c", Self.echoScript,
                                            KernelTestEnvironment.cliPath, env.pinDirectory)
            #expect(run.status == 0, "\(run.stderr)")
            struct Dump: Decodable {
                struct Entry: Decodable { let local: String; let remote: String; let netnsCookie: UInt64; let socketCookie: UInt64? }
                let count: Int
                let entries: [Entry]
            }
            let dump = try JSONDecoder().decode(Dump.self, from: Data(run.stdout.utf8))
            #expect(dump.count == 2)
            #expect(Set(dump.entries.map(\.local)) == Set(dump.entries.map(\.remote)))
            #expect(dump.entries.allSatisfy { $0.local.hasPrefix("127.0.0.1:") && $0.socketCookie != nil })

            let status = try CommandRunner.cli("status", "--json", "--pin-dir", env.pinDirectory)
            #expect(status.status == 0)
            let report = try JSONDecoder.iso8601.decode(StatusReport.self, from: Data(status.stdout.utf8))
            #expect(report.loaded)
            #expect(report.counters?.messagesRedirected ?? 0 >= 4000)
            #expect(report.counters?.socketsInserted == 2)
            #expect(report.programs.count == 2)

            let stats = try CommandRunner.cli("stats", "--json", "--count", "2", "--interval", "0.1", "--pin-dir", env.pinDirectory)
            #expect(stats.status == 0, "\(stats.stderr)")
            let statLines = stats.stdout.split(separator: "\n")
            #expect(statLines.count == 2)
            struct StatLine: Decodable { let messagesPerSecond: Double; let totals: Counters }
            let lastLine = try JSONDecoder.iso8601.decode(StatLine.self, from: Data((statLines.last ?? "").utf8))
            #expect(lastLine.totals.messagesRedirected == report.counters?.messagesRedirected)

            let detach = try CommandRunner.cli("detach", "--pin-dir", env.pinDirectory)
            #expect(detach.status == 0, "\(detach.stderr)")
            let after = try CommandRunner.cli("status", "--pin-dir", env.pinDirectory)
            #expect(after.status == 4)
            #expect(after.stdout.contains("not loaded"))
            #expect(!env.cgroup.exists)
        }

        @Test("bad input gets one clear line and a non-zero exit")
        func badInput() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let notELF = try CommandRunner.cli("load", "/etc/hostname", "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(notELF.status == 1)
            #expect(notELF.stderr.contains("not an ELF object"))
            let missing = try CommandRunner.cli("load", "/nonexistent.o", "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("/nonexistent.o"))
            let outside = try CommandRunner.cli("load", PackageLayout.redirObject, "--cgroup", "/tmp", "--pin-dir", env.pinDirectory)
            #expect(outside.status == 1)
            #expect(outside.stderr.contains("not a cgroup v2 directory"))
            let badFlag = try CommandRunner.cli("load", PackageLayout.redirObject, "--max-entries", "0")
            #expect(badFlag.status == 64)
            #expect(!env.cgroup.exists)
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory))
        }

        @Test("load --set debug=1 traces inserts and redirects; trace prints them")
        func traceDebug() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let load = try CommandRunner.cli("load", PackageLayout.redirObject, "--cgroup", env.cgroup.path,
                                             "--pin-dir", env.pinDirectory, "--set", "debug=1")
            #expect(load.status == 0, "\(load.stderr)")
            let pair = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(pair, rounds: 3)
            let trace = try CommandRunner.cli("trace", "--count", "200", "--duration", "3")
            #expect(trace.status == 0, "\(trace.stderr)")
            let lines = trace.stdout.split(separator: "\n").filter { $0.contains("swift-sockmap:") }
            #expect(lines.contains { $0.contains("sockops insert port \(pair.server.localPort)") }, "\(trace.stdout.suffix(2000))")
            #expect(lines.contains { $0.contains("redirected") })

            let unknown = try CommandRunner.cli("load", PackageLayout.redirObject, "--cgroup", env.cgroup.path,
                                                "--pin-dir", env.pinDirectory + "-other", "--set", "nope=1")
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("nope"))
        }

        @Test("run --cgroup warns by what runs on the cgroup, not by the default pin directory")
        func runWarnsByCgroup() throws {
            let env = try AcceleratedCgroup() // loaded under its own pin directory, not the default one
            defer { env.tearDown() }
            let accelerated = try CommandRunner.cli("run", "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory + "-none", "--", "/bin/true")
            #expect(accelerated.status == 0, "\(accelerated.stderr)")
            #expect(!accelerated.stderr.contains("unaccelerated"), "\(accelerated.stderr)")

            let plain = try AcceleratedCgroup(load: false)
            defer { plain.tearDown() }
            try plain.cgroup.create()
            let unaccelerated = try CommandRunner.cli("run", "--cgroup", plain.cgroup.path, "--", "/bin/true")
            #expect(unaccelerated.status == 0, "\(unaccelerated.stderr)")
            #expect(unaccelerated.stderr.contains("warning: no sock_ops program using a sockmap runs on cgroup \(plain.cgroup.path)"))

            // A child cgroup inherits its parent's program (allow-multi attach): accelerated too.
            let child = Cgroup(path: env.cgroup.path + "/child")
            try child.create()
            defer { _ = child.removeIfEmpty() }
            let inherited = try CommandRunner.cli("run", "--cgroup", child.path, "--", "/bin/true")
            #expect(inherited.status == 0, "\(inherited.stderr)")
            #expect(!inherited.stderr.contains("unaccelerated"), "\(inherited.stderr)")
        }

        @Test("not root: a clear message and exit 77")
        func notRoot() throws {
            let result = try CommandRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                                   KernelTestEnvironment.cliPath, "status"])
            #expect(result.status == 77)
            #expect(result.stderr.contains("needs root"))
        }
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
