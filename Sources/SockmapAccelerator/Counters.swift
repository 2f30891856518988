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
    /// Sockets not inserted because their peer is not on this host (not loopback, not our address).
    public var skippedNotLocal: UInt64 = 0
    /// Sockets not inserted because data crossed TCP before ESTABLISHED (TCP Fast Open).
    public var skippedEarlyData: UInt64 = 0
    /// Sockets not inserted because redirection was paused (or being detached).
    public var skippedPaused: UInt64 = 0
    /// Sending sides moved to TCP for good because their peer held more unread bytes than
    /// max(SO_RCVBUF, the backpressure floor): TCP's flow control holds them back from then on.
    public var backpressureToTCP: UInt64 = 0
    /// Sockets taken out of the map once on TCP with nothing redirected left unread (they run at
    /// plain TCP speed again).
    public var socketsReleased: UInt64 = 0

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
