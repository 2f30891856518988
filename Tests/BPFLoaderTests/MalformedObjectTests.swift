import Foundation
import TestSupport
import Testing
@testable import BPFLoader
@testable import BPFObject

/// bpf/redir.o with one thing broken at a time: each must fail with the specific typed error,
/// and the message must say where.
@Suite("malformed objects")
struct MalformedObjectTests {
    // MARK: ELF header

    @Test func emptyAndShortFiles() throws {
        expectObjectError([], .elf(.tooSmall(size: 0)), mentions: ["0 bytes"])
        let bytes = try RedirObject.bytes()
        expectObjectError(Array(bytes[0..<63]), .elf(.tooSmall(size: 63)), mentions: ["63 bytes"])
    }

    @Test func notELF() throws {
        expectObjectError(Array("#!/bin/sh\necho this is not an ELF object at all, but it is long enough\n".utf8), .elf(.badMagic), mentions: ["not an ELF"])
        var bytes = try RedirObject.bytes()
        bytes[1] = UInt8(ascii: "e")
        expectObjectError(bytes, .elf(.badMagic))
    }

    @Test func headerIdentity() throws {
        let raw = try RedirObject.raw()
        expectObjectError(raw.patching(4, 1, width: 1), .elf(.unsupportedClass(1)), mentions: ["32-bit"])
        expectObjectError(raw.patching(4, 3, width: 1), .elf(.unsupportedClass(3)), mentions: ["class 3"])
        expectObjectError(raw.patching(5, 2, width: 1), .elf(.unsupportedByteOrder(2)), mentions: ["big-endian"])
        expectObjectError(raw.patching(18, 62, width: 2), .elf(.wrongMachine(62)), mentions: ["62", "EM_BPF"])
        expectObjectError(raw.patching(16, 2, width: 2), .elf(.notRelocatable(2)), mentions: ["ET_REL"])
        #expect(throws: ObjectError.elf(.wrongMachine(62))) { try ObjectSpec(bytes: raw.patching(18, 62, width: 2)) }
    }

    @Test func headerFields() throws {
        let raw = try RedirObject.raw()
        let n = raw.bytes.count, table = raw.shnum * 64
        expectObjectError(raw.patching(58, 40, width: 2), .elf(.badHeaderField(name: "e_shentsize", value: 40)), mentions: ["e_shentsize"])
        expectObjectError(raw.patching(60, 0, width: 2), .elf(.badHeaderField(name: "e_shnum", value: 0)), mentions: ["e_shnum"])
        expectObjectError(raw.patching(40, 1 << 63, width: 8), .elf(.badHeaderField(name: "e_shoff", value: 1 << 63)), mentions: ["e_shoff"])
        expectObjectError(raw.patching(40, .max, width: 8), .elf(.badHeaderField(name: "e_shoff", value: .max)))
        expectObjectError(raw.patching(40, UInt64(n - 64), width: 8),
                          .elf(.outOfBounds(what: "section header table", offset: n - 64, size: table, limit: n)),
                          mentions: ["section header table", "offset \(n - 64)"])
        expectObjectError(raw.patching(40, UInt64(Int.max), width: 8),
                          .elf(.outOfBounds(what: "section header table", offset: .max, size: table, limit: n)))
        expectObjectError(raw.patching(60, 0xFFFF, width: 2),
                          .elf(.outOfBounds(what: "section header table", offset: raw.shoff, size: 0xFFFF * 64, limit: n)))
        expectObjectError(raw.patching(62, UInt64(raw.shnum), width: 2), .elf(.badSectionIndex(what: "e_shstrndx", index: raw.shnum)),
                          mentions: ["e_shstrndx"])
        let symtab = raw.section(".symtab").index
        expectObjectError(raw.patching(62, UInt64(symtab), width: 2),
                          .elf(.badSectionIndex(what: "e_shstrndx (not a string table)", index: symtab)))
    }

    // MARK: Section headers

    /// Every section with contents, except the name table (checked before the others).
    static let dataSections: [String] = {
        guard let raw = try? RedirObject.raw() else { return [] }
        return raw.sections.filter { $0.hasFileData && $0.name != ".strtab" }.map(\.name)
    }()

