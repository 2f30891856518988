import BPFLoader

/// The data path's counters (`enum sockmap_counter` in `bpf/sockmap_shared.h`), summed over CPUs.
public struct Counters: Sendable, Equatable, Codable {
    /// Sockets the sock_ops program added to the SOCKHASH.
    public var socketsInserted: UInt64 = 0
    /// Sockets the SOCKHASH refused (full, typically); they stay on plain TCP.
    public var insertFailed: UInt64 = 0
    /// Sends the sk_msg program redirected to the peer socket.
    public var messagesRedirected: UInt64 = 0
    /// Bytes of those sends.
    public var bytesRedirected: UInt64 = 0
    /// Sends whose peer socket was not in the map (it went through TCP).
    public var redirectMissed: UInt64 = 0
    /// Sockets not inserted because the allow/deny list excludes their connection.
    public var skippedByPolicy: UInt64 = 0
    /// Sends of sockets kept on the TCP path because an earlier send of theirs took it (a miss,
    /// a pause, a shut-down sending side): redirecting them again could reorder their bytes.
    public var keptOnTCP: UInt64 = 0
    /// Connects toward a destination that cannot be on this host (not loopback, not the socket's
    /// own address, not in the local networks `load` wrote): their SYN carries no pairing token.
    public var skippedNotLocal: UInt64 = 0
    /// Sockets not inserted because data crossed TCP before ESTABLISHED (TCP Fast Open).
    public var skippedEarlyData: UInt64 = 0
    /// Sockets not inserted because redirection was paused (or being detached).
    public var skippedPaused: UInt64 = 0
    /// Detours over TCP: a sending side whose peer held more unread redirected bytes than its
    /// limit (its locked SO_RCVBUF, else max(SO_RCVBUF, the backpressure floor)) sends over TCP,
    /// whose flow control holds it back, until the peer has read everything (see
    /// ``returnedToFastPath``).
    public var backpressureToTCP: UInt64 = 0
    /// Sockets taken out of the map once on TCP with nothing redirected left unread (they run at
    /// plain TCP speed again).
    public var socketsReleased: UInt64 = 0
    /// SYNs that carried a pairing token.
    public var tokensOffered: UInt64 = 0
    /// Accepted sockets paired with their connecting socket by the token of its SYN.
    public var socketsPaired: UInt64 = 0
    /// Accepted sockets whose SYN carried no token: a peer outside the cgroup or on another host,
    /// or a listener opened before `load`.
    public var noToken: UInt64 = 0
    /// Tokens refused: unknown, already used, expired, or from a source that cannot be on this
    /// host. The connection stays on TCP.
    public var tokenRejected: UInt64 = 0
    /// SYNs without room left for the pairing option (other options filled the header).
    public var noOptionRoom: UInt64 = 0
    /// Tokens whose connecting socket had already left the fast path or the map.
    public var peerGone: UInt64 = 0
    /// Connecting sockets whose SYN-ACK brought no valid answer to their token (a listener outside
    /// the cgroup, or one opened before `load`): both sides stay on TCP.
    public var unanswered: UInt64 = 0
    /// Detours that ended: the peer read every byte sent over TCP and nothing waits for more, so
    /// the sending side redirects again.
    public var returnedToFastPath: UInt64 = 0
    /// Bytes sent over TCP during detours.
    public var bytesDetoured: UInt64 = 0

