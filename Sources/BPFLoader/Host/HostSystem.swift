import BPFObject
internal import CBPF
import SystemPackage
internal import Glibc

/// The host-system calls around bpf(2): mounts, directories, renames, locks, socket cookies.
/// Each is a small function throwing the call's `Errno`, so no other module touches libc or the
/// C shim for them; callers add the path and what they were doing (see `FileLock` for locks).
///
/// Modelled on swift-system: a raw call, the errno conversion written once below (retrying
/// `EINTR`), a throwing Swift API. The C shim (`CBPFHost.h`) is used only where Swift cannot
/// make the call itself.
package enum HostSystem {
    /// Whether the caller's effective user is root (`geteuid() == 0`).
    package static var isRoot: Bool { geteuid() == 0 }

    /// The socket cookie of `socket` (`SO_COOKIE`): the value a SOCKHASH with 8-byte values
    /// returns for it.
    package static func socketCookie(_ socket: Int32) throws(Errno) -> UInt64 {
        var cookie: UInt64 = 0
        try check(negated: cbpf_socket_cookie(socket, &cookie))
        return cookie
    }

    /// Moves the calling thread into the network namespace at `path` (`setns(2)` with
    /// `CLONE_NEWNET`, e.g. on `/proc/PID/ns/net`). Only that thread changes namespace, for the
    /// rest of its life: call it on a thread of its own.
    package static func enterNetworkNamespace(_ path: String) throws(Errno) {
        let namespace = try open(path, .readOnly)
        defer { try? namespace.close() }
        try check(negated: cbpf_enter_network_namespace(namespace.rawValue))
    }
}

// MARK: errno, once

extension HostSystem {
    /// Runs a libc call that returns -1 and sets `errno` on failure, again while it fails with
    /// `EINTR` (when `retryOnInterrupt`); returns its result or throws its errno, read right after
    /// the call.
    @discardableResult
    static func call<Value: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ body: () -> Value) throws(Errno) -> Value {
        while true {
            let value = body()
            guard value == -1 else { return value }
            let error = Errno(rawValue: errno)
            guard retryOnInterrupt && error == .interrupted else { throw error }
        }
    }

    /// Checks a C shim result: 0 or more is success, a negative value is `-errno`.
    static func check(negated rc: Int32) throws(Errno) {
        guard rc >= 0 else { throw Errno(rawValue: -rc) }
    }

    /// Runs a swift-system call, whose `throws` is untyped although it only ever throws `Errno`,
    /// and gives the error its type back.
    static func system<Value>(_ body: () throws -> Value) throws(Errno) -> Value {
        do { return try body() } catch let error as Errno { throw error } catch {
            throw .ioError // unreachable: swift-system reports every failure as an Errno
        }
    }
}
