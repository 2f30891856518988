import BPFLoader
import BPFObject
import Foundation
import TestSupport
import Testing

/// Our own data path with BTF attached: maps pretty-print by field name, programs carry source
/// lines, and the `debug` switch costs nothing when off.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct RedirTests {
    @Test func mapsCarryBTFAndDumpByFieldName() throws {
        let object = try LoadedObject(try ObjectSpec(path: PackageLayout.redirObject))
        #expect(object.btf != nil)
        #expect(object.btfFallbacks.isEmpty, "\(object.btfFallbacks)")

        let policy = try #require(object.maps["policy"])
        let info = try policy.info()
        #expect(info.btfID != 0 && info.btfKeyTypeID != 0 && info.btfValueTypeID != 0)
        let shown = try Bpftool.json(["map", "show", "id", "\(info.id)"]) as? [String: Any]
        #expect((shown?["btf_id"] as? Int ?? 0) != 0)
        // struct policy_key { __u32 port; __u32 ip[4]; } → value 1
        try policy.update(key: UInt32(8080).bytes + [UInt8](repeating: 0, count: 16), value: UInt32(1).bytes)
        let dump = try Bpftool.run(["map", "dump", "id", "\(info.id)"])
        #expect(dump.contains("\"port\": 8080"), "\(dump)")
        #expect(dump.contains("\"ip\": [0,0,0,0"), "\(dump)")

        for name in ["counters", "config", ".rodata"] {
            #expect(try object.maps[name]!.info().btfID != 0, "\(name)")
        }
        // The kernel gives SOCKHASH no BTF at all (map_check_no_btf; a key type alone is refused).
        #expect(try object.maps["sock_hash"]!.info().btfKeyTypeID == 0)

        for program in object.programs.values {
            #expect(try program.info().btfID != 0, "\(program.name)")
        }
    }

    @Test(arguments: [0, 1])
    func debugSwitchAddsTracesOnlyWhenOn(_ debug: Int64) throws {
        var spec = try ObjectSpec(path: PackageLayout.redirObject)
        try spec.setGlobal("debug", integer: debug)
        let object = try LoadedObject(spec)
        for name in ["sockmap_sockops", "sockmap_redirect"] {
            let program = try #require(object.programs[name])
            let text = try Bpftool.run(["prog", "dump", "xlated", "id", "\(try program.info().id)"])
            #expect(text.contains("trace_printk") == (debug != 0), "\(name) with debug=\(debug)")
        }
    }
}
