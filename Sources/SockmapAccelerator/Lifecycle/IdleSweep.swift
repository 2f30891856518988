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
    /// The installation's SOCKHASH, keyed by socket cookie.
    let sockhash: BPFMap
    /// The data path's socket records iterator (`sockmap_sockets`), linked: who is paired with
    /// whom; nil when it cannot be run (then no socket counts as unpaired).
    let recordsIterator: IteratorLink?
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
        var peers: [UInt64: UInt64] = [:] // every pairing seen, both ways
        var recorded = Set<UInt64>() // sockets whose record was seen
        var idleBefore = Set<UInt64>()
        var released = 0
        for pass in 0..<passes {
            if pass > 0 { usleep(UInt32(interval * 1e6)) }
            let cookies = ((try? sockhash.keys()) ?? []).compactMap { $0.count == 8 ? $0.littleEndian(UInt64.self, at: 0) : nil }
            if cookies.isEmpty { break }
            let (records, seen) = iteration()
            for record in records.values {
                recorded.insert(record.cookie)
                guard let peer = record.peerCookie else { continue }
                peers[record.cookie] = peer
                peers[peer] = record.cookie
            }
            for cookie in Self.releasable(cookies, peers: peers, recorded: recorded, seen: seen, idleBefore: idleBefore) {
                if (try? sockhash.delete(cookie.littleEndianBytes)) == true { released += 1 }
            }
            idleBefore.formUnion(seen.filter { $0.value.contains(.sendsIdle) }.keys)
        }
        return released
    }

    /// The sockets of one pass that may leave the map: the socket's redirect queue was empty in
    /// this pass (`seen`) and its peer (`peers` has every pairing met so far) was idle in an
    /// earlier one. A socket whose record was seen (`recorded`) without a peer, on either side,
    /// never had one: nobody can redirect into it, so its empty queue and its own idleness are
    /// enough. A socket without a record (records unreadable, or its namespace not walked) stays.
    static func releasable(_ cookies: [UInt64], peers: [UInt64: UInt64], recorded: Set<UInt64>, seen: [UInt64: Flags],
                           idleBefore: Set<UInt64>) -> [UInt64] {
        cookies.filter { cookie in
            guard seen[cookie]?.contains(.queueEmpty) == true else { return false }
            guard let peer = peers[cookie] else { return recorded.contains(cookie) && idleBefore.contains(cookie) }
            return idleBefore.contains(peer)
        }
    }

    /// One pass over the caller's namespace and each of `namespaces`, one visit each: the data
    /// path's records (empty without their iterator), then the sweep's flags, by cookie.
    func iteration() -> (records: [UInt64: SocketRecord], flags: [UInt64: Flags]) {
        let outputs = NetworkNamespaces.iterate((recordsIterator.map { [$0] } ?? []) + [iterator], alsoIn: namespaces)
        return (recordsIterator == nil ? [:] : SocketRecord.decodeAll(outputs[0]), Self.decode(outputs[outputs.count - 1]))
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
