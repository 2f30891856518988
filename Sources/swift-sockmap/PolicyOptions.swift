import ArgumentParser
import SockmapAccelerator

/// The allow/deny list a load starts with, for `load` and `agent`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "Policy mode: 'deny' (the default) accelerates everything but listed ports/addresses; 'allow' only listed ones.")
    var policyMode: DataPath.PolicyMode?

    @Option(name: .customLong("policy"), help: ArgumentHelp(
        "A port or address for the allow/deny list, in place before the first connection (repeatable).",
        valueName: "PORT|ADDRESS"))
    var policyEntries: [String] = []

    func validate() throws {
        for entry in policyEntries {
            do { _ = try PolicyEntry(parsing: entry) } catch { throw ValidationError(error.description) }
        }
    }

    /// Puts the mode and the entries into `options`.
    func apply(to options: inout Accelerator.LoadOptions) {
        options.policyMode = policyMode ?? .deny
        options.policyEntries = policyEntries.compactMap { try? PolicyEntry(parsing: $0) }
    }
}
