import Foundation

// What a test waits on instead of sleeping: where a thread of this process sleeps in the kernel.

/// Pins the calling thread to one CPU.
func pinCurrentThread(to cpu: Int) {
    var set = cpu_set_t()
    withUnsafeMutableBytes(of: &set) { bytes in
        bytes.storeBytes(of: UInt64(1) << UInt64(cpu % 64), toByteOffset: (cpu / 64) * 8, as: UInt64.self)
    }
    _ = LibC.shared.schedSetAffinity(0, MemoryLayout<cpu_set_t>.size, &set)
}

/// Whether the thread `tid` of this process is asleep now: its wait channel
/// (/proc/self/task/TID/wchan) is "0" while it runs or is runnable.
func threadSleeps(_ tid: pid_t) -> Bool {
    guard let wchan = try? String(contentsOfFile: "/proc/self/task/\(tid)/wchan", encoding: .utf8) else { return false }
    return !wchan.isEmpty && wchan != "0"
}

/// The kernel stack of the thread `tid` of this process while it sleeps (/proc/self/task/TID/stack,
/// shown to root), or nil while it runs: a running thread's stack file shows where it last
/// slept, which is stale.
func sleepingStack(_ tid: pid_t) -> String? {
    guard threadSleeps(tid) else { return nil }
    return try? String(contentsOfFile: "/proc/self/task/\(tid)/stack", encoding: .utf8)
}

/// Whether the thread `tid` of this process sleeps in the kernel function `function`.
func threadWaits(_ tid: pid_t, in function: String) -> Bool {
    sleepingStack(tid)?.contains(" " + function + "+") ?? false
}

/// Whether the thread `tid` of this process sleeps inside a receive call (its kernel stack shows
/// a `recvmsg` function and a wait: tcp_recvmsg's sk_wait_data, tcp_bpf_recvmsg's
/// tcp_msg_wait_data).
func threadBlockedInReceive(_ tid: pid_t) -> Bool {
    guard let text = sleepingStack(tid) else { return false }
    return text.contains("recvmsg") && (text.contains(" sk_wait_data+") || text.contains(" tcp_msg_wait_data+"))
}
