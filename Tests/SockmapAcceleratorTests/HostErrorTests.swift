import BPFLoader
import Foundation
@testable import SockmapAccelerator
import SystemPackage
import Testing

/// How the accelerator reports host-system failures: the path, what it was doing, the errno's
/// text. No root needed.
@Suite("host errors")
final class HostErrorTests {
    /// A fresh directory for each test (Swift Testing makes one instance per test), removed after it.
    let root = FileManager.default.temporaryDirectory.path + "/sockmap-test-hosterr-\(getpid())-\(UUID().uuidString)"

    init() throws { try HostSystem.makeDirectory(root) }
    deinit { try? FileManager.default.removeItem(atPath: root) }

    @Test func systemCallDescription() {
        let error = AcceleratorError.systemCall(path: "/sys/fs/bpf/x-draining/7", operation: "move pins aside", errno: .noSuchFileOrDirectory)
        #expect(error.description == "/sys/fs/bpf/x-draining/7: cannot move pins aside: No such file or directory")
    }

    @Test("makeDirectory names the component it could not create")
    func makeDirectoryUnderAFile() throws {
        #expect(FileManager.default.createFile(atPath: root + "/file", contents: nil))
        try BPFFileSystem.makeDirectory(root + "/a/b") // parents made, existing ones accepted
        try BPFFileSystem.makeDirectory(root + "/a/b")
        do throws(AcceleratorError) {
            try BPFFileSystem.makeDirectory(root + "/file/pins")
            Issue.record("created a directory under a file")
        } catch {
            #expect(error.description == "\(root)/file/pins: cannot create directory: Not a directory")
        }
    }

    @Test("a held installation lock times out with the busy message")
    func installationLockHeld() throws {
        let pins = PinLayout(directory: root + "/pins")
        let holder = try FileLock(exclusive: root)
        do throws(AcceleratorError) {
            try InstallationLock.withLock(pins, timeout: 0.05) { () throws(AcceleratorError) in Issue.record("ran while held") } as Void
            Issue.record("took a held lock")
        } catch {
            #expect(error.description == "\(root)/pins: another swift-sockmap is loading or detaching here (waited 0 s)")
        }
        _ = consume holder
        #expect(try InstallationLock.withLock(pins, timeout: 0.05) { () throws(AcceleratorError) in 1 } == 1)
    }

    @Test("the cgroup file a process cannot be moved into is named, with the errno")
    func cgroupAddMissing() throws {
        do throws(AcceleratorError) {
            try Cgroup(path: root + "/none").add(pid: 1)
            Issue.record("wrote to a missing cgroup")
        } catch {
            #expect(error.description == "\(root)/none/cgroup.procs: cannot move process 1 into the cgroup: No such file or directory")
        }
    }
}
