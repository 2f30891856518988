import ArgumentParser

/// Where a server listens. Only ever loopback TCP, an abstract-namespace Unix socket, or an
/// address of the bench's own bridge (``BenchBridge``), which exists only in its namespaces.
enum Endpoint: Equatable, CustomStringConvertible, ExpressibleByArgument {
    /// 127.0.0.1:port; port 0 asks the kernel to choose.
    case loopbackTCP(port: UInt16)
    /// An IPv4 address of the bench's bridge network and a port (0: the kernel chooses).
    case bridgeTCP(address: String, port: UInt16)
    /// An AF_UNIX stream socket in the abstract namespace (no file to clean up).
    case unixAbstract(name: String)

    init?(argument: String) {
        if argument.hasPrefix("tcp:"), let port = UInt16(argument.dropFirst(4)) {
            self = .loopbackTCP(port: port)
        } else if argument.hasPrefix("tcp:"), case let parts = argument.dropFirst(4).split(separator: ":"), parts.count == 2,
                  let port = UInt16(parts[1]), [BenchBridge.clientAddress, BenchBridge.serverAddress].contains(String(parts[0])) {
            self = .bridgeTCP(address: String(parts[0]), port: port)
        } else if argument.hasPrefix("unix:@"), argument.count > 6 {
            self = .unixAbstract(name: String(argument.dropFirst(6)))
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .loopbackTCP(let port): "tcp:\(port)"
        case .bridgeTCP(let address, let port): "tcp:\(address):\(port)"
        case .unixAbstract(let name): "unix:@\(name)"
        }
    }

    var isTCP: Bool {
        switch self {
        case .loopbackTCP, .bridgeTCP: true
        case .unixAbstract: false
        }
    }
}
