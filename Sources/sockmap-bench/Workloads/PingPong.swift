import Histogram

/// Ping-pong round trips: the client sends `size` bytes, the server reads the whole message and
/// sends it back, the client reads the whole reply. The client times every round trip.
enum PingPong {
    /// Server: echo whole messages until the client closes between two messages.
    static func serve(_ listener: borrowing Socket, size: Int, noDelay: Bool, timeouts: SocketTimeouts) throws -> ChildReport {
        let connection = try listener.accept(timeouts: timeouts, noDelay: noDelay)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        var report = ChildReport()
        while try connection.receiveExactly(into: buffer, timeouts: timeouts) {
            try connection.sendAll(UnsafeRawBufferPointer(buffer), timeouts: timeouts)
            report.messages += 1
        }
        return report
    }

    /// Client: `warmup` untimed round trips, then `iterations` timed ones into a histogram.
    /// First and last byte carry the iteration number, so a stale or mixed-up reply is an error.
    static func run(
        _ connection: borrowing Socket, size: Int, iterations: Int, warmup: Int, timeouts: SocketTimeouts
    ) throws -> ChildReport {
        let outgoing = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        let incoming = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer {
            outgoing.deallocate()
            incoming.deallocate()
        }
        for index in 0..<size { outgoing[index] = UInt8(truncatingIfNeeded: index) }
        // Up to 60 s per round trip at 3 significant digits; anything slower was a hang anyway.
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        let start = monotonicNanos()
        for iteration in 0..<(warmup + iterations) {
            let tag = UInt8(truncatingIfNeeded: iteration)
            outgoing[0] = tag
            outgoing[size - 1] = tag
            let sent = monotonicNanos()
            try connection.sendAll(UnsafeRawBufferPointer(outgoing), timeouts: timeouts)
            guard try connection.receiveExactly(into: incoming, timeouts: timeouts) else {
                throw BenchError("server closed the connection after \(iteration) round trips")
            }
            let received = monotonicNanos()
            guard incoming[0] == tag, incoming[size - 1] == tag else {
                throw BenchError("round trip \(iteration): reply does not echo the request")
            }
            if iteration >= warmup { _ = histogram.record(received - sent) }
        }
        var report = ChildReport()
        report.messages = histogram.totalCount
        report.seconds = Double(monotonicNanos() - start) / 1e9
        report.latencyNanos = [
            "p50": Double(histogram.valueAtPercentile(50)),
            "p99": Double(histogram.valueAtPercentile(99)),
            "p99.9": Double(histogram.valueAtPercentile(99.9)),
            "mean": histogram.mean,
            "max": Double(histogram.max),
        ]
        return report
    }
}
