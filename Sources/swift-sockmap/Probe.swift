import ArgumentParser
import SockmapAccelerator

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show which BPF features this kernel has and what the accelerator does about each missing one.",
        discussion: """
            Probes map types, program types, helpers per program type, BTF and BPF_F_REPLACE the way \
            libbpf does (by creating tiny maps and loading tiny programs, all closed again). \
            Exits 0 when `load` can work on this kernel, 1 when a required feature is missing (the \
            last line then is the one `load` would refuse with), 77 when not root.
            """)

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let report = try CLILog.reporting { try ProbeReport.probe() }
        if json {
            print(try JSONOutput.string(report))
        } else {
            print(ProbeText.render(report))
        }
        if !report.loadable { throw ExitCode(1) }
    }
}

enum ProbeText {
    static func render(_ r: ProbeReport) -> String {
        let width = r.features.map(\.summary.count).max() ?? 0
        var lines = ["kernel \(r.kernel)", "  " + "feature".padded(width) + "  since  here  need / without it"]
        for f in r.features {
            let verdict = f.supported ? "yes   \(f.need.rawValue)" : "NO    \(f.ifMissing)"
            lines.append("  " + f.summary.padded(width) + "  " + f.firstKernel.padded(5) + "  " + verdict)
        }
        if let networks = r.localNetworks {
            let listed = networks.isEmpty ? "" : ", " + networks.joined(separator: ", ")
            lines.append("pairing tokens toward: loopback, each socket's own address\(listed) (`load --local-prefix` adds more)")
        }
        lines.append(r.refusal.map { "accelerator: cannot load: \($0)" } ?? "accelerator: every required feature is present")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