    @Test("section contents past the end of the file", arguments: dataSections)
    func sectionPastEOF(_ name: String) throws {
        let raw = try RedirObject.raw()
        let s = raw.section(name), n = raw.bytes.count
        expectObjectError(raw.patchingSection(name, field: .offset, UInt64(n)),
                          .elf(.outOfBounds(what: "section \(s.display)", offset: n, size: s.size, limit: n)),
                          mentions: [s.display, "offset \(n)"])
        expectObjectError(raw.patchingSection(name, field: .size, UInt64(n)),
                          .elf(.outOfBounds(what: "section \(s.display)", offset: s.offset, size: n, limit: n)))
        // Fits Int32 but the end overflows nothing and still runs past.
        expectObjectError(raw.patchingSection(name, field: .size, UInt64(Int32.max)),
                          .elf(.outOfBounds(what: "section \(s.display)", offset: s.offset, size: Int(Int32.max), limit: n)))
        // Values no object could have are rejected while reading the header itself.
        let what = "section header \(s.index)"
        expectObjectError(raw.patchingSection(name, field: .offset, .max),
                          .elf(.outOfBounds(what: what, offset: .max, size: s.size, limit: n)), mentions: [what])
        expectObjectError(raw.patchingSection(name, field: .size, 1 << 63),
                          .elf(.outOfBounds(what: what, offset: s.offset, size: .max, limit: n)))
        expectObjectError(raw.patchingSection(name, field: .entsize, .max),
                          .elf(.outOfBounds(what: what, offset: s.offset, size: s.size, limit: n)))
    }

    @Test func nameTable() throws {
        let raw = try RedirObject.raw()
        let strtab = raw.section(".strtab"), n = raw.bytes.count
        expectObjectError(raw.patchingSection(".strtab", field: .offset, UInt64(n - 1)),
                          .elf(.outOfBounds(what: "section name table", offset: n - 1, size: strtab.size, limit: n)),
                          mentions: ["section name table"])
        let sockops = raw.section("sockops")
        expectObjectError(raw.patchingSection("sockops", field: .name, UInt64(strtab.size)),
                          .elf(.outOfBounds(what: "name of section \(sockops.index)", offset: strtab.offset + strtab.size, size: 1, limit: strtab.end)),
                          mentions: ["name of section \(sockops.index)"])
        // The name table's last byte is its terminator; without it the last name (of a section or,
        // as .symtab shares the table, of a symbol) runs off the end.
        let cut = raw.patchingSection(".strtab", field: .size, UInt64(strtab.size - 1))
        guard case .elf(.unterminatedString(let what, let offset))? = objectError(cut) else {
            Issue.record("expected an unterminated name"); return
        }
        #expect(what.hasPrefix("name of "))
        #expect(offset > strtab.offset && offset < strtab.end)
    }

    @Test func overlappingSections() throws {
        let raw = try RedirObject.raw()
        let sockops = raw.section("sockops"), license = raw.section("license")
        expectObjectError(raw.patchingSection("license", field: .offset, UInt64(sockops.offset + 8)),
                          .elf(.overlappingSections(sockops.display, license.display)), mentions: [sockops.display, license.display])
        expectObjectError(raw.patchingSection("license", field: .offset, 8),
                          .elf(.overlappingSections("the ELF header", license.display)))
        // Just before the section header table: it overlaps the table (and, depending on the
        // layout, the section that ends there, which is then the pair reported).
        guard case .elf(.overlappingSections(let a, let b))? = objectError(raw.patchingSection("license", field: .offset, UInt64(raw.shoff - 2))) else {
            Issue.record("expected overlapping sections"); return
        }
        #expect(a == license.display || b == license.display)
    }

    // MARK: Symbols

    @Test func symbolTable() throws {
        let raw = try RedirObject.raw()
        let symtab = raw.section(".symtab")
        expectObjectError(raw.patchingSection(".symtab", field: .size, UInt64(symtab.size - 1)),
                          .elf(.badSymbolTable(section: symtab.display, reason: "size \(symtab.size - 1) is not a multiple of 24")),
                          mentions: [symtab.display])
        let notStrings = raw.section("sockops").index
        expectObjectError(raw.patchingSection(".symtab", field: .link, UInt64(notStrings)),
                          .elf(.badSymbolTable(section: symtab.display, reason: "sh_link \(notStrings) is not a string table")))
        expectObjectError(raw.patchingSection(".symtab", field: .link, 0xFFFF_FFFF),
                          .elf(.badSymbolTable(section: symtab.display, reason: "sh_link 4294967295 is not a string table")))
        let sockHash = raw.symbol("sock_hash")
        expectObjectError(raw.patching(sockHash.entryOffset + 6, 0xFE00, width: 2),
                          .elf(.badSectionIndex(what: "symbol \(sockHash.index) (sock_hash)", index: 0xFE00)),
                          mentions: ["sock_hash", "65024"])
        let strings = raw.sections[symtab.link]
        expectObjectError(raw.patching(sockHash.entryOffset, UInt64(strings.size), width: 4),
                          .elf(.outOfBounds(what: "name of symbol \(sockHash.index)", offset: strings.end, size: 1, limit: strings.end)))
        // Two symbol tables.
        let rel = raw.section(".relsk_msg")
        expectObjectError(raw.patchingSection(".relsk_msg", field: .type, 2),
                          .elf(.badSymbolTable(section: rel.display, reason: "more than one SHT_SYMTAB")))
    }

