import BPFLoader
import Foundation
import Testing

/// Loads each fixture with this loader and with libbpf (through `bpftool prog loadall`) and
/// compares what the kernel holds: the translated instructions of every program (with their
/// source lines and function names, which come from func_info/line_info) and every map.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct OracleTests {
    static let fixtures = ["global_data", "multi_prog", "subprogs", "btf_maps", "libbpf_sockmap", "libbpf_seed_sockmap", "libbpf_skb_sockmap"]
    /// The CO-RE fixtures, apart so that tools/kernel-matrix.sh can run them on every kernel:
    /// libbpf_core only where its socket filters may call bpf_get_current_task_btf (elsewhere,
    /// on 5.10, libbpf's load fails as ours does); libbpf_core_probe_read everywhere.
    static let coreFixtures = ["libbpf_core_probe_read"] + (CORETests.socketFiltersGetTaskBTF ? ["libbpf_core"] : [])

    @Test(arguments: fixtures)
    func sameProgramsAndMapsAsLibbpf(_ fixture: String) throws {
        try compareWithLibbpf(fixture)
    }

    @Test(arguments: coreFixtures)
    func sameCOREProgramsAndMapsAsLibbpf(_ fixture: String) throws {
        try compareWithLibbpf(fixture)
    }

    func compareWithLibbpf(_ fixture: String) throws {
        let object = Environment.fixture(fixture)
        let pins = try PinDirectory(fixture)

        let spec = try ObjectSpec(path: object)
        let ours = try LoadedObject(spec)
        #expect(ours.btf != nil, "BTF not loaded: \(ours.btfFallbacks)")
        #expect(ours.btfFallbacks.isEmpty, "\(ours.btfFallbacks)")
        let ourDirectory = try pins.sub("ours")
        for (name, program) in ours.programs { try program.pin(at: ourDirectory + "/" + name) }

        let theirDirectory = try pins.sub("libbpf")
        try Bpftool.loadAll(object, into: theirDirectory)
        let theirNames = try FileManager.default.contentsOfDirectory(atPath: theirDirectory).sorted()
        #expect(theirNames == ours.programs.keys.sorted())

        var ourMaps: [Bpftool.Map] = [], theirMaps: [Bpftool.Map] = []
        for name in theirNames {
            let mine = try Bpftool.program(pinned: ourDirectory + "/" + name)
            let theirs = try Bpftool.program(pinned: theirDirectory + "/" + name)
            #expect(mine.btfID != 0, "\(name) loaded without BTF")
            let ourText = try Bpftool.xlated(programID: mine.id, mapIDs: mine.mapIDs)
            let theirText = try Bpftool.xlated(programID: theirs.id, mapIDs: theirs.mapIDs)
            #expect(ourText == theirText, "\(fixture) \(name): translated programs differ\n--- ours\n\(ourText)\n--- libbpf\n\(theirText)")
            ourMaps += try mine.mapIDs.map { try Bpftool.map(id: $0) }
            theirMaps += try theirs.mapIDs.map { try Bpftool.map(id: $0) }
        }
        let sortedOurs = Set(ourMaps.map(\.description)).sorted(), sortedTheirs = Set(theirMaps.map(\.description)).sorted()
        #expect(sortedOurs == sortedTheirs)
    }
}
