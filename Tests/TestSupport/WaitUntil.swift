import Foundation

/// Checks `condition` every 10 ms until it holds or `timeout` seconds pass; returns whether it
/// held. For state that nothing signals (a map's entries, a thread's wait channel, a socket's
/// queue): wait for the condition itself, never for a fixed time.
package func waitUntil(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(10_000)
    }
}
