import BPFLoader
import BPFObject
import Foundation
import TestSupport
import Testing

/// Loads each fixture with this loader and with libbpf (through `bpftool prog loadall`) and
/// compares what the kernel holds: the translated instructions of every program (with their
/// source lines and function names, which come from func_info/line_info) and every map. The
/// CO-RE fixtures are compared the same way by CORETests, on the loads it runs.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct OracleTests {
    static let fixtures = ["global_data", "multi_prog", "subprogs", "btf_maps", "libbpf_sockmap", "libbpf_seed_sockmap", "libbpf_skb_sockmap"]

    @Test(arguments: fixtures)
    func sameProgramsAndMapsAsLibbpf(_ fixture: String) throws {
        let object = PackageLayout.fixture(fixture)
        let pins = try PinDirectory(fixture)

        let spec = try ObjectSpec(path: object)
        let ours = try LoadedObject(spec)
        #expect(ours.btf != nil, "BTF not loaded: \(ours.btfFallbacks)")
        #expect(ours.btfFallbacks.isEmpty, "\(ours.btfFallbacks)")
        let ourDirectory = try pins.sub("ours")
        for (name, program) in ours.programs { try program.pin(at: ourDirectory + "/" + name) }

        let theirDirectory = try pins.sub("libbpf")
        try Bpftool.loadAll(object, into: theirDirectory)
        try Self.samePinnedPrograms(fixture, ours: ourDirectory, theirs: theirDirectory)
    }

    /// The programs pinned by name in `ourDirectory` and in `theirDirectory` (by `bpftool prog
    /// loadall`) are the same: the same names, each loaded with BTF and translated alike
    /// (`bpftool prog dump xlated`), using the same maps (`bpftool map show`).
    static func samePinnedPrograms(_ fixture: String, ours ourDirectory: String, theirs theirDirectory: String) throws {
        let ourNames = try FileManager.default.contentsOfDirectory(atPath: ourDirectory).sorted()
        let theirNames = try FileManager.default.contentsOfDirectory(atPath: theirDirectory).sorted()
        #expect(theirNames == ourNames)

        var ourMaps: [Int: Bpftool.Map] = [:], theirMaps: [Int: Bpftool.Map] = [:]
        for name in theirNames {
            let mine = try BPFProgram(pinned: ourDirectory + "/" + name).info()
            let theirs = try BPFProgram(pinned: theirDirectory + "/" + name).info()
            #expect(mine.btfID != 0, "\(name) loaded without BTF")
            for id in mine.mapIDs.map(\.rawValue).map(Int.init) where ourMaps[id] == nil { ourMaps[id] = try Bpftool.map(id: id) }
            for id in theirs.mapIDs.map(\.rawValue).map(Int.init) where theirMaps[id] == nil { theirMaps[id] = try Bpftool.map(id: id) }
            let ourText = try Bpftool.xlated(programID: Int(mine.id.rawValue), maps: ourMaps)
            let theirText = try Bpftool.xlated(programID: Int(theirs.id.rawValue), maps: theirMaps)
            #expect(ourText == theirText, "\(fixture) \(name): translated programs differ\n--- ours\n\(ourText)\n--- libbpf\n\(theirText)")
        }
        let sortedOurs = Set(ourMaps.values.map(\.description)).sorted()
        let sortedTheirs = Set(theirMaps.values.map(\.description)).sorted()
        #expect(sortedOurs == sortedTheirs)
    }
}
