import SockmapAccelerator
import Testing
@testable import sockmap_bench

/// Per-run readings of the BPF installations: sk_msg ns/run, fast-path share, demotions.
@Suite("data-path readings")
struct DataPathSeriesTests {
    static let stream = Scenario(kind: .stream, size: 65536, pinning: .crossCPU)

    static func counters(redirected bytes: UInt64, demoted: UInt64 = 0, released: UInt64 = 0) -> Counters {
        var counters = Counters()
        counters.bytesRedirected = bytes
        counters.backpressureToTCP = demoted
        counters.socketsReleased = released
        return counters
    }

    @Test func readingIsTheDifferenceOfTwoSnapshots() throws {
        let before = InstallationProbe.Snapshot(runTimeNanoseconds: 1_000, runCount: 10, counters: Self.counters(redirected: 500, demoted: 1))
        let after = InstallationProbe.Snapshot(runTimeNanoseconds: 31_000, runCount: 110, counters: Self.counters(redirected: 1_508, demoted: 3, released: 2))
        let reading = RunReading(before: before, after: after, bytesSent: 1_000)
        #expect(reading.programRuns == 100)
        #expect(reading.programNanoseconds == 30_000)
        #expect(reading.nanosecondsPerRun == 300)
        #expect(reading.counters?.backpressureToTCP == 2)
        #expect(reading.counters?.socketsReleased == 2)
        // 1008 bytes redirected: the 1000 written and the receiver's 8-byte answer.
        #expect(reading.fastPathFraction == 1.0)
    }

    @Test func missingOrZeroRunsGiveNoCost() {
        #expect(RunReading(programRuns: 0, programNanoseconds: 0).nanosecondsPerRun == nil)
        let unreadable = RunReading(before: .init(), after: .init(runTimeNanoseconds: 5, runCount: 1), bytesSent: nil)
        #expect(unreadable.programRuns == nil)
        #expect(unreadable.nanosecondsPerRun == nil)
        // A counter that went backwards (the installation was replaced) is not a run count.
        let replaced = RunReading(before: .init(runTimeNanoseconds: 100, runCount: 9), after: .init(runTimeNanoseconds: 50, runCount: 3), bytesSent: nil)
        #expect(replaced.programRuns == nil)
    }

    @Test func fastPathShareLeavesOutTheAnswerAndNeedsCounters() {
        // A connection moved to TCP early: 8 bytes redirected of 4 MB, the answer on TCP.
        #expect(RunReading(counters: Self.counters(redirected: 8), bytesSent: 4_000_000).fastPathFraction == 0)
        #expect(RunReading(counters: Self.counters(redirected: 3_000_008), bytesSent: 4_000_000).fastPathFraction == 0.75)
        #expect(RunReading(counters: nil, bytesSent: 4_000_000).fastPathFraction == nil)   // the seed's object
        #expect(RunReading(counters: Self.counters(redirected: 100), bytesSent: nil).fastPathFraction == nil)   // not a stream
    }

    @Test func seriesPairsCostRoundByRoundAndSumsDemotions() throws {
        var series = DataPathSeries(scenario: Self.stream)
        let ours: [(UInt64, UInt64)] = [(400, 1), (330, 1), (900, 2)]   // ns total, runs
        let seed: [(UInt64, UInt64)] = [(200, 1), (300, 1), (300, 1)]
        for (index, (o, s)) in zip(ours, seed).enumerated() {
            series.append(RunReading(programRuns: o.1, programNanoseconds: o.0,
                                     counters: Self.counters(redirected: 90 + 8, demoted: UInt64(index), released: 1), bytesSent: 100), for: .accelerated)
            series.append(RunReading(programRuns: s.1, programNanoseconds: s.0, bytesSent: 100), for: .reference)
        }
        #expect(series.nanosecondsPerRun(.accelerated) == [400, 330, 450])
        #expect(series.medianNanosecondsPerRun(.accelerated) == 400)
        #expect(series.medianNanosecondsPerRun(.reference) == 300)
        // Per-round ratios 2.0, 1.1, 1.5: median 1.5 (a ratio of medians would say 1.33).
        let ratio = try #require(series.costRatio(.accelerated, over: .reference))
        #expect(ratio.median == 1.5)
        #expect(abs(ratio.min - 1.1) < 1e-12)
        #expect(ratio.max == 2.0)
        #expect(series.fastPathFractions(.accelerated) == [0.9, 0.9, 0.9])
        #expect(series.fastPathFractions(.reference).isEmpty)
        let left = try #require(series.leftFastPath(.accelerated))
        #expect(left.backpressureToTCP == 3)
        #expect(left.socketsReleased == 3)
        #expect(left.runs == 3)
        #expect(series.leftFastPath(.reference) == nil)
        let pooled = try #require(DataPathSeries.pooledNanosecondsPerRun([series], .accelerated))
        #expect(pooled.runs == 4)
        #expect(pooled.nanosecondsPerRun == 1630.0 / 4)
        #expect(DataPathSeries.pooledNanosecondsPerRun([series], .plain) == nil)
    }

    @Test func anUnreadableRoundKeepsTheOthersAligned() throws {
        var series = DataPathSeries(scenario: Self.stream)
        series.append(RunReading(programRuns: 1, programNanoseconds: 100), for: .accelerated)
        series.append(RunReading(), for: .accelerated)
        series.append(RunReading(programRuns: 1, programNanoseconds: 300), for: .accelerated)
        for nanos: UInt64 in [100, 100, 100] { series.append(RunReading(programRuns: 1, programNanoseconds: nanos), for: .reference) }
        let ratio = try #require(series.costRatio(.accelerated, over: .reference))
        #expect(ratio.values == [1, 3])   // round 2 left out, round 3 still paired with round 3
        #expect(series.medianNanosecondsPerRun(.accelerated) == 200)
    }
}