    // MARK: Relocations

    @Test func relocations() throws {
        let raw = try RedirObject.raw()
        let rel = raw.section(".relsockops"), code = raw.section("sockops")
        let first = raw.relocations(".relsockops")[0]
        let symbols = raw.symbols
        let target = symbols[first.symbolIndex].name

        // Symbol index out of range.
        expectObjectError(raw.patching(first.entryOffset + 12, 0xFFFF, width: 4),
                          .elf(.badRelocationSection(section: rel.display, reason: "entry 0 names symbol 65535, but there are \(symbols.count)")),
                          mentions: [rel.display, "entry 0"])
        expectObjectError(raw.patching(first.entryOffset + 12, UInt64(symbols.count), width: 4),
                          .elf(.badRelocationSection(section: rel.display, reason: "entry 0 names symbol \(symbols.count), but there are \(symbols.count)")))
        // Offset not at an instruction, and past the section.
        for offset in [first.offset + 1, first.offset + 4, UInt64(code.size), UInt64.max] {
            expectObjectError(raw.patching(first.entryOffset, offset, width: 8),
                              .badRelocation(section: code.display, offset: offset, reason: "not at an instruction of the section"),
                              mentions: [code.display, "offset \(offset)"])
        }
        // Against the undefined null symbol, and against a symbol made undefined.
        expectObjectError(raw.patching(first.entryOffset + 12, 0, width: 4),
                          .badRelocation(section: code.display, offset: first.offset,
                                         reason: "symbol #0 is not defined in this object (externs are not supported)"))
        // Relocation types: unknown, and a call relocation on an ld_imm64.
        expectObjectError(raw.patching(first.entryOffset + 8, 7, width: 4),
                          .unsupportedRelocation(section: code.display, offset: first.offset, kind: 7, symbol: target),
                          mentions: ["type 7", "offset \(first.offset)", target])
        expectObjectError(raw.patching(first.entryOffset + 8, 10, width: 4),
                          .unsupportedRelocation(section: code.display, offset: first.offset, kind: 10, symbol: target))
        // The entry size.
        expectObjectError(raw.patchingSection(".relsockops", field: .size, UInt64(rel.size - 1)),
                          .elf(.badRelocationSection(section: rel.display, reason: "size \(rel.size - 1) is not a multiple of 16")))
        // A relocation on an instruction that is not ld_imm64 (the one before it).
        let before = first.offset - 8
        #expect(raw.bytes[code.offset + Int(before)] != Instruction.loadImm64)
        expectObjectError(raw.patching(first.entryOffset, before, width: 8),
                          .unsupportedRelocation(section: code.display, offset: before, kind: 1, symbol: target))
    }

    @Test func mapSymbolMadeUndefined() throws {
        let raw = try RedirObject.raw()
        // sock_hash no longer lives in .maps: the map disappears and its references dangle.
        let sockHash = raw.symbol("sock_hash")
        let code = raw.section("sockops")
        let use = raw.relocations(".relsockops").first { $0.symbolIndex == sockHash.index }!
        expectObjectError(raw.patching(sockHash.entryOffset + 6, 0, width: 2),
                          .badRelocation(section: code.display, offset: use.offset,
                                         reason: "symbol sock_hash is not defined in this object (externs are not supported)"))
    }

    // MARK: BTF

    /// bpf/redir.o's .BTF section and its decoding.
    static func btf() throws -> (raw: RawELF, section: RawELF.Section, spec: BTFSpec) {
        let raw = try RedirObject.raw()
        let section = raw.section(".BTF")
        return (raw, section, try BTFSpec(bytes: raw.bytes[section.offset..<section.end]))
    }

