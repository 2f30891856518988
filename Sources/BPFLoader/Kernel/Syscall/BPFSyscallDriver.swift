import BPFObject
internal import CBPF
import SystemPackage

/// The one entry point to `bpf(2)`: every command of the loader goes through `current`, so a test
/// can replace the kernel (as swift-system's mocking driver and aya's `override_syscall` do).
///
/// `current` is a task-local value: a test that binds it with `$current.withValue(_:operation:)`
/// sees its own driver, and tests running in parallel do not see each other's.
package struct BPFSyscallDriver: Sendable {
    /// Runs `command` on the `union bpf_attr` in `attr` (`attr.count` is `cbpf_attr_size()`);
    /// returns the syscall's result or its errno. Pointers stored in the attribute are valid
    /// until the call returns.
    package let run: @Sendable (_ command: BPFCommand, _ attr: UnsafeMutableRawBufferPointer) -> Result<Int32, Errno>

    /// A driver that runs `run` instead of the kernel.
    package init(run: @escaping @Sendable (BPFCommand, UnsafeMutableRawBufferPointer) -> Result<Int32, Errno>) {
        self.run = run
    }

    /// The running kernel, through the C shim (which retries `EINTR`).
    package static let kernel = BPFSyscallDriver { command, attr in
        let rc = cbpf_bpf(command.rawValue, attr.baseAddress!.assumingMemoryBound(to: bpf_attr.self), UInt32(attr.count))
        return rc < 0 ? .failure(Errno(rawValue: Int32(-rc))) : .success(Int32(rc))
    }

    /// The driver bpf(2) commands of this task go to.
    @TaskLocal package static var current: BPFSyscallDriver = .kernel
}

extension BPFSyscall {
    /// The size of `union bpf_attr` as the C header knows it: what the kernel is told.
    static let attrSize = Int(cbpf_attr_size())

    /// Runs `command` with `attr` through the current driver.
    static func run(_ command: BPFCommand, _ attr: inout bpf_attr) -> Result<Int32, Errno> {
        precondition(MemoryLayout<bpf_attr>.size == attrSize, "union bpf_attr differs between Swift and C")
        return withUnsafeMutableBytes(of: &attr) { bytes in BPFSyscallDriver.current.run(command, bytes) }
    }

    /// Runs `command`, turning a failure into a `BPFError` that says what was being done.
    @discardableResult
    static func call(_ command: BPFCommand, _ attr: inout bpf_attr, _ context: @autoclosure () -> String) throws(BPFError) -> Int32 {
        switch run(command, &attr) {
        case .success(let result): return result
        case .failure(let errno): throw BPFError(command: command, errno: errno, context: context())
        }
    }

    /// Like `call`, but `ENOENT` (no such element, key or id) is `nil` rather than an error.
    static func callUnlessAbsent(_ command: BPFCommand, _ attr: inout bpf_attr,
                                 _ context: @autoclosure () -> String) throws(BPFError) -> Int32? {
        switch run(command, &attr) {
        case .success(let result): return result
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let errno): throw BPFError(command: command, errno: errno, context: context())
        }
    }
}