    /// Slot indices in the `counters` per-CPU array.
    public enum Slot: UInt32, CaseIterable, Sendable {
        /// The slot of ``Counters/socketsInserted``.
        case socketsInserted = 0
        /// The slot of ``Counters/insertFailed``.
        case insertFailed
        /// The slot of ``Counters/messagesRedirected``.
        case messagesRedirected
        /// The slot of ``Counters/bytesRedirected``.
        case bytesRedirected
        /// The slot of ``Counters/redirectMissed``.
        case redirectMissed
        /// The slot of ``Counters/skippedByPolicy``.
        case skippedByPolicy
        /// The slot of ``Counters/keptOnTCP``.
        case keptOnTCP
        /// The slot of ``Counters/skippedNotLocal``.
        case skippedNotLocal
        /// The slot of ``Counters/skippedEarlyData``.
        case skippedEarlyData
        /// The slot of ``Counters/skippedPaused``.
        case skippedPaused
        /// The slot of ``Counters/backpressureToTCP``.
        case backpressureToTCP
        /// The slot of ``Counters/socketsReleased``.
        case socketsReleased
        /// The slot of ``Counters/tokensOffered``.
        case tokensOffered
        /// The slot of ``Counters/socketsPaired``.
        case socketsPaired
        /// The slot of ``Counters/noToken``.
        case noToken
        /// The slot of ``Counters/tokenRejected``.
        case tokenRejected
        /// The slot of ``Counters/noOptionRoom``.
        case noOptionRoom
        /// The slot of ``Counters/peerGone``.
        case peerGone
        /// The slot of ``Counters/unanswered``.
        case unanswered
        /// The slot of ``Counters/returnedToFastPath``.
        case returnedToFastPath
        /// The slot of ``Counters/bytesDetoured``.
        case bytesDetoured
    }

    /// All counters zero.
    public init() {}

    /// The counter of `slot`.
    public subscript(slot: Slot) -> UInt64 {
        get {
            switch slot {
            case .socketsInserted: socketsInserted
            case .insertFailed: insertFailed
            case .messagesRedirected: messagesRedirected
            case .bytesRedirected: bytesRedirected
            case .redirectMissed: redirectMissed
            case .skippedByPolicy: skippedByPolicy
            case .keptOnTCP: keptOnTCP
            case .skippedNotLocal: skippedNotLocal
            case .skippedEarlyData: skippedEarlyData
            case .skippedPaused: skippedPaused
            case .backpressureToTCP: backpressureToTCP
            case .socketsReleased: socketsReleased
            case .tokensOffered: tokensOffered
            case .socketsPaired: socketsPaired
            case .noToken: noToken
            case .tokenRejected: tokenRejected
            case .noOptionRoom: noOptionRoom
            case .peerGone: peerGone
            case .unanswered: unanswered
            case .returnedToFastPath: returnedToFastPath
            case .bytesDetoured: bytesDetoured
            }
        }
        set {
            switch slot {
            case .socketsInserted: socketsInserted = newValue
            case .insertFailed: insertFailed = newValue
            case .messagesRedirected: messagesRedirected = newValue
            case .bytesRedirected: bytesRedirected = newValue
            case .redirectMissed: redirectMissed = newValue
            case .skippedByPolicy: skippedByPolicy = newValue
            case .keptOnTCP: keptOnTCP = newValue
            case .skippedNotLocal: skippedNotLocal = newValue
            case .skippedEarlyData: skippedEarlyData = newValue
            case .skippedPaused: skippedPaused = newValue
            case .backpressureToTCP: backpressureToTCP = newValue
            case .socketsReleased: socketsReleased = newValue
            case .tokensOffered: tokensOffered = newValue
            case .socketsPaired: socketsPaired = newValue
            case .noToken: noToken = newValue
            case .tokenRejected: tokenRejected = newValue
            case .noOptionRoom: noOptionRoom = newValue
            case .peerGone: peerGone = newValue
            case .unanswered: unanswered = newValue
            case .returnedToFastPath: returnedToFastPath = newValue
            case .bytesDetoured: bytesDetoured = newValue
            }
        }
    }

    /// Reads and sums every CPU's slot.
    public static func read(from map: BPFMap) throws(BPFMapError) -> Counters {
        var counters = Counters()
        for slot in Slot.allCases {
            guard let value = try map.lookup(slot.rawValue.littleEndianBytes) else { continue }
            var sum: UInt64 = 0
            for cpu in stride(from: 0, to: value.count - 7, by: 8) {
                sum &+= value.littleEndian(UInt64.self, at: cpu)
            }
            counters[slot] = sum
        }
        return counters
    }

    /// The change from `earlier` to `self`.
    public func delta(since earlier: Counters) -> Counters {
        var d = Counters()
        for slot in Slot.allCases { d[slot] = self[slot] &- earlier[slot] }
        return d
    }
}
