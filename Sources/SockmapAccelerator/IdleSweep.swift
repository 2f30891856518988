import BPFLoader
import FoundationEssentials
import Glibc

/// Takes idle connections out of the SOCKHASH when an installation is retired (`detach`), so they
/// run at plain TCP speed if they send again. Connections that move data leave the map through
/// the sock_ops callbacks of their TCP traffic; idle ones get no callback, and after `detach` no
/// program is left to release them (docs/backpressure.md).
///
/// Runs once pass-through is on, so no send of any socket in the map is redirected any more. The
/// `sockmap_sweep` iterator (`iter/tcp` in `bpf/redir.c`) reports, per socket in a sockmap, its
/// cookie, whether its psock shows one map link and no thread inside `sendmsg()`/`recvmsg()`
/// (none of its redirects can be in flight), and whether its redirect queue is empty. A socket is
/// deleted when its queue is empty in one pass and its peer was seen idle in an earlier pass:
/// the peer's last redirect was then already queued when the queue was seen empty, and the peer
/// will never redirect again, so deleting frees no byte. A connection with a reader blocked in
/// `recv()` on one side keeps that side's peer in the map (its psock reference looks like a send
/// in flight).
struct IdleSweep {
    /// The iterator, linked.
    let iterator: IteratorLink
    /// The installation's SOCKHASH.
    let sockhash: BPFMap
    /// Network namespaces to iterate besides the caller's own (`NetworkNamespaces.others`): the
    /// TCP iterator sees one namespace at a time.
    let namespaces: [String]

    /// What one iterator record says (`struct sweep_record` flags).
    struct Flags: OptionSet, Hashable {
        let rawValue: UInt32
        /// `SWEEP_SENDS_IDLE`.
        static let sendsIdle = Flags(rawValue: 1)
        /// `SWEEP_QUEUE_EMPTY`.
        static let queueEmpty = Flags(rawValue: 2)
    }

    /// The size of `struct sweep_record`.
    static let recordSize = 16

    /// Runs up to `passes` passes, `interval` apart; returns how many sockets left the map.
    func run(passes: Int = 3, interval: TimeInterval = 0.02) -> Int {
        var cookies: [[UInt8]: UInt64] = [:] // every key seen, with its socket's cookie
        var idleBefore = Set<UInt64>()
        var released = 0
        for pass in 0..<passes {
            if pass > 0 { usleep(UInt32(interval * 1e6)) }
            // Looking a key up returns its socket's cookie, assigning one to a socket that had none:
            // the iterator reports only sockets with a cookie.
            let keys = (try? sockhash.keys()) ?? []
            if keys.isEmpty { break }
            for key in keys {
                if let value = try? sockhash.lookup(key), value.count == 8 { cookies[key] = value.littleEndian(UInt64.self, at: 0) }
            }
            let seen = records()
            for key in Self.releasable(keys, cookies: cookies, seen: seen, idleBefore: idleBefore) {
                if (try? sockhash.delete(key)) == true { released += 1 }
            }
            idleBefore.formUnion(seen.filter { $0.value.contains(.sendsIdle) }.keys)
        }
        return released
    }

    /// The keys of one pass that may leave the map: the socket's redirect queue was empty in this
    /// pass (`seen`) and its peer (`cookies` has every key met so far) was idle in an earlier one.
    static func releasable(_ keys: [[UInt8]], cookies: [[UInt8]: UInt64], seen: [UInt64: Flags],
                           idleBefore: Set<UInt64>) -> [[UInt8]] {
        keys.filter { key in
            guard let cookie = cookies[key], seen[cookie]?.contains(.queueEmpty) == true,
                  let peer = SockKey(bytes: key).map(peer), let peerCookie = cookies[peer.bytes] else { return false }
            return idleBefore.contains(peerCookie)
        }
    }

    /// The same connection as seen from the other socket.
    static func peer(of key: SockKey) -> SockKey {
        SockKey(netnsCookie: key.netnsCookie, localAddress: key.remoteAddress, remoteAddress: key.localAddress,
                localPort: key.remotePort, remotePort: key.localPort)
    }

    /// One pass of the iterator over the caller's namespace and each of `namespaces`, by cookie.
    func records() -> [UInt64: Flags] {
        var bytes = (try? iterator.run()) ?? []
        for namespace in namespaces { bytes += run(inNamespace: namespace) }
        return Self.decode(bytes)
    }

    /// One pass in the network namespace at `path`, on a thread of its own that joins it (the
    /// caller's thread never changes namespace); nothing when it cannot be joined.
    private func run(inNamespace path: String) -> [UInt8] {
        final class Pass { // the thread's work and what it read, handed over whole and joined
            let path: String, iterator: IteratorLink
            var bytes: [UInt8] = []
            init(path: String, iterator: IteratorLink) { self.path = path; self.iterator = iterator }
        }
        let pass = Pass(path: path, iterator: iterator)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            let pass = Unmanaged<Pass>.fromOpaque(argument!).takeUnretainedValue()
            if (try? HostSystem.enterNetworkNamespace(pass.path)) != nil { pass.bytes = (try? pass.iterator.run()) ?? [] }
            return nil
        }, Unmanaged.passUnretained(pass).toOpaque())
        guard started == 0 else { return [] }
        pthread_join(thread, nil)
        return withExtendedLifetime(pass) { pass.bytes }
    }

    /// Decodes `struct sweep_record`s: cookie (8 bytes), flags (4), reserved (4).
    static func decode(_ bytes: [UInt8]) -> [UInt64: Flags] {
        var records: [UInt64: Flags] = [:]
        var offset = 0
        while offset + recordSize <= bytes.count {
            records[bytes.littleEndian(UInt64.self, at: offset)] = Flags(rawValue: bytes.littleEndian(UInt32.self, at: offset + 8))
            offset += recordSize
        }
        return records
    }
}