    static func type(_ spec: BTFSpec, _ kind: BTFRawKind, _ name: String) throws -> BTFType {
        try #require(spec.types.first { $0.rawKind == kind && $0.name == name })
    }

    @Test func btfHeader() throws {
        let (raw, s, _) = try Self.btf()
        let o = s.offset
        expectObjectError(raw.patching(o, 0x9FEB, width: 2), .btf(.badHeader(reason: "magic 0x9feb is not 0xeb9f (or big-endian)")), mentions: ["BTF header"])
        expectObjectError(raw.patching(o + 2, 2, width: 1), .btf(.badHeader(reason: "version 2 is not 1")))
        expectObjectError(raw.patching(o + 4, 8, width: 4), .btf(.badHeader(reason: "hdr_len 8")))
        expectObjectError(raw.patching(o + 4, 0xFFFF_FFFF, width: 4), .btf(.badHeader(reason: "hdr_len 4294967295")))
        let typeLen = Int(raw.bytes.le32(o + 12)), typeOff = Int(raw.bytes.le32(o + 8))
        expectObjectError(raw.patching(o + 12, 0xFFFF_FFFF, width: 4), .btf(.badHeader(reason: "type section (\(typeOff)+4294967295) runs past the end")))
        expectObjectError(raw.patching(o + 8, 0xFFFF_FFF0, width: 4), .btf(.badHeader(reason: "type section (4294967280+\(typeLen)) runs past the end")))
        let strOff = Int(raw.bytes.le32(o + 16))
        expectObjectError(raw.patching(o + 20, 0, width: 4), .btf(.badHeader(reason: "string section (\(strOff)+0) runs past the end or is empty")))
        expectObjectError(raw.patching(o + 20, 0xFFFF_FFFF, width: 4), .btf(.badHeader(reason: "string section (\(strOff)+4294967295) runs past the end or is empty")))
        expectObjectError(raw.patchingSection(".BTF", field: .size, 20), .btf(.badHeader(reason: "20 bytes, shorter than the header")))
        // Strings must end with NUL: drop the last string byte by shortening str_len.
        let strLen = UInt64(raw.bytes.le32(o + 20))
        if raw.bytes[o + 24 + strOff + Int(strLen) - 2] != 0 {
            expectObjectError(raw.patching(o + 20, strLen - 1, width: 4), .btf(.badHeader(reason: "string section is not NUL-terminated")))
        }
    }

    @Test("typedef referring to itself")
    func btfSelfLoop() throws {
        let (raw, s, spec) = try Self.btf()
        let u32 = try Self.type(spec, .typedef, "__u32")
        expectObjectError(raw.patching(s.offset + u32.recordOffset + 8, UInt64(u32.id), width: 4),
                          .btf(.typeLoop(typeID: u32.id)), mentions: ["type \(u32.id)", "loop"])
    }

    @Test("two typedefs referring to each other, and a const loop")
    func btfMutualLoop() throws {
        let (raw, s, spec) = try Self.btf()
        let u32 = try Self.type(spec, .typedef, "__u32"), u64 = try Self.type(spec, .typedef, "__u64")
        var bytes = raw.patching(s.offset + u32.recordOffset + 8, UInt64(u64.id), width: 4)
        bytes.write(UInt64(u32.id), at: s.offset + u64.recordOffset + 8, width: 4)
        guard case .btf(.typeLoop)? = objectError(bytes) else { Issue.record("expected a BTF type loop"); return }
        // Turn __u32 into a const of itself: qualifiers loop the same way.
        var qualifier = raw.patching(s.offset + u32.recordOffset + 8, UInt64(u32.id), width: 4)
        qualifier.write(UInt64(BTFRawKind.const.rawValue) << 24, at: s.offset + u32.recordOffset + 4, width: 4)
        guard case .btf(.typeLoop)? = objectError(qualifier) else { Issue.record("expected a BTF type loop"); return }
    }

    @Test("an array type whose element is itself")
    func btfArrayLoop() throws {
        let (raw, s, spec) = try Self.btf()
        let array = try #require(spec.types.first { $0.rawKind == .array })
        let bytes = raw.patching(s.offset + array.recordOffset + 12, UInt64(array.id), width: 4)
        // Whichever map first sizes it, the size walk must end with an error, not spin or trap.
        let spec2 = try BTFSpec(bytes: bytes[s.offset..<s.end])
        #expect(throws: BTFError.typeLoop(typeID: array.id)) { try spec2.size(of: array.id) }
        _ = try? ObjectSpec(bytes: bytes)
    }

