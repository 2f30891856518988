import BPFLoader
import BPFObject
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// How dump-map shows the keys of an object that is not ours: from the object's BTF, or in hex.
@Suite struct KeyLayoutTests {
    static let seedObject = PackageLayout.fixture("libbpf_seed_sockmap")

    @Test("the seed's packed struct sock_key: every field with its offset, decoded little-endian")
    func seedKey() throws {
        try #require(FileManager.default.fileExists(atPath: Self.seedObject), "run `make -C bpf` first")
        let spec = try ObjectSpec(path: Self.seedObject)
        let data = try SockmapObject(spec: spec, path: Self.seedObject)
        #expect(data.sockopsProgram == "bpf_sockmap")
        #expect(data.verdictProgram == "bpf_redir")
        #expect(data.sockmap == "sock_ops_map")
        #expect(!data.providesOwnMaps)
        let layout = try #require(data.keyLayout)
        #expect(layout.typeName == "sock_key")
        #expect(layout.size == 24)
        #expect(layout.fields.map(\.name) == ["sip4", "dip4", "family", "pad1", "pad2", "pad3", "sport", "dport"])
        #expect(layout.fields.map(\.offset) == [0, 4, 8, 9, 10, 12, 16, 20])
        let key: [UInt8] = [127, 0, 0, 1, 127, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0x1f, 0x90, 0, 0, 0x18, 0xeb, 0, 0]
        let decoded = layout.decode(key).map { "\($0.name)=\($0.value)" }
        #expect(decoded == ["sip4=16777343", "dip4=33554559", "family=1", "pad1=0", "pad2=0", "pad3=0", "sport=36895", "dport=60184"])
    }

    @Test("no BTF type for the key: no layout (dump-map prints hex)")
    func noLayout() throws {
        try #require(FileManager.default.fileExists(atPath: Self.seedObject), "run `make -C bpf` first")
        let btf = try #require(try ObjectSpec(path: Self.seedObject).btf)
        #expect(KeyLayout(btf: btf, typeID: 0, size: 24) == nil)
        #expect(Hex.string([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }

    @Test("our redir.o is recognised as ours")
    func ours() throws {
        try #require(FileManager.default.fileExists(atPath: PackageLayout.redirObject), "run `make -C bpf` first")
        let data = try SockmapObject(spec: try ObjectSpec(path: PackageLayout.redirObject), path: "redir.o")
        #expect(data.providesOwnMaps)
        #expect(data.sockmap == DataPath.sockhashMap)
        #expect(data.parserProgram == nil)
    }
}
