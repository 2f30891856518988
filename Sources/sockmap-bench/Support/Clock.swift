import Glibc

/// CLOCK_MONOTONIC in nanoseconds: cheap (vDSO), never jumps.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// A point in monotonic time after which a wait counts as a hang.
struct Deadline {
    let nanos: UInt64

    init(seconds: Double) {
        nanos = monotonicNanos() &+ UInt64(seconds * 1e9)
    }

    var hasPassed: Bool { monotonicNanos() >= nanos }

    /// What is left, in whole milliseconds for poll(2); at least 1 until the deadline passes.
    var remainingMilliseconds: Int32 {
        let now = monotonicNanos()
        guard now < nanos else { return 0 }
        return Int32(clamping: max(1, (nanos - now) / 1_000_000))
    }
}

/// Stderr, unbuffered: progress and warnings, so stdout stays the Markdown report alone.
func note(_ text: String) {
    let line = text + "\n"
    line.utf8CString.withUnsafeBufferPointer { bytes in
        _ = write(2, bytes.baseAddress, bytes.count - 1)
    }
}