    @Test func btfBadStrings() throws {
        let (raw, s, spec) = try Self.btf()
        let sockKey = try Self.type(spec, .structure, "sock_key")
        let past = UInt64(spec.stringLength)
        expectObjectError(raw.patching(s.offset + sockKey.recordOffset, past, width: 4),
                          .btf(.badStringOffset(what: "type \(sockKey.id) name", offset: Int(past))),
                          mentions: ["type \(sockKey.id)", "offset \(past)"])
        expectObjectError(raw.patching(s.offset + sockKey.recordOffset + 12, 0xFFFF_FFFF, width: 4),
                          .btf(.badStringOffset(what: "type \(sockKey.id) member 0", offset: 0xFFFF_FFFF)))
    }

    @Test func btfBadTypes() throws {
        let (raw, s, spec) = try Self.btf()
        let u32 = try Self.type(spec, .typedef, "__u32")
        expectObjectError(raw.patching(s.offset + u32.recordOffset + 8, 0xFFFF, width: 4),
                          .btf(.badTypeID(what: "type \(u32.id) (__u32)", typeID: 0xFFFF)), mentions: ["65535"])
        expectObjectError(raw.patching(s.offset + u32.recordOffset + 4, 31 << 24, width: 4),
                          .btf(.unknownKind(typeID: u32.id, kind: 31)), mentions: ["kind 31"])
        let sockKey = try Self.type(spec, .structure, "sock_key")
        expectObjectError(raw.patching(s.offset + sockKey.recordOffset + 4, UInt64(4 << 24 | 0xFFFF), width: 4),
                          .btf(.truncated(what: "type \(sockKey.id)", offset: sockKey.recordOffset + 12 - spec.headerLength - spec.typeOffset)))
        // type_len cut mid-record.
        let typeLen = raw.bytes.le32(s.offset + 12)
        guard case .btf(.truncated)? = objectError(raw.patching(s.offset + 12, UInt64(typeLen - 2), width: 4)) else {
            Issue.record("expected truncated BTF"); return
        }
    }

    @Test("map definition shapes")
    func btfMapDefinitions() throws {
        let (raw, s, spec) = try Self.btf()
        let maps = try #require(spec.dataSection(named: ".maps"))
        let sockHash = try #require(try maps.variables.map { try spec.type($0.type, "") }.first { $0.name == "sock_hash" })
        guard case .variable(let definitionID, _) = sockHash.kind else { Issue.record("sock_hash is not a VAR"); return }
        let definition = try spec.type(definitionID, "")
        // The variable's type is no longer a struct: point it at __u32.
        let u32 = try Self.type(spec, .typedef, "__u32")
        expectObjectError(raw.patching(s.offset + sockHash.recordOffset + 8, UInt64(u32.id), width: 4),
                          .btf(.badMapDefinition(map: "sock_hash", reason: "its type is not a struct")), mentions: ["sock_hash"])
        // A member that is not a pointer: `type` → __u32.
        expectObjectError(raw.patching(s.offset + definition.recordOffset + 12 + 4, UInt64(u32.id), width: 4),
                          .btf(.badMapDefinition(map: "sock_hash", reason: "member type is not declared with __uint or __type")))
        // The .maps variable's name no longer matches the ELF symbol.
        let config = try Self.type(spec, .variable, "config")
        expectObjectError(raw.patching(s.offset + sockHash.recordOffset, UInt64(config.members.isEmpty ? Int(try nameOffset(raw, s, config)) : 0), width: 4),
                          .btf(.badMapDefinition(map: "sock_hash", reason: "no BTF variable describes it")))
    }

    private func nameOffset(_ raw: RawELF, _ s: RawELF.Section, _ type: BTFType) throws -> UInt32 {
        raw.bytes.le32(s.offset + type.recordOffset)
    }

