import BPFLoader
import BPFObject
import Foundation
import TestSupport
import Testing

/// What the loader makes of the fixtures before any kernel object exists (no root needed).
struct SpecTests {
    @Test func dataSectionsAreFixedUpFromTheELF() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("global_data"))
        #expect(spec.btfProblems.isEmpty)
        let btf = try #require(spec.btf)
        #expect(btf.kernelBytes() != nil)
        let rodata = try #require(btf.dataSection(named: ".rodata"))
        #expect(rodata.size == 64)
        let offsets = try rodata.variables.map { (try btf.type($0.type, "var").name, $0.offset) }
        #expect(offsets.map(\.0) == ["verbose", "threshold", "count_packets.____fmt", "count_packets.____fmt.1"])
        #expect(offsets.map(\.1) == [0, 8, 16, 38])
        let bss = try #require(btf.dataSection(named: ".bss"))
        #expect(bss.size == 12)
        #expect(bss.variables.map(\.offset) == [0, 8])
        #expect(btf.dataSection(named: ".maps") == nil) // no maps in this object
        #expect(btf.dataSection(named: "license")?.size == 4)
    }

    @Test func globalDataMapsLookLikeLibbpfs() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("global_data"))
        let rodata = try #require(spec.map(named: ".rodata"))
        #expect(rodata.type == .array && rodata.keySize == 4 && rodata.valueSize == 64 && rodata.maxEntries == 1)
        #expect(rodata.flags == MapSpec.flagReadOnlyProgram | MapSpec.flagMmapable)
        #expect(rodata.freeze)
        #expect(rodata.btfValueTypeID == spec.btf?.dataSection(named: ".rodata")?.id)
        let data = try #require(spec.map(named: ".data"))
        #expect(data.flags == MapSpec.flagMmapable && !data.freeze && data.initialValue == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(spec.map(named: ".bss")?.valueSize == 12)
    }

    @Test func globalsCanBeSetBeforeLoading() throws {
        var spec = try ObjectSpec(path: PackageLayout.fixture("global_data"))
        #expect(spec.settableGlobals.map(\.name).contains("verbose"))
        try spec.setGlobal("verbose", integer: 2)
        try spec.setGlobal("threshold", integer: 1 << 40)
        #expect(spec.globalBytes("verbose") == [2, 0, 0, 0])
        #expect(spec.globalBytes("threshold") == [0, 0, 0, 0, 0, 1, 0, 0])
        #expect(Array(spec.map(named: ".rodata")!.initialValue![0..<4]) == [2, 0, 0, 0])
        try spec.setGlobal("packets_seen", integer: 9)
        #expect(spec.map(named: ".data")?.initialValue == [9, 0, 0, 0, 0, 0, 0, 0])

        #expect(throws: GlobalVariableError.unknown(name: "nope", known: ["packets_seen", "verbose", "threshold"])) {
            try spec.setGlobal("nope", integer: 1)
        }
        #expect(throws: GlobalVariableError.outOfRange(name: "verbose", value: 1 << 32, size: 4)) {
            try spec.setGlobal("verbose", integer: 1 << 32)
        }
        #expect(throws: GlobalVariableError.notInitialised(name: "bytes_seen", map: ".bss")) {
            try spec.setGlobal("bytes_seen", integer: 1)
        }
        #expect(throws: GlobalVariableError.wrongSize(name: "verbose", expected: 4, given: 2)) {
            try spec.setGlobal("verbose", bytes: [1, 0])
        }
    }

    @Test func btfExtIsSplitPerProgramAndRebased() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("subprogs"))
        let ext = try #require(spec.btfExt)
        #expect(ext.funcInfoRecordSize == 8 && ext.lineInfoRecordSize == 16)
        #expect(Set(ext.funcInfo.keys) == [".text", "socket", "tc"])
        // calls_nested → record, clamp → (record already placed) scale, global_mix: depth first.
        let nested = try #require(spec.program(named: "calls_nested"))
        let info = try #require(nested.btfExtInfo)
        #expect(info.funcInfoCount == 5)
        let offsets = (0..<info.funcInfoCount).map { i in
            info.funcInfo[(i * 8)..<(i * 8 + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        #expect(offsets.first == 0)
        #expect(offsets == offsets.sorted())
        #expect(offsets.allSatisfy { Int($0) < nested.instructions.count })
        // Every function start the kernel will find (bpf-to-bpf call targets) has a func_info record.
        var starts: Set<UInt32> = [0]
        for (i, insn) in nested.instructions.enumerated() where insn.isCallToFunction {
            starts.insert(UInt32(i + 1 + Int(insn.immediate)))
        }
        #expect(Set(offsets) == starts)
    }

    @Test func severalProgramsPerSection() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("multi_prog"))
        #expect(spec.programs.map(\.name).sorted() == ["socket_first", "socket_second", "tc_first", "tc_second"])
        #expect(spec.programs.filter { $0.sectionName == "socket" }.allSatisfy { $0.type == .socketFilter })
        #expect(spec.programs.filter { $0.sectionName == "tc" }.allSatisfy { $0.type == .schedCls })
        #expect(spec.programs.allSatisfy { $0.btfExtInfo?.funcInfoCount == 1 })
    }

    @Test func legacyMapsSection() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("legacy_maps"))
        let counts = try #require(spec.map(named: "legacy_counts"))
        #expect(counts.origin == .legacy && counts.type == .array && counts.keySize == 4 && counts.valueSize == 8 && counts.maxEntries == 4)
        let flows = try #require(spec.map(named: "legacy_flows"))
        #expect(flows.type == .hash && flows.keySize == 8 && flows.valueSize == 16 && flows.maxEntries == 128 && flows.flags == 1)
    }

    @Test func redirHasADebugSwitch() throws {
        let spec = try ObjectSpec(path: PackageLayout.redirObject)
        #expect(spec.btfProblems.isEmpty)
        let debug = try #require(spec.globals.first { $0.name == "debug" })
        #expect(debug.mapName == ".rodata" && debug.size == 4 && debug.readOnly)
        #expect(spec.map(named: "sock_hash")?.btfKeyTypeID != 0)
    }
}
