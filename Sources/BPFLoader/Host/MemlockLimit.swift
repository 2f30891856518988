import BPFObject

internal import CBPF

/// `RLIMIT_MEMLOCK` and BPF: kernels before 5.11 charge every map and program to the caller's
/// locked-memory limit, and a map or program that does not fit fails with `EPERM`, the same errno
/// as a missing privilege. From 5.11 the memory is charged to the memory cgroup instead and the
/// limit is ignored. Like libbpf, the loader lifts the limit before its first map, program or
/// BTF object, on kernels that charge it, when the limit is finite and it runs as root.
package enum MemlockLimit {
    /// The soft limit in bytes, or nil when it is unlimited.
    package static var current: UInt64? {
        let limit = cbpf_memlock_limit()
        return limit == UInt64.max ? nil : limit
    }

    /// Raises the limit to infinity once per process, when it is finite and the caller is root.
    /// The outcome is kept so an `EPERM` can say whether the limit was the cause.
    package static func raiseOnce() { _ = raised }

    /// Whether the running kernel charges BPF memory to the limit (before 5.11; assumed when the
    /// release cannot be read).
    package static let kernelCharges: Bool = KernelRelease.running.map { $0 < KernelRelease(major: 5, minor: 11) } ?? true

    /// Raises the limit to infinity now when the kernel charges it, it is finite and the caller is
    /// root. Returns nil when nothing had to be done or the raise worked, otherwise the errno of
    /// `setrlimit` (the soft limit is then at least raised to the hard one).
    @discardableResult
    package static func raise() -> Int32? {
        guard kernelCharges, current != nil, HostSystem.isRoot else { return nil }
        let rc = cbpf_memlock_raise()
        return rc == 0 ? nil : -rc
    }

    /// The outcome of the once-per-process raise.
    static let raised: Int32? = raise()
}
