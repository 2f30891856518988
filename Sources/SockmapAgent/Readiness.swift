import BPFLoader
import FoundationEssentials
import Glibc
import SockmapAccelerator

/// `/readyz`: whether the installation is complete, and if not, why (the first problem found).
package enum Readiness {
    /// nil when ready, otherwise one line saying what is missing.
    package static func problem(of accelerator: Accelerator) -> String? {
        let state: LoadState
        switch accelerator.installation() {
        case .none: return "not loaded: nothing is pinned in \(accelerator.pins.directory)"
        case .incomplete(let reason): return "incomplete installation: \(reason)"
        case .unknown(let reason): return "cannot tell whether the installation is live: \(reason)"
        case .loaded(let loaded): state = loaded
        }
        let pins = accelerator.pins
        var expected = [pins.map(state.sockhashMap), pins.program(state.sockopsProgram), pins.program(state.verdictProgram)]
        if let parser = state.parserProgram { expected.append(pins.program(parser)) }
        if state.providesOwnMaps { expected += [pins.map(DataPath.countersMap), pins.map(DataPath.configMap)] }
        if let missing = expected.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            return "pin missing: \(missing)"
        }
        return verdictProblem(state, pins: pins)
    }

    /// The pinned verdict program must be the one the kernel runs for the map's sockets.
    private static func verdictProblem(_ state: LoadState, pins: PinLayout) -> String? {
        do {
            let map = try BPFMap(pinned: pins.map(state.sockhashMap))
            let program = try BPFProgram(pinned: pins.program(state.verdictProgram))
            let attached = try MapAttachment.query(map: map, type: state.verdictAttachType)
            guard attached.contains(try program.info().id) else {
                return "\(state.verdictProgram) is not attached to map \(state.sockhashMap)"
            }
            return nil
        } catch {
            return "cannot check the map attachment: \(error)"
        }
    }
}
