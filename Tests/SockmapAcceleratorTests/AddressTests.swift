import SockmapAccelerator
import Testing

/// Key decoding and address text: no root needed.
@Suite struct AddressTests {
    @Test("addresses print as dotted quads (IPv4-mapped) or RFC 5952 IPv6", arguments: [
        ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("fe80::1:2", "fe80::1:2"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::", "::"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func roundTrip(input: String, printed: String) throws {
        let bytes = try #require(IPAddress.parse(input))
        #expect(bytes.count == 16)
        #expect(IPAddress.format(bytes) == printed)
    }

    @Test("malformed addresses are refused", arguments: [
        "1.2.3", "1.2.3.256", "1::2::3", "12345::", "host", "", "+1.2.3.4", "1.2.3.+4", " 1.2.3.4", "1.2.3.4 ", "[::1]",
    ])
    func malformed(input: String) {
        #expect(IPAddress.parse(input) == nil)
    }

    @Test("an IPv4-mapped IPv6 address parses to the IPv4 bytes and prints as a dotted quad")
    func ipv4Mapped() throws {
        let mapped = try #require(IPAddress.parse("::ffff:1.2.3.4"))
        #expect(mapped == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4])
        #expect(mapped == IPAddress.parse("1.2.3.4"))
        #expect(IPAddress.format(mapped) == "1.2.3.4")
        #expect(IPAddress.endpoint(mapped, 80) == "1.2.3.4:80")
        #expect(IPAddress.endpoint(try #require(IPAddress.parse("::1")), 80) == "[::1]:80")
        #expect(IPAddress.format([1, 2, 3]) == "?")
    }

    @Test("a socket record (struct socket_record) decodes to its cookie, peer and both endpoints and encodes back to the same bytes")
    func socketRecordRoundTrip() throws {
        let key = SockKey(netnsCookie: 0x1122_3344_5566_7788, localAddress: try #require(IPAddress.parse("::1")),
                          remoteAddress: try #require(IPAddress.parse("127.0.0.1")), localPort: 6379, remotePort: 41234)
        let record = SocketRecord(cookie: 0x42, peerCookie: 0x99, key: key)
        let bytes = record.bytes
        #expect(bytes.count == SocketRecord.size)
        let decoded = try #require(SocketRecord(bytes: bytes))
        #expect(decoded == record)
        #expect(decoded.key.local == "[::1]:6379")
        #expect(decoded.key.remote == "127.0.0.1:41234")
        #expect(SocketRecord(bytes: Array(bytes.dropLast())) == nil)
        let unpaired = Array(bytes.prefix(8)) + [UInt8](repeating: 0, count: 8) + Array(bytes.dropFirst(16))
        #expect(SocketRecord(bytes: unpaired)?.peerCookie == nil, "0: peer not known")
    }

    @Test("an iteration's records decode by cookie, and a connecting side that does not know its peer yet gets it from the accepting side's record")
    func socketRecordsCompletePairs() throws {
        let key = SockKey(netnsCookie: 1, localAddress: try #require(IPAddress.parse("127.0.0.1")),
                          remoteAddress: try #require(IPAddress.parse("127.0.0.1")), localPort: 1, remotePort: 2)
        let connecting = SocketRecord(cookie: 10, peerCookie: nil, key: key)
        let accepting = SocketRecord(cookie: 11, peerCookie: 10, key: key)
        let alone = SocketRecord(cookie: 12, peerCookie: nil, key: key)
        let records = SocketRecord.decodeAll(connecting.bytes + accepting.bytes + alone.bytes + [1, 2, 3])
        #expect(records.count == 3)
        #expect(records[10]?.peerCookie == 11)
        #expect(records[11]?.peerCookie == 10)
        #expect(records[12]?.peerCookie == nil)
    }

    @Test("local prefixes parse as CIDR and print back, host bits cleared", arguments: [
        ("10.88.0.0/16", "10.88.0.0/16"), ("10.88.1.2/16", "10.88.0.0/16"), ("192.0.2.7", "192.0.2.7/32"),
        ("fd00::1/64", "fd00::/64"), ("::/0", "::/0"), ("0.0.0.0/0", "0.0.0.0/0"),
    ])
    func localPrefix(input: String, expected: String) throws {
        #expect(try #require(LocalNetwork(cidr: input)).description == expected)
    }

    @Test("malformed local prefixes are refused", arguments: ["10.0.0.0/33", "fd00::/129", "10.0.0.0/", "/8", "10.0.0/8", "host/8"])
    func malformedLocalPrefix(input: String) {
        #expect(LocalNetwork(cidr: input) == nil)
    }
}
