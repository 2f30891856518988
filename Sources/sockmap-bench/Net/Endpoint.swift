import ArgumentParser

/// Where a server listens. Only ever loopback TCP or an abstract-namespace Unix socket.
enum Endpoint: Equatable, CustomStringConvertible, ExpressibleByArgument {
    /// 127.0.0.1:port; port 0 asks the kernel to choose.
    case loopbackTCP(port: UInt16)
    /// An AF_UNIX stream socket in the abstract namespace (no file to clean up).
    case unixAbstract(name: String)

    init?(argument: String) {
        if argument.hasPrefix("tcp:"), let port = UInt16(argument.dropFirst(4)) {
            self = .loopbackTCP(port: port)
        } else if argument.hasPrefix("unix:@"), argument.count > 6 {
            self = .unixAbstract(name: String(argument.dropFirst(6)))
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .loopbackTCP(let port): "tcp:\(port)"
        case .unixAbstract(let name): "unix:@\(name)"
        }
    }

    var isTCP: Bool {
        if case .loopbackTCP = self { true } else { false }
    }
}
