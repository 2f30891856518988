import BPFLoader

/// The data path's counters (`enum sockmap_counter` in `bpf/sockmap_shared.h`), summed over CPUs.
public struct Counters: Sendable, Equatable, Codable {
    public var socketsInserted: UInt64 = 0
    public var insertFailed: UInt64 = 0
    public var messagesRedirected: UInt64 = 0
    public var bytesRedirected: UInt64 = 0
    public var redirectMissed: UInt64 = 0
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
        case socketsInserted = 0, insertFailed, messagesRedirected, bytesRedirected, redirectMissed, skippedByPolicy, keptOnTCP,
             skippedNotLocal, skippedEarlyData, skippedPaused, backpressureToTCP, socketsReleased
    }

    public init() {}

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
    public static func read(from map: BPFMap) throws(BPFError) -> Counters {
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
