import Testing
@testable import BPFLoader
@testable import BPFObject

/// Calls, relocations and map shapes built byte by byte with `ELFBuilder`.
@Suite("synthetic objects")
struct SyntheticObjectTests {
    static let r64: UInt32 = 1   // R_BPF_64_64
    static let r32: UInt32 = 10  // R_BPF_64_32

    /// `xdp` section whose single global program is `code`, plus a GPL license.
    static func xdp(_ code: [Instruction], configure: (inout ELFBuilder, Int) -> Void = { _, _ in }) -> [UInt8] {
        var b = ELFBuilder()
        let s = b.code("xdp", code)
        b.function("prog", in: s)
        b.license()
        configure(&b, s)
        return b.build()
    }

    @Test func minimalProgram() throws {
        let spec = try ObjectSpec(bytes: Self.xdp([Asm.mov(0, 2), Asm.exit]))
        let program = try #require(spec.program(named: "prog"))
        #expect(program.type == .xdp)
        #expect(program.instructions == [Asm.mov(0, 2), Asm.exit])
        #expect(program.mapReferences.isEmpty)
        #expect(spec.license == "GPL")
        #expect(spec.maps.isEmpty)
        #expect(spec.btf == nil)
    }

    @Test("a .bss larger than an array map value is refused before anything is allocated")
    func hugeBSS() throws {
        let bytes = Self.xdp([Asm.mov(0, 2), Asm.exit]) { b, _ in
            b.section(".bss", type: ELFBuilder.shtNobits, flags: ELFBuilder.writeAlloc, nobitsSize: 1 << 30)
        }
        #expect(throws: ObjectError.globalDataTooLarge(section: ".bss", size: 1 << 30, limit: 4 << 20)) {
            try ObjectSpec(bytes: bytes)
        }
    }

    @Test("call into .text through a section-symbol relocation")
    func callIntoText() throws {
        var b = ELFBuilder()
        let prog = b.code("xdp", [Asm.call(-1), Asm.exit])
        let text = b.code(".text", [Asm.mov(0, 7), Asm.exit, Asm.mov(0, 8), Asm.exit])
        b.function("prog", in: prog)
        b.symbol("first", binding: ELFBuilder.local, section: text, value: 0, size: 16)
        b.symbol("second", binding: ELFBuilder.local, section: text, value: 16, size: 16)
        let sectionSymbol = b.symbol("", type: ELFBuilder.sttSection, binding: ELFBuilder.local, section: text)
        // clang: call imm = target/8 - 1 against the section symbol. Target: "second".
        b.relocations(for: prog, [(0, sectionSymbol, Self.r32)])
        b.license()
        var bytes = b.build()
        // Patch the call's immediate to reach instruction 2 of .text: value/8 + imm + 1 = 2.
        let elf = try ELFFile(bytes: bytes)
        let offset = elf.sections[prog].offset + 4
        bytes.write(1, at: offset, width: 4)
        let spec = try ObjectSpec(bytes: bytes)
        let program = try #require(spec.program(named: "prog"))
        #expect(program.instructions.count == 4)
        #expect(program.instructions[2] == Asm.mov(0, 8), "only the called function is appended")
        #expect(program.instructions[0].immediate == 1, "call lands on the appended function")
        #expect(spec.programs.count == 1, ".text functions are not programs")
    }

    @Test("call to a global function symbol, chained and recursive calls are linked once each")
    func chainedCalls() throws {
        var b = ELFBuilder()
        let prog = b.code("xdp", [Asm.call(-1), Asm.call(-1), Asm.exit])
        // a calls b (no relocation, same section); b calls itself.
        let text = b.code(".text", [Asm.call(1), Asm.exit, Asm.call(-1), Asm.exit])
        b.function("prog", in: prog)
        let a = b.symbol("a", section: text, value: 0, size: 16)
        let bSym = b.symbol("b", section: text, value: 16, size: 16)
        b.relocations(for: prog, [(0, a, Self.r32), (8, bSym, Self.r32)])
        b.license()
        let spec = try ObjectSpec(bytes: b.build())
        let program = try #require(spec.program(named: "prog"))
        // prog(3) + a(2) + b(2): each function once.
        #expect(program.instructions.count == 7)
        let calls = program.instructions.enumerated().filter { $0.element.isCallToFunction }
        #expect(calls.count == 4)
        for (position, instruction) in calls {
            let target = position + Int(instruction.immediate) + 1
            #expect(target >= 0 && target < program.instructions.count, "call at \(position) lands inside the program")
            #expect(target == 3 || target == 5, "targets are the starts of a and b")
        }
    }

    @Test("call target outside every function")
    func callOutsideFunctions() {
        let bytes = Self.xdp([Asm.call(5), Asm.exit])
        #expect(throws: ObjectError.badCall(section: "xdp (#1)", instruction: 0, reason: "target 6 is not inside a function symbol")) {
            try ObjectSpec(bytes: bytes)
        }
        let backwards = Self.xdp([Asm.call(-100), Asm.exit])
        #expect(throws: ObjectError.badCall(section: "xdp (#1)", instruction: 0, reason: "target -99 is not inside a function symbol")) {
            try ObjectSpec(bytes: backwards)
        }
        let huge = Self.xdp([Asm.call(.max), Asm.exit])
        #expect(throws: (any Error).self) { try ObjectSpec(bytes: huge) }
        let hugeNegative = Self.xdp([Asm.call(.min), Asm.exit])
        #expect(throws: (any Error).self) { try ObjectSpec(bytes: hugeNegative) }
    }

    @Test("call relocation against data is rejected")
    func callIntoData() throws {
        let bytes = Self.xdp([Asm.call(-1), Asm.exit]) { b, s in
            let license = b.sections.count  // "license" was added last
            let symbol = b.symbol("_license", type: ELFBuilder.sttObject, section: license)
            b.relocations(for: s, [(0, symbol, Self.r32)])
        }
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 0, reason: "call target _license is not code")) {
            try ObjectSpec(bytes: bytes)
        }
    }

    /// xdp program loading map `m` of a legacy `maps` section, with the relocation `entries`.
    static func legacyMapObject(code: [Instruction], relocation: (offset: UInt64, symbol: Int?, type: UInt32),
                                symbolSection: Int? = nil) -> [UInt8] {
        var b = ELFBuilder()
        let s = b.code("xdp", code)
        b.function("prog", in: s)
        b.license()
        let maps = b.section("maps", flags: ELFBuilder.writeAlloc, data: Asm.mapDef(type: 1, key: 4, value: 8, entries: 16))
        let m = b.symbol("m", type: ELFBuilder.sttObject, section: symbolSection ?? maps, value: 0, size: 20)
        b.relocations(for: s, [(relocation.offset, relocation.symbol ?? m, relocation.type)])
        return b.build()
    }

    @Test("legacy map reference")
    func legacyMap() throws {
        let code = [Asm.mov(1, 0)] + Asm.ldImm64(1) + [Asm.mov(0, 0), Asm.exit]
        let spec = try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (8, nil, Self.r64)))
        let map = try #require(spec.map(named: "m"))
        #expect(map == MapSpec(name: "m", type: .hash, keySize: 4, valueSize: 8, maxEntries: 16, origin: .legacy,
                               sectionIndex: map.sectionIndex, symbolOffset: 0))
        #expect(spec.programs.first?.mapReferences == [MapReference(instruction: 1, mapName: "m", kind: .fd)])
    }

    @Test("relocation edge cases name the section and offset")
    func badRelocations() {
        let code = Asm.ldImm64(1) + [Asm.mov(0, 0), Asm.exit]
        // Not at an instruction boundary.
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 4, reason: "not at an instruction of the section")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (4, nil, Self.r64)))
        }
        // Past the end of the section.
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 32, reason: "not at an instruction of the section")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (32, nil, Self.r64)))
        }
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: .max - 7, reason: "not at an instruction of the section")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (.max - 7, nil, Self.r64)))
        }
        // Symbol index out of range: caught while reading .relxdp.
        #expect(throws: ObjectError.elf(.badRelocationSection(section: ".relxdp (#4)", reason: "entry 0 names symbol 99, but there are 3"))) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (0, 99, Self.r64)))
        }
        // Against the null symbol (undefined).
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 0, reason: "symbol #0 is not defined in this object (externs are not supported)")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (0, 0, Self.r64)))
        }
        // Against a symbol in SHN_ABS.
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 0, reason: "symbol m is not defined in this object (externs are not supported)")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (0, nil, Self.r64), symbolSection: 0xFFF1))
        }
        // R_BPF_64_64 on an instruction that is not ld_imm64.
        #expect(throws: ObjectError.unsupportedRelocation(section: "xdp (#1)", offset: 16, kind: 1, symbol: "m")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (16, nil, Self.r64)))
        }
        // A relocation type the loader does not know.
        #expect(throws: ObjectError.unsupportedRelocation(section: "xdp (#1)", offset: 0, kind: 7, symbol: "m")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: code, relocation: (0, nil, 7)))
        }
        // ld_imm64 whose second half is missing.
        let cut = [Asm.mov(0, 0), Asm.exit, Asm.ldImm64(1)[0]]
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 16, reason: "ld_imm64 is cut off at the end of the section")) {
            try ObjectSpec(bytes: Self.legacyMapObject(code: cut, relocation: (16, nil, Self.r64)))
        }
    }

    /// Regression: a function symbol that ends between the halves of a relocated ld_imm64 made a
    /// program ending in half an instruction, and the kernel layer patched `instruction + 1`,
    /// past the end of the program.
    @Test("function symbol ending inside an ld_imm64")
    func functionSplitsLoadImm64() {
        var b = ELFBuilder()
        let s = b.code("xdp", [Asm.mov(0, 0)] + Asm.ldImm64(1) + [Asm.exit])
        b.symbol("prog", section: s, value: 0, size: 16)
        b.symbol("tail", section: s, value: 16, size: 16)
        b.license()
        let data = b.section(".data", flags: ELFBuilder.writeAlloc, data: [UInt8](repeating: 0, count: 8))
        let v = b.symbol("v", type: ELFBuilder.sttObject, section: data, value: 0, size: 8)
        b.relocations(for: s, [(8, v, Self.r64)])
        #expect(throws: ObjectError.badProgram(section: "xdp (#1)", symbol: "prog", reason: "ends inside the ld_imm64 at instruction 1")) {
            try ObjectSpec(bytes: b.build())
        }
    }

    /// Global data: `.data` (16 bytes) with `v` at offset 8, loaded by `ld_imm64` relocated
    /// against `symbol` (nil: against `v`) with immediate `addend`.
    static func globalData(symbolValue: UInt64 = 8, againstSection: Bool = false, addend: Int32 = 0) -> [UInt8] {
        var b = ELFBuilder()
        let s = b.code("xdp", Asm.ldImm64(1, addend) + [Asm.mov(0, 0), Asm.exit])
        b.function("prog", in: s)
        b.license()
        let data = b.section(".data", flags: ELFBuilder.writeAlloc, data: Array(0..<16))
        let v = againstSection
            ? b.symbol("", type: ELFBuilder.sttSection, binding: ELFBuilder.local, section: data)
            : b.symbol("v", type: ELFBuilder.sttObject, section: data, value: symbolValue, size: 4)
        b.relocations(for: s, [(0, v, Self.r64)])
        return b.build()
    }

    @Test("global data references carry the value offset")
    func globalDataReferences() throws {
        let spec = try ObjectSpec(bytes: Self.globalData())
        let map = try #require(spec.map(named: ".data"))
        #expect(map.type == .array && map.keySize == 4 && map.valueSize == 16 && map.maxEntries == 1)
        #expect(map.initialValue == Array(0..<16))
        #expect(spec.programs.first?.mapReferences == [MapReference(instruction: 0, mapName: ".data", kind: .value(offset: 8))])

        let viaSection = try ObjectSpec(bytes: Self.globalData(againstSection: true, addend: 12))
        #expect(viaSection.programs.first?.mapReferences == [MapReference(instruction: 0, mapName: ".data", kind: .value(offset: 12))])
    }

    /// Regression (found by tools/fuzz.sh): a global-data symbol with st_value >= 2^63 trapped
    /// converting it to Int64 in the linker.
    @Test("global data offsets outside the section", arguments: [
        (UInt64(1) << 63, Int32(0), "symbol v at 9223372036854775808 is outside .data"),
        (UInt64.max, Int32(0), "symbol v at 18446744073709551615 is outside .data"),
        (UInt64(17), Int32(0), "symbol v at 17 is outside .data"),
        (UInt64(16), Int32(0), "offset 16 is outside .data"),
        (UInt64(8), Int32(-9), "offset -1 is outside .data"),
        (UInt64(8), Int32.max, "offset 2147483655 is outside .data"),
    ])
    func globalDataOutOfRange(value: UInt64, addend: Int32, reason: String) {
        #expect(throws: ObjectError.badRelocation(section: "xdp (#1)", offset: 0, reason: reason)) {
            try ObjectSpec(bytes: Self.globalData(symbolValue: value, addend: addend))
        }
    }

    @Test("program-level errors")
    func programErrors() {
        var unknown = ELFBuilder()
        unknown.function("prog", in: unknown.code("not_a_program", [Asm.exit]))
        #expect(throws: ObjectError.unknownProgramSection("not_a_program")) { try ObjectSpec(bytes: unknown.build()) }

        var none = ELFBuilder()
        none.function("helper", in: none.code(".text", [Asm.exit]))
        none.license()
        #expect(throws: ObjectError.noPrograms) { try ObjectSpec(bytes: none.build()) }

        var odd = ELFBuilder()
        odd.section("xdp", flags: ELFBuilder.exec, data: [0x95, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: ObjectError.badProgram(section: "xdp (#1)", symbol: "", reason: "size 12 is not a multiple of 8")) {
            try ObjectSpec(bytes: odd.build())
        }

        var isStatic = ELFBuilder()
        isStatic.function("prog", in: isStatic.code("xdp", [Asm.exit]), binding: ELFBuilder.local)
        #expect(throws: ObjectError.badProgram(section: "xdp", symbol: "prog", reason: "static functions cannot be programs; move it to .text or make it global")) {
            try ObjectSpec(bytes: isStatic.build())
        }

        var outside = ELFBuilder()
        let s = outside.code("xdp", [Asm.exit])
        outside.symbol("prog", section: s, value: 8, size: 8)
        #expect(throws: ObjectError.badProgram(section: "xdp (#1)", symbol: "prog", reason: "symbol range 8+8 is not inside the section")) {
            try ObjectSpec(bytes: outside.build())
        }
        var hugeSymbol = ELFBuilder()
        hugeSymbol.symbol("prog", section: hugeSymbol.code("xdp", [Asm.exit]), value: .max - 7, size: 16)
        #expect(throws: ObjectError.badProgram(section: "xdp (#1)", symbol: "prog", reason: "symbol range 18446744073709551608+16 is not inside the section")) {
            try ObjectSpec(bytes: hugeSymbol.build())
        }

        var overlap = ELFBuilder()
        let o = overlap.code("xdp", [Asm.mov(0, 0), Asm.exit])
        overlap.symbol("a", section: o, value: 0, size: 16)
        overlap.symbol("b", section: o, value: 8, size: 8)
        #expect(throws: ObjectError.badProgram(section: "xdp (#1)", symbol: "b", reason: "overlaps function a")) {
            try ObjectSpec(bytes: overlap.build())
        }
    }

    @Test("license and version sections")
    func licenseAndVersion() {
        var b = ELFBuilder()
        b.function("prog", in: b.code("xdp", [Asm.exit]))
        b.section("license", flags: ELFBuilder.writeAlloc, data: Array("GPL".utf8))
        #expect(throws: ObjectError.badLicense("not NUL-terminated")) { try ObjectSpec(bytes: b.build()) }

        var v = ELFBuilder()
        v.function("prog", in: v.code("xdp", [Asm.exit]))
        v.section("version", flags: ELFBuilder.writeAlloc, data: [1, 2, 3])
        #expect(throws: ObjectError.badProgram(section: "version", symbol: "", reason: "must be 4 bytes, is 3")) { try ObjectSpec(bytes: v.build()) }
    }

    @Test("legacy map errors")
    func legacyMapErrors() {
        func object(_ definition: [UInt8], symbols: [(String, UInt64, UInt64)]) -> [UInt8] {
            var b = ELFBuilder()
            b.function("prog", in: b.code("xdp", [Asm.exit]))
            let maps = b.section("maps", flags: ELFBuilder.writeAlloc, data: definition)
            for (name, value, size) in symbols { b.symbol(name, type: ELFBuilder.sttObject, section: maps, value: value, size: size) }
            return b.build()
        }
        let def = Asm.mapDef(type: 2, key: 4, value: 4, entries: 1)
        #expect(throws: ObjectError.badLegacyMap(symbol: "m", reason: "definition is 12 bytes, need at least 20")) {
            try ObjectSpec(bytes: object(def, symbols: [("m", 0, 12)]))
        }
        #expect(throws: ObjectError.badLegacyMap(symbol: "m", reason: "definition at 8 runs past the section")) {
            try ObjectSpec(bytes: object(def, symbols: [("m", 8, 20)]))
        }
        #expect(throws: ObjectError.badLegacyMap(symbol: "m", reason: "definition at 18446744073709551615 runs past the section")) {
            try ObjectSpec(bytes: object(def, symbols: [("m", .max, 20)]))
        }
        #expect(throws: ObjectError.duplicateMapName("m")) {
            try ObjectSpec(bytes: object(def + def, symbols: [("m", 0, 20), ("m", 20, 20)]))
        }
    }

    @Test("wrong machine from the builder")
    func wrongMachine() {
        var b = ELFBuilder()
        b.machine = 62
        b.function("prog", in: b.code("xdp", [Asm.exit]))
        #expect(throws: ObjectError.elf(.wrongMachine(62))) { try ObjectSpec(bytes: b.build()) }
    }
}
