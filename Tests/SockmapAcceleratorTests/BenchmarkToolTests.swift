import Foundation
import TestSupport
import Testing

extension KernelIntegration {
    /// Keeps `sockmap-bench` from rotting: its quick mode must run all three modes and every
    /// workload kind, and its accelerated mode must really be accelerated. No timing is asserted.
    @Suite struct BenchmarkToolTests {
        @Test("sockmap-bench --quick measures plain, accelerated and unix side by side", .timeLimit(.minutes(3)))
        func quickRun() throws {
            let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(getpid()).json").path
            let svg = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(getpid()).svg").path
            defer {
                try? FileManager.default.removeItem(atPath: json)
                try? FileManager.default.removeItem(atPath: svg)
            }
            let result = try CommandRunner.run(KernelTestEnvironment.buildDirectory + "/sockmap-bench",
                                               ["--quick", "--object", PackageLayout.redirObject, "--json", json, "--svg", svg],
                                               timeout: 170)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("accelerated/plain"))

            struct Report: Decodable {
                struct Series: Decodable {
                    struct Scenario: Decodable { let kind: String }
                    let scenario: Scenario
                    let medians: [String: Double]
                }
                struct Delta: Decodable { let values: [String: UInt64] }
                let series: [Series]
                let redirectDelta: Delta?
            }
            let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
            #expect(Set(report.series.map(\.scenario.kind)) == ["rtt", "stream", "connect"])
            for series in report.series {
                #expect(Set(series.medians.keys) == ["plain", "accelerated", "unix"])
                #expect(series.medians.values.allSatisfy { $0 > 0 })
            }
            #expect((report.redirectDelta?.values["messagesRedirected"] ?? 0) > 0)
            let chart = try String(contentsOfFile: svg, encoding: .utf8)
            #expect(chart.hasPrefix("<svg") || chart.hasPrefix("<?xml"))
        }
    }
}
