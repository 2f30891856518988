import Foundation
import SockmapAccelerator
import TestSupport
import Testing

@Suite struct SHA256Tests {
    @Test("SHA-256 matches the FIPS 180-4 examples")
    func knownDigests() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

extension KernelIntegration {
    @Suite struct EmbeddedObjectTests {
        @Test("load with no object loads the data path built into the binary; status names the object and its SHA-256")
        func embeddedLoad() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let load = try CommandRunner.cli("load", "--cgroup", env.cgroup.path, "--pin-dir", env.pinDirectory)
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.stdout.contains("loaded embedded bpf/redir.c"))
            let state = try #require(env.accelerator.recordedState())
            #expect(state.object == "embedded bpf/redir.c")
            #expect(state.objectSHA256?.count == 64)
            let status = try CommandRunner.cli("status", "--pin-dir", env.pinDirectory)
            #expect(status.stdout.contains("object:    embedded bpf/redir.c (sha256 \(state.objectSHA256 ?? "?"))"), "\(status.stdout)")

            let pair = try TCPPair.make(.ipv4, in: env)
            let before = try env.counters()
            let moved = try DataPathTests.exchange(pair, rounds: 20)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(moved.bytes))

            // --replace with a file, then the hash is the file's, as sha256sum computes it.
            let replace = try CommandRunner.cli("load", "--replace", PackageLayout.redirObject, "--pin-dir", env.pinDirectory)
            #expect(replace.status == 0, "\(replace.stderr)")
            let sum = try CommandRunner.run("/usr/bin/sha256sum", [PackageLayout.redirObject])
            let fileHash = String(sum.stdout.prefix(64))
            #expect(env.accelerator.recordedState()?.objectSHA256 == fileHash)
            #expect(env.accelerator.recordedState()?.object == PackageLayout.redirObject)
            _ = try DataPathTests.exchange(pair, rounds: 5)
        }
    }
}
