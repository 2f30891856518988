import BPFLoader
import Foundation
import SystemPackage
import Testing

/// The host-system layer without root: directories, renames, files and locks in a temporary
/// directory, and the errno each failure is typed with.
@Suite("host system")
struct HostSystemTests {
    /// A fresh directory under the temporary directory, removed after `body`.
    func inTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.path + "/sockmap-test-host-\(getpid())-\(UUID().uuidString)"
        try HostSystem.makeDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    @Test("mkdir twice gives fileExists; rmdir of a missing directory gives ENOENT")
    func directories() throws {
        try inTemporaryDirectory { root in
            try HostSystem.makeDirectory(root + "/a")
            #expect(throws: Errno.fileExists) { try HostSystem.makeDirectory(root + "/a") }
            #expect(throws: Errno.noSuchFileOrDirectory) { try HostSystem.makeDirectory(root + "/missing/b") }
            try HostSystem.removeDirectory(root + "/a")
            #expect(throws: Errno.noSuchFileOrDirectory) { try HostSystem.removeDirectory(root + "/a") }
        }
    }

    @Test("rename moves a directory; into a missing directory it gives ENOENT")
    func move() throws {
        try inTemporaryDirectory { root in
            try HostSystem.makeDirectory(root + "/staging")
            #expect(throws: Errno.noSuchFileOrDirectory) { try HostSystem.move(root + "/staging", to: root + "/missing/pins") }
            try HostSystem.move(root + "/staging", to: root + "/pins")
            #expect(FileManager.default.fileExists(atPath: root + "/pins"))
            #expect(!FileManager.default.fileExists(atPath: root + "/staging"))
        }
    }

    @Test("write to an existing file, read it back; neither creates a missing file")
    func files() throws {
        try inTemporaryDirectory { root in
            #expect(FileManager.default.createFile(atPath: root + "/control", contents: nil))
            try HostSystem.write("42\n", toExisting: root + "/control")
            #expect(try HostSystem.readFile(root + "/control") == Array("42\n".utf8))
            #expect(throws: Errno.noSuchFileOrDirectory) { try HostSystem.write("1", toExisting: root + "/absent") }
            #expect(throws: Errno.noSuchFileOrDirectory) { try HostSystem.readFile(root + "/absent") }
            #expect(throws: Errno.notDirectory) { try HostSystem.openDirectory(root + "/control") }
            try HostSystem.openDirectory(root).close()
        }
    }

    @Test("mount at a path that does not exist gives ENOENT (EPERM without root)")
    func mountMissing() throws {
        try inTemporaryDirectory { root in
            do throws(Errno) {
                try HostSystem.mountFileSystem(.tracefs, at: root + "/missing")
                Issue.record("mounted at a missing path")
            } catch {
                #expect(error == (HostSystem.isRoot ? .noSuchFileOrDirectory : .notPermitted))
            }
        }
    }

    @Test("a second exclusive lock from the same process is held; free again once the first is dropped")
    func lockHeld() throws {
        try inTemporaryDirectory { root in
            do {
                let first = try FileLock(exclusive: root)
                #expect(first.path == root)
                #expect(throws: FileLock.Failure.held) { _ = try FileLock(exclusive: root) }
                let start = ContinuousClock.now
                #expect(throws: FileLock.Failure.held) { _ = try FileLock(exclusive: root, wait: .upTo(.milliseconds(50))) }
                #expect(ContinuousClock.now - start >= .milliseconds(50))
                _ = consume first
            }
            let again = try FileLock(exclusive: root, wait: .forever)
            #expect(try again.whileHeld { () throws(Errno) in 7 } == 7)
            _ = try FileLock(exclusive: root) // whileHeld released it
        }
    }

    @Test("a file can be locked too; as a directory it fails to open with ENOTDIR")
    func lockFile() throws {
        try inTemporaryDirectory { root in
            #expect(FileManager.default.createFile(atPath: root + "/lock", contents: nil))
            let lock = try FileLock(exclusive: root + "/lock", directory: false)
            #expect(throws: FileLock.Failure.held) { _ = try FileLock(exclusive: root + "/lock", directory: false) }
            #expect(throws: FileLock.Failure.open(.notDirectory)) { _ = try FileLock(exclusive: root + "/lock") }
            _ = consume lock
        }
    }

    @Test("a lock on a missing path fails to open, with the errno's text")
    func lockMissing() throws {
        try inTemporaryDirectory { root in
            do throws(FileLock.Failure) {
                _ = try FileLock(exclusive: root + "/missing")
                Issue.record("locked a missing path")
            } catch {
                #expect(error == .open(.noSuchFileOrDirectory))
                #expect(error.description == "cannot open: No such file or directory")
            }
        }
    }

    @Test("isRoot agrees with the kernel's own account of this process's effective uid (/proc/self/status)")
    func isRoot() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let uids = try #require(status.split(separator: "\n").first { $0.hasPrefix("Uid:") })
        let effective = try #require(uids.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst(2).first)
        #expect(HostSystem.isRoot == (effective == "0"))
    }
}
