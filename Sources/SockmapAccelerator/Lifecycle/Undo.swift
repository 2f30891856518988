import Logging

/// Undo actions for a multi-step operation, run newest first when it fails.
struct Undo {
    let logger: Logger
    private var actions: [(String, () -> Void)] = []

    init(logger: Logger) { self.logger = logger }

    mutating func add(_ what: String, _ action: @escaping () -> Void) { actions.append((what, action)) }

    func run() {
        for (what, action) in actions.reversed() {
            logger.debug("undo: \(what)")
            action()
        }
    }
}
