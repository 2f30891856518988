import Testing
@testable import SockmapAccelerator

/// The sweep's decisions, without a kernel: which sockets may leave the map after which pass.
@Suite("idle sweep (no kernel)")
struct IdleSweepTests {
    static let client = SockKey(netnsCookie: 3, localAddress: mapped(127, 0, 0, 1), remoteAddress: mapped(127, 0, 0, 1),
                                localPort: 40_000, remotePort: 8080)
    static let server = IdleSweep.peer(of: client)
    static let cookies: [[UInt8]: UInt64] = [client.bytes: 11, server.bytes: 12]

    static func mapped(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> [UInt8] {
        [UInt8](repeating: 0, count: 10) + [0xff, 0xff, a, b, c, d]
    }

    @Test func thePeerKeySwapsTheEnds() {
        #expect(Self.server.localPort == 8080 && Self.server.remotePort == 40_000 && Self.server.netnsCookie == 3)
        #expect(IdleSweep.peer(of: Self.server) == Self.client)
    }

    @Test func recordsDecodeByCookie() {
        let bytes = UInt64(11).littleEndianBytes + UInt32(3).littleEndianBytes + [0, 0, 0, 0]
            + UInt64(12).littleEndianBytes + UInt32(2).littleEndianBytes + [0, 0, 0, 0] + [1, 2, 3] // a torn tail is ignored
        #expect(IdleSweep.decode(bytes) == [11: [.sendsIdle, .queueEmpty], 12: [.queueEmpty]])
    }

    @Test func nothingLeavesInTheFirstPass() {
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty], 12: [.sendsIdle, .queueEmpty]]
        #expect(IdleSweep.releasable([Self.client.bytes, Self.server.bytes], cookies: Self.cookies, seen: seen, idleBefore: []).isEmpty)
    }

    @Test func aSocketLeavesOnceItsQueueIsEmptyAndItsPeerWasIdleBefore() {
        // The server still holds unread redirected bytes; the client's were all read.
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty], 12: [.sendsIdle]]
        let keys = [Self.client.bytes, Self.server.bytes]
        #expect(IdleSweep.releasable(keys, cookies: Self.cookies, seen: seen, idleBefore: [11, 12]) == [Self.client.bytes])
    }

    @Test func aPeerNotSeenIdleKeepsTheSocket() {
        // The server has a thread in recv() (or sendmsg()): the client must stay.
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty], 12: [.queueEmpty]]
        let keys = [Self.client.bytes, Self.server.bytes]
        #expect(IdleSweep.releasable(keys, cookies: Self.cookies, seen: seen, idleBefore: [11]) == [Self.server.bytes])
    }

    @Test func aSocketWhosePeerWasNeverInTheMapStays() {
        let seen: [UInt64: IdleSweep.Flags] = [11: [.sendsIdle, .queueEmpty]]
        #expect(IdleSweep.releasable([Self.client.bytes], cookies: [Self.client.bytes: 11], seen: seen, idleBefore: [11]).isEmpty)
    }

    @Test func aSocketTheIteratorDidNotSeeStays() {
        // In a namespace that was not iterated, or without a cookie yet.
        #expect(IdleSweep.releasable([Self.client.bytes], cookies: Self.cookies, seen: [:], idleBefore: [11, 12]).isEmpty)
    }
}
