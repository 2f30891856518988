/// One-way stream: the client writes `writeSize`-byte writes for a fixed time, then shuts down its
/// write side; the server reads until end-of-file, checks the pattern and answers with its byte
/// count. The client's time runs from the first write to that answer, so it covers delivery.
enum Stream {
    /// The byte at stream position `position`: every write is the same buffer, `index % 251`.
    @inline(__always)
    static func expectedByte(at position: UInt64, writeSize: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (position % UInt64(writeSize)) % 251)
    }

    /// One write's worth of the pattern, for the sender; the caller deallocates it.
    static func patternBuffer(writeSize: Int) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: writeSize, alignment: 64)
        for index in 0..<writeSize { buffer[index] = UInt8(truncatingIfNeeded: index % 251) }
        return buffer
    }

    /// How many of a read's first and last byte (`count` bytes read at stream `position`) break the pattern: 0, 1 or 2.
    static func patternErrors(in buffer: UnsafeMutableRawBufferPointer, count: Int, at position: UInt64, writeSize: Int) -> UInt64 {
        (buffer[0] != expectedByte(at: position, writeSize: writeSize) ? 1 : 0)
            + (buffer[count - 1] != expectedByte(at: position + UInt64(count - 1), writeSize: writeSize) ? 1 : 0)
    }

    /// Server: count every byte, check the first and last byte of every read against the pattern.
    static func receive(_ listener: borrowing Socket, writeSize: Int, noDelay: Bool, timeouts: SocketTimeouts) throws -> ChildReport {
        let connection = try listener.accept(timeouts: timeouts, noDelay: noDelay)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 64)
        defer { buffer.deallocate() }
        var report = ChildReport()
        var first: UInt64?
        while true {
            let n = try connection.receiveSome(into: buffer, timeouts: timeouts)
            if n == 0 { break }
            if first == nil { first = monotonicNanos() }
            report.patternErrors += patternErrors(in: buffer, count: n, at: report.bytes, writeSize: writeSize)
            report.bytes += UInt64(n)
            report.messages += 1
        }
        report.seconds = Double(monotonicNanos() - (first ?? monotonicNanos())) / 1e9
        var count = report.bytes.littleEndian
        try withUnsafeBytes(of: &count) { try connection.sendAll($0, timeouts: timeouts) }
        return report
    }

    /// Client: write for `duration` seconds, then require the server's count to equal ours.
    static func send(_ connection: borrowing Socket, writeSize: Int, duration: Double, timeouts: SocketTimeouts) throws -> ChildReport {
        let buffer = patternBuffer(writeSize: writeSize)
        defer { buffer.deallocate() }
        var report = ChildReport()
        let start = monotonicNanos()
        let end = start + UInt64(duration * 1e9)
        repeat {
            try connection.sendAll(UnsafeRawBufferPointer(buffer), timeouts: timeouts)
            report.bytes += UInt64(writeSize)
            report.messages += 1
        } while monotonicNanos() < end
        try connection.shutdownWrite()
        var count: UInt64 = 0
        let complete = try withUnsafeMutableBytes(of: &count) { try connection.receiveExactly(into: $0, timeouts: timeouts) }
        report.seconds = Double(monotonicNanos() - start) / 1e9
        guard complete else { throw BenchError("receiver closed without reporting its byte count") }
        guard UInt64(littleEndian: count) == report.bytes else {
            throw BenchError("sent \(report.bytes) bytes, receiver counted \(UInt64(littleEndian: count))")
        }
        return report
    }
}
