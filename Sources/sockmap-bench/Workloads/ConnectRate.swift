/// Connection rate: connect, one small request and response, close; as often as fits in a fixed
/// time. The client closes with RST (SO_LINGER 0) on TCP so no TIME_WAIT piles up and the ephemeral
/// ports last; a final request starting with "Q" tells the server to stop.
enum ConnectRate {
    static let messageSize = 32

    /// Server: accept, read the request, echo it, close; until the "Q" request.
    static func serve(_ listener: borrowing Socket, noDelay: Bool, timeouts: SocketTimeouts) throws -> ChildReport {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: messageSize, alignment: 64)
        defer { buffer.deallocate() }
        var report = ChildReport()
        while true {
            let connection = try listener.accept(timeouts: timeouts, noDelay: noDelay)
            guard try connection.receiveExactly(into: buffer, timeouts: timeouts) else {
                throw BenchError("connection \(report.messages) closed before its request")
            }
            try connection.sendAll(UnsafeRawBufferPointer(buffer), timeouts: timeouts)
            report.messages += 1
            if buffer[0] == UInt8(ascii: "Q") { break }
        }
        return report
    }

    /// Client: connections for `duration` seconds, each checked to get its own request back.
    static func run(to endpoint: Endpoint, duration: Double, timeouts: SocketTimeouts) throws -> ChildReport {
        let request = UnsafeMutableRawBufferPointer.allocate(byteCount: messageSize, alignment: 64)
        let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: messageSize, alignment: 64)
        defer {
            request.deallocate()
            reply.deallocate()
        }
        request.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "R"))
        var report = ChildReport()
        let start = monotonicNanos()
        let end = start + UInt64(duration * 1e9)
        var finished = false
        while !finished {
            finished = monotonicNanos() >= end
            if finished {
                report.seconds = Double(monotonicNanos() - start) / 1e9
                request[0] = UInt8(ascii: "Q")
            }
            let tag = UInt8(truncatingIfNeeded: report.messages)
            request[messageSize - 1] = tag
            let connection = try Socket.connect(to: endpoint, timeouts: timeouts)
            if endpoint.isTCP { try connection.setLingerZero() }
            try connection.sendAll(UnsafeRawBufferPointer(request), timeouts: timeouts)
            guard try connection.receiveExactly(into: reply, timeouts: timeouts), reply[messageSize - 1] == tag else {
                throw BenchError("connection \(report.messages): no or wrong reply")
            }
            if !finished { report.messages += 1 }
        }
        return report
    }
}