    /// Regression: a key type of more than 4 GiB trapped converting its size to UInt32.
    @Test("key type larger than UInt32")
    func hugeKey() throws {
        let (raw, s, spec) = try Self.btf()
        let policyKey = try Self.type(spec, .structure, "policy_key")
        // An array of them: the size no longer fits 32 bits.
        let array = try #require(spec.types.first { $0.rawKind == .array })
        var bytes = raw.bytes
        // element → policy_key, count → 2^31; and point the policy map's key pointer at this array.
        bytes.write(UInt64(policyKey.id), at: s.offset + array.recordOffset + 12, width: 4)
        bytes.write(1 << 31, at: s.offset + array.recordOffset + 20, width: 4)
        let keyPointer = try #require(spec.types.first { $0.kind == .pointer(to: policyKey.id) })
        bytes.write(UInt64(array.id), at: s.offset + keyPointer.recordOffset + 8, width: 4)
        guard case .btf(.badMapDefinition(let map, let reason))? = objectError(bytes) else {
            Issue.record("expected a bad map definition"); return
        }
        #expect(map == "policy")
        #expect(reason == "member key is \(20 << 31) bytes, more than a u32")
    }

    // MARK: CO-RE relocations (.BTF.ext core_relo)

    /// Tests/Fixtures/bpf/libbpf_core.o, the `.BTF.ext` section, and the offsets of its
    /// core_relo part: the record size word, then the first group's name and count, then the
    /// first record (`insn_off`, `type_id`, `access_str_off`, `kind`).
    static func coreRelocations() throws -> (raw: RawELF, part: Int, section: String, btf: BTFSpec) {
        let path = PackageLayout.fixture("libbpf_core")
        guard let data = FileManager.default.contents(atPath: path) else { throw RedirObject.Missing(path: path) }
        let raw = RawELF([UInt8](data))
        let ext = raw.section(".BTF.ext"), btfSection = raw.section(".BTF")
        let btf = try BTFSpec(bytes: raw.bytes[btfSection.offset..<btfSection.end])
        let header = ext.offset
        let part = header + Int(raw.bytes.le32(header + 4)) + Int(raw.bytes.le32(header + 24))
        let section = try #require(btf.string(at: raw.bytes.le32(part + 4)))
        return (raw, part, section, btf)
    }

    @Test func coreRelocationRecords() throws {
        let (raw, part, section, btf) = try Self.coreRelocations()
        let record = part + 12
        expectObjectError(raw.patching(part, 8, width: 4), .btf(.badExtension(reason: "core_relo record size 8")), mentions: ["core_relo"])
        expectObjectError(raw.patching(part, 18, width: 4), .btf(.badExtension(reason: "core_relo record size 18")))
        expectObjectError(raw.patching(part + 8, 0x0FFF_FFFF, width: 4),
                          .btf(.badExtension(reason: "core_relo of \(section): 268435455 records run past the end")))
        expectObjectError(raw.patching(part + 4, 0xFFFF_FFF0, width: 4),
                          .btf(.badExtension(reason: "core_relo section name offset 4294967280 is not a BTF string")))
        expectObjectError(raw.patching(record, 3, width: 4),
                          .btf(.badExtension(reason: "core_relo #0 of \(section): insn_off 3 is not a multiple of 8")), mentions: ["insn_off 3"])
        expectObjectError(raw.patching(record + 4, 0x7FFF_FFFF, width: 4),
                          .btf(.badTypeID(what: "core_relo #0 of \(section)", typeID: 0x7FFF_FFFF)))
        expectObjectError(raw.patching(record + 4, 0, width: 4), .btf(.badTypeID(what: "core_relo #0 of \(section)", typeID: 0)))
        expectObjectError(raw.patching(record + 8, UInt64(btf.stringLength), width: 4),
                          .btf(.badExtension(reason: "core_relo #0 of \(section): access string offset \(btf.stringLength) is not a BTF string")))
        // The part itself out of bounds: the header's core_relo_len.
        let ext = raw.section(".BTF.ext")
        expectObjectError(raw.patching(ext.offset + 28, 0xFFFF_FF00, width: 4),
                          .btf(.badExtension(reason: "core_relo (\(raw.bytes.le32(ext.offset + 24))+4294967040) runs past the end")))
    }

    /// Records that parse but cannot be resolved fail when relocating, naming the relocation.
    @Test func coreRelocationThatCannotResolve() throws {
        let (raw, part, _, _) = try Self.coreRelocations()
        let spec = try ObjectSpec(bytes: raw.patching(part + 12 + 12, 99, width: 4)) // kind 99
        let btf = try #require(spec.btf)
        let error = try #require(throws: COREError.self) { try spec.relocatingCORE(against: CORETargetBTF(btf: btf)) }
        guard case .relocationFailed(let failure) = error else { Issue.record("\(error)"); return }
        #expect(failure.reason == .unsupportedKind)
        #expect(failure.kind == .init(rawValue: 99))
        #expect(error.description.contains("kind 99"))
    }
}
