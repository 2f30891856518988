import Foundation
import Synchronization

// A signal's disposition belongs to the whole test process, and test cases run in parallel: a
// case that set one and restored the previous on exit could restore the default while another
// case still relies on its own (a SIGPIPE or SIGUSR1 with the default action ends the run). So
// each disposition the tests need is set once, at first use, and never restored.

/// SIGUSR1 deliveries seen by `restartingHandler`.
let signalsHandled = Atomic<Int>(0)

/// SIGUSR1: a counting handler with SA_RESTART (a blocked call the signal interrupts restarts).
let restartingHandler = Result<Void, any Error> {
    try setAction(SIGUSR1, flags: SA_RESTART) { _ in signalsHandled.add(1, ordering: .relaxed) }
}

/// SIGUSR2: a handler that does nothing, without SA_RESTART (a blocked send returns).
let interruptingHandler = Result<Void, any Error> {
    try setAction(SIGUSR2, flags: 0) { _ in }
}

/// SIGPIPE ignored: sendfile(2) has no MSG_NOSIGNAL, so its EPIPE would come with a SIGPIPE.
let sigpipeIgnored = Result<Void, any Error> {
    try setAction(SIGPIPE, flags: 0, SIG_IGN)
}

private func setAction(_ number: Int32, flags: Int32, _ handler: __sighandler_t?) throws {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = handler
    action.sa_flags = flags
    sigemptyset(&action.sa_mask)
    guard sigaction(number, &action, nil) == 0 else { throw TestSocketError("sigaction(\(number))") }
}
