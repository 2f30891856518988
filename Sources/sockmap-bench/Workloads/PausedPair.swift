import Glibc

/// Paused mode's stream: `pairs` paused and as many plain TCP reference connections between the
/// same two processes, written in short slices in turn.
///
/// The reference connections are made before the processes join the accelerated cgroup (plain
/// TCP, never in the map); the paused ones inside it, accelerated, then `pause` moves them to TCP
/// before their first write. Separate processes per mode vary by ±15–25% from run to run on a
/// small machine, and two plain connections of one run still differ by up to ±25% cross-CPU; so
/// the ratio is taken within one run, over several connections of each kind, interleaved every
/// few milliseconds: the same CPUs, caches and neighbours for both, and the cost of having been
/// accelerated and paused is what is left.
enum PausedPair {
    /// Connections of each kind per run.
    static let pairs = 4
    /// Time a connection writes before the next one takes over.
    static let sliceSeconds = 0.05

    /// Untimed writing on each connection before the measured part: a quarter of it, at most 0.25 s.
    static func warmUpSeconds(_ duration: Double) -> Double { min(0.25, duration / 4) }

    /// One connection of the run; a class so that the ~Copyable socket can live in an array.
    final class Connection {
        let socket: Socket
        /// Plain TCP, made outside the accelerated cgroup.
        let isReference: Bool

        init(_ socket: consuming Socket, isReference: Bool) {
            self.socket = socket
            self.isReference = isReference
        }

        var name: String { isReference ? "reference" : "paused" }
    }

    /// Server: read every connection until end-of-file, checking the pattern like `Stream`, then
    /// answer each with its byte count. `bytes` sums the paused connections, `referenceBytes` the
    /// reference ones.
    static func receive(_ connections: [Connection], writeSize: Int, timeouts: SocketTimeouts) throws -> ChildReport {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 64)
        defer { buffer.deallocate() }
        var counts = [UInt64](repeating: 0, count: connections.count)
        var open = [Bool](repeating: true, count: connections.count)
        var report = ChildReport()
        var lastProgress = Deadline(seconds: timeouts.idleSeconds)
        var rotation = 0   // which connection is read first when several are ready: rotates
        while open.contains(true) {
            var entries = connections.indices.map {
                pollfd(fd: open[$0] ? connections[$0].socket.fd : -1, events: Int16(POLLIN), revents: 0)
            }
            let timeout = lastProgress.remainingMilliseconds
            guard timeout > 0 else { throw BenchError("paused pair: no data on any connection for the idle timeout (hang?)") }
            let ready = poll(&entries, nfds_t(entries.count), timeout)
            if ready < 0, errno != EINTR { throw BenchError.system("poll (paused pair)") }
            rotation = (rotation + 1) % connections.count
            for step in connections.indices {
                let index = (rotation + step) % connections.count
                guard open[index], entries[index].revents != 0 else { continue }
                let n = recv(connections[index].socket.fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
                if n < 0 {
                    // EAGAIN can come with nothing wrong on a socket in a sockmap: poll again.
                    guard errno == EAGAIN || errno == EINTR else { throw BenchError.system("recv (paused pair)") }
                    continue
                }
                lastProgress = Deadline(seconds: timeouts.idleSeconds)
                if n == 0 {
                    open[index] = false
                    continue
                }
                report.patternErrors += Stream.patternErrors(in: buffer, count: n, at: counts[index], writeSize: writeSize)
                counts[index] += UInt64(n)
            }
        }
        for (index, connection) in connections.enumerated() {
            var count = counts[index].littleEndian
            try withUnsafeBytes(of: &count) { try connection.socket.sendAll($0, timeouts: timeouts) }
            if connection.isReference {
                report.referenceBytes = (report.referenceBytes ?? 0) + counts[index]
            } else {
                report.bytes += counts[index]
            }
        }
        return report
    }

    /// Client: after an untimed warm-up, `duration` seconds of writing for each kind, shared
    /// evenly among its connections, in slices taken in turn; then every connection shut down and
    /// its count checked against the server's. `bytes`/`seconds` are the paused connections' timed
    /// writing, `referenceBytes`/`referenceSeconds` the reference ones'.
    static func send(_ connections: [Connection], writeSize: Int, duration: Double, timeouts: SocketTimeouts) throws -> ChildReport {
        let buffer = Stream.patternBuffer(writeSize: writeSize)
        defer { buffer.deallocate() }
        let bytes = UnsafeRawBufferPointer(buffer)
        var written = [UInt64](repeating: 0, count: connections.count)

        /// `seconds` of writing per kind; the time spent per connection.
        func writeSlices(seconds: Double) throws -> (bytes: [UInt64], nanos: [UInt64]) {
            let perConnection = UInt64(seconds * 1e9) / UInt64(pairs)
            let slice = UInt64(sliceSeconds * 1e9)
            var sliceBytes = [UInt64](repeating: 0, count: connections.count)
            var nanos = [UInt64](repeating: 0, count: connections.count)
            while nanos.contains(where: { $0 < perConnection }) {
                // A new random order every cycle: no connection always goes first, or always
                // right after a given other one (in an A/A run of two plain connections, the one
                // that always went second got 0.90× cross-CPU).
                for index in connections.indices.shuffled() where nanos[index] < perConnection {
                    let start = monotonicNanos()
                    let end = start + min(slice, perConnection - nanos[index])
                    repeat {
                        try connections[index].socket.sendAll(bytes, timeouts: timeouts)
                        sliceBytes[index] += UInt64(writeSize)
                    } while monotonicNanos() < end
                    nanos[index] += monotonicNanos() - start
                }
            }
            return (sliceBytes, nanos)
        }

        // A new connection's buffers and window are still growing (autotuning): not timed.
        let warmUp = try writeSlices(seconds: warmUpSeconds(duration))
        let timed = try writeSlices(seconds: duration)
        for index in connections.indices { written[index] = warmUp.bytes[index] + timed.bytes[index] }

        for connection in connections { try connection.socket.shutdownWrite() }
        for (index, connection) in connections.enumerated() {
            var count: UInt64 = 0
            let complete = try withUnsafeMutableBytes(of: &count) { try connection.socket.receiveExactly(into: $0, timeouts: timeouts) }
            guard complete else { throw BenchError("paused pair, \(connection.name) connection \(index): receiver closed without reporting its byte count") }
            guard UInt64(littleEndian: count) == written[index] else {
                throw BenchError("paused pair, \(connection.name) connection \(index): sent \(written[index]) bytes, receiver counted \(UInt64(littleEndian: count))")
            }
        }

        var report = ChildReport()
        var pausedNanos: UInt64 = 0
        var referenceNanos: UInt64 = 0
        report.referenceBytes = 0
        for (index, connection) in connections.enumerated() {
            if connection.isReference {
                report.referenceBytes! += timed.bytes[index]
                referenceNanos += timed.nanos[index]
            } else {
                report.bytes += timed.bytes[index]
                pausedNanos += timed.nanos[index]
            }
        }
        report.seconds = Double(pausedNanos) / 1e9
        report.referenceSeconds = Double(referenceNanos) / 1e9
        report.messages = report.bytes / UInt64(writeSize)
        return report
    }
}
