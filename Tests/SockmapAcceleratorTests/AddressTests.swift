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

    @Test("malformed addresses are refused", arguments: ["1.2.3", "1.2.3.256", "1::2::3", "12345::", "host", ""])
    func malformed(input: String) {
        #expect(IPAddress.parse(input) == nil)
    }

    @Test("a 48-byte key decodes to both endpoints and encodes back to the same bytes")
    func keyRoundTrip() throws {
        let key = SockKey(netnsCookie: 0x1122_3344_5566_7788, localAddress: try #require(IPAddress.parse("::1")),
                          remoteAddress: try #require(IPAddress.parse("127.0.0.1")), localPort: 6379, remotePort: 41234)
        let bytes = key.bytes
        #expect(bytes.count == SockKey.size)
        let decoded = try #require(SockKey(bytes: bytes))
        #expect(decoded == key)
        #expect(decoded.local == "[::1]:6379")
        #expect(decoded.remote == "127.0.0.1:41234")
        #expect(SockKey(bytes: Array(bytes.dropLast())) == nil)
    }
}
