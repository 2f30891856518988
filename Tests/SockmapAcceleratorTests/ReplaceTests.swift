import BPFLoader
import BPFObject
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    @Suite struct ReplaceTests {
        @Test("load --replace swaps the programs; connections open across the swap stay accelerated and lose nothing")
        func replaceKeepsConnections() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let before = try env.accelerator.program("sockmap_sockops").info().id
            let old = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(old, rounds: 20)
            let mapID = try env.accelerator.map("sock_hash").info().id

            try env.accelerator.replace(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))

            guard case .loaded = env.accelerator.installation() else {
                Issue.record("not loaded after replace")
                return
            }
            let after = try env.accelerator.program("sockmap_sockops").info().id
            #expect(after != before)
            #expect(try env.accelerator.map("sock_hash").info().id == mapID)
            let cgroupFD = try env.cgroup.open()
            defer { try? cgroupFD.close() }
            #expect(try CgroupAttachment.query(cgroup: cgroupFD, type: .cgroupSockOps) == [after])

            // The old connection is still in the map and still redirected, byte for byte.
            let start = try env.counters()
            let moved = try DataPathTests.exchange(old, rounds: 40)
            let delta = try env.counters().delta(since: start)
            #expect(delta.bytesRedirected == UInt64(moved.bytes))
            // A new connection is picked up by the new sock_ops program.
            let fresh = try TCPPair.make(.ipv4, in: env)
            _ = try DataPathTests.exchange(fresh, rounds: 10)
            #expect(try env.counters().socketsInserted == 4)
            #expect(try env.accelerator.entries().count == 4)
        }

        @Test("replace keeps the capacity load gave the SOCKHASH and the sockets' state (--max-entries), and their connections")
        func replaceKeepsCapacity() throws {
            let env = try AcceleratedCgroup(maxEntries: 100)
            defer { env.tearDown() }
            let pair = try TCPPair.make(.ipv4, in: env)
            let states = try env.accelerator.map(DataPath.stateMap).info()
            #expect(states.maxEntries == 200)
            try env.accelerator.replace(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            #expect(try env.accelerator.map(DataPath.sockhashMap).info().maxEntries == 100)
            let kept = try env.accelerator.map(DataPath.stateMap).info()
            #expect(kept.id == states.id && kept.maxEntries == 200, "the same map, with the running sockets' state")
            let before = try env.counters()
            let moved = try DataPathTests.exchange(pair, rounds: 10)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(moved.bytes))
        }

        @Test("replace takes the new object's global data (--set debug=1) while keeping the SOCKHASH")
        func replaceTakesNewGlobals() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let pair = try TCPPair.make(.ipv4, in: env)
            let oldRodata = try env.accelerator.map(".rodata").info().id
            let sockhash = try env.accelerator.map("sock_hash").info().id
            var options = Accelerator.LoadOptions(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path)
            options.globals = ["debug": 1]
            try env.accelerator.replace(options)

            let rodata = try env.accelerator.map(".rodata")
            #expect(try rodata.info().id != oldRodata)
            #expect(try env.accelerator.map("sock_hash").info().id == sockhash)
            let debug = try #require(try ObjectSpec(path: PackageLayout.redirObject).settableGlobals.first { $0.name == "debug" })
            let value = try #require(try rodata.lookup([0, 0, 0, 0]))
            #expect(value[debug.offset] == 1)
            // The connection from before the swap still works and is still redirected.
            let before = try env.counters()
            let moved = try DataPathTests.exchange(pair, rounds: 10)
            #expect(try env.counters().delta(since: before).bytesRedirected == UInt64(moved.bytes))
        }

        @Test("a replace that fails leaves the running installation untouched")
        func replaceIncompatible() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let before = try env.accelerator.program("sockmap_sockops").info().id
            // A truncated ELF: refused while parsing, before anything in the kernel changes.
            let bogus = FileManager.default.temporaryDirectory.appendingPathComponent("bogus-\(getpid()).o").path
            try Data([0x7F, 0x45, 0x4C, 0x46]).write(to: URL(fileURLWithPath: bogus))
            defer { try? FileManager.default.removeItem(atPath: bogus) }
            #expect(throws: AcceleratorError.self) {
                try env.accelerator.replace(.init(objectPath: bogus, cgroup: env.cgroup.path))
            }
            #expect(try env.accelerator.program("sockmap_sockops").info().id == before)
            guard case .loaded = env.accelerator.installation() else {
                Issue.record("installation broken by a refused replace")
                return
            }
        }
    }
}
