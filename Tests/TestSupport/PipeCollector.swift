import Foundation

/// Drains the read end of a child's pipe on a background thread from the start, so a chatty
/// child never blocks on a full pipe, and keeps what it read: all of it, and its complete lines
/// as they arrive (a last line without a newline is not a line).
package final class PipeCollector: @unchecked Sendable {
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var data = Data()
    private var complete: [String] = []
    private var pending = Data()
    private var done = false

    /// Starts reading `handle` to its end.
    package init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                defer { condition.broadcast(); condition.unlock() }
                if chunk.isEmpty { done = true; return }
                data += chunk
                pending += chunk
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    complete.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
        }
    }

    /// The complete lines read so far, without their newlines.
    package var lines: [String] {
        condition.lock(); defer { condition.unlock() }
        return complete
    }

    /// Waits for the first line, from the first one read, that matches `predicate`; nil when the
    /// pipe closes or `timeout` passes first. `predicate` sees each line once, in order.
    package func awaitLine(timeout: TimeInterval, _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        var seen = 0
        while true {
            while seen < complete.count {
                let line = complete[seen]
                seen += 1
                if predicate(line) { return line }
            }
            if done || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Waits until the pipe is closed (the process, and any child that inherited the pipe,
    /// exited), for at most `timeout` seconds; returns whether it is.
    @discardableResult
    package func awaitEnd(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        while !done { if !condition.wait(until: deadline) { return done } }
        return true
    }

    /// Everything read, once the pipe is closed: waits for that without a limit.
    package func finish() -> Data {
        condition.lock(); defer { condition.unlock() }
        while !done { condition.wait() }
        return data
    }
}
