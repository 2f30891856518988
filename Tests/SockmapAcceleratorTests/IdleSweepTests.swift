import Testing
@testable import SockmapAccelerator

/// The sweep's decisions, without a kernel: which sockets may leave the map after which pass.
@Suite("idle sweep (no kernel)")
struct IdleSweepTests {
    /// A connection's two sockets, 11 (connecting) and 12 (accepting), paired both ways.
    static let peers: [UInt64: UInt64] = [11: 12, 12: 11]

    @Test func recordsDecodeByCookie() {
        let bytes = UInt64(11).littleEndianBytes + UInt32(3).littleEndianBytes + [0, 0, 0, 0]
            + UInt64(12).littleEndianBytes + UInt32(2).littleEndianBytes + [0, 0, 0, 0] + [1, 2, 3] // a torn tail is ignored
        #expect(IdleSweep.decode(bytes) == [11: [.sendsIdle, .queueEmpty], 12: [.queueEmpty]])
    }

    @Test func nothingLeavesInTheFirstPass() {
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty], 12: [.sendsIdle, .queueEmpty]]
        #expect(IdleSweep.releasable([11, 12], peers: Self.peers, recorded: [11, 12], seen: seen, idleBefore: []).isEmpty)
    }

    @Test func aSocketLeavesOnceItsQueueIsEmptyAndItsPeerWasIdleBefore() {
        // The server still holds unread redirected bytes; the client's were all read.
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty], 12: [.sendsIdle]]
        #expect(IdleSweep.releasable([11, 12], peers: Self.peers, recorded: [11, 12], seen: seen, idleBefore: [11, 12]) == [11])
    }

    @Test func aPeerNotSeenIdleKeepsTheSocket() {
        // The server has a thread in recv() (or sendmsg()): the client must stay.
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty], 12: [.queueEmpty]]
        #expect(IdleSweep.releasable([11, 12], peers: Self.peers, recorded: [11, 12], seen: seen, idleBefore: [11]) == [12])
    }

    @Test func aSocketWithoutAPeerLeavesOnceItWasIdleItself() {
        // A connecting socket no listener paired with: nothing can be redirected into it.
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty]]
        #expect(IdleSweep.releasable([11], peers: [:], recorded: [11], seen: seen, idleBefore: []).isEmpty)
        #expect(IdleSweep.releasable([11], peers: [:], recorded: [11], seen: seen, idleBefore: [11]) == [11])
    }

    @Test func aSocketWhosePairingIsUnknownStays() {
        // No record (the records could not be read, or its namespace was not walked): it may have
        // a peer whose redirect is in flight.
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty]]
        #expect(IdleSweep.releasable([11], peers: [:], recorded: [], seen: seen, idleBefore: [11]).isEmpty)
    }

    @Test func aSocketTheIteratorDidNotSeeStays() {
        // In a namespace that was not iterated, or without a cookie yet.
        #expect(IdleSweep.releasable([11], peers: Self.peers, recorded: [11, 12], seen: [:], idleBefore: [11, 12]).isEmpty)
    }
}
