import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    @Suite struct LifecycleTests {
        @Test("load pins both programs and attaches them; detach removes everything")
        func loadThenDetach() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            guard case .loaded(let state) = env.accelerator.installation() else {
                Issue.record("not loaded after load")
                return
            }
            #expect(state.cgroup == env.cgroup.path)
            #expect(state.createdCgroup)
            let sockops = try env.accelerator.program("sockmap_sockops")
            let cgroupFD = try env.cgroup.open()
            defer { try? cgroupFD.close() }
            #expect(try CgroupAttachment.query(cgroup: cgroupFD, type: .cgroupSockOps) == [sockops.info().id])
            let sockhash = try env.accelerator.map("sock_hash")
            let verdict = try env.accelerator.program("sockmap_redirect")
            #expect(try MapAttachment.query(map: sockhash, type: .skMsgVerdict) == [verdict.info().id])

            let report = try env.accelerator.detach()
            #expect(report.wasLoaded)
            #expect(report.removedCgroup)
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory))
            #expect(!env.cgroup.exists)
            #expect(try MapAttachment.query(map: sockhash, type: .skMsgVerdict).isEmpty)
            // Detaching again is fine and says nothing was loaded.
            #expect(try env.accelerator.detach().wasLoaded == false)
        }

        @Test("detach leaves an existing cgroup with no program of ours")
        func detachExistingCgroup() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            try env.cgroup.create()
            try env.accelerator.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            let report = try env.accelerator.detach()
            #expect(!report.removedCgroup)
            #expect(env.cgroup.exists)
            let fd = try env.cgroup.open()
            defer { try? fd.close() }
            #expect(try CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps).isEmpty)
        }

        @Test("loading twice is refused with 'already loaded'")
        func loadTwice() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            #expect {
                try env.accelerator.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            } throws: { error in
                guard case AcceleratorError.alreadyLoaded = error else { return false }
                return true
            }
        }

        @Test("a second installation on the same cgroup (another pin directory) is refused")
        func secondInstallationRefused() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let other = Accelerator(pinDirectory: env.pinDirectory + "-second")
            #expect {
                try other.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
            } throws: { error in
                guard case AcceleratorError.cgroupTaken = error else { return false }
                return true
            }
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory + "-second"))
            let fd = try env.cgroup.open()
            defer { try? fd.close() }
            #expect(try CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps).count == 1)
        }

        @Test("a failing load leaves nothing behind")
        func failedLoadUndoes() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let bogus = FileManager.default.temporaryDirectory.appendingPathComponent("not-bpf-\(getpid()).o").path
            try Data("definitely not ELF".utf8).write(to: URL(fileURLWithPath: bogus))
            defer { try? FileManager.default.removeItem(atPath: bogus) }
            #expect(throws: AcceleratorError.self) {
                try env.accelerator.load(.init(objectPath: bogus, cgroup: env.cgroup.path))
            }
            #expect(!env.cgroup.exists)
            #expect(!FileManager.default.fileExists(atPath: env.pinDirectory))
        }
    
        @Test("two loads at once: one loads, the other says already loaded; nothing is half-attached")
        func concurrentLoads() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            final class Statuses: @unchecked Sendable {
                let lock = NSLock()
                var values: [Int32] = []
                func add(_ value: Int32) { lock.lock(); values.append(value); lock.unlock() }
            }
            let statuses = Statuses()
            let (cgroup, pinDirectory) = (env.cgroup.path, env.pinDirectory)
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                let result = try? CommandRunner.cli("load", PackageLayout.redirObject, "--cgroup", cgroup, "--pin-dir", pinDirectory)
                statuses.add(result?.status ?? -1)
            }
            #expect(statuses.values.sorted() == [0, 3])
            guard case .loaded = env.accelerator.installation() else {
                Issue.record("not loaded")
                return
            }
            let fd = try env.cgroup.open()
            defer { try? fd.close() }
            #expect(try CgroupAttachment.query(cgroup: fd, type: .cgroupSockOps).count == 1)
            #expect(!FileManager.default.fileExists(atPath: env.accelerator.pins.staging))
        }
    }
}
