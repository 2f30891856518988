@testable import BPFLoader
@testable import BPFObject

/// Builds small BPF ELF objects in memory, for the call and relocation shapes bpf/redir.o does
/// not have. Layout: header, section contents (8-aligned), .strtab, .symtab, section headers.
/// `.strtab` and `.symtab` are appended after the caller's sections; `.rel*` sections get
/// `sh_link` = the symbol table automatically.
struct ELFBuilder {
    struct Section {
        var name: String
        var type: UInt32
        var flags: UInt64
        var data: [UInt8]
        /// For SHT_NOBITS: the size to record (there is no data).
        var nobitsSize: Int = 0
        var info: Int = 0
        var entsize: UInt64 = 0
    }

    struct Symbol {
        var name: String
        var type: UInt8
        var binding: UInt8
        var section: Int
        var value: UInt64
        var size: UInt64
    }

    static let shtProgbits: UInt32 = 1, shtRel: UInt32 = 9, shtNobits: UInt32 = 8
    static let exec: UInt64 = 0x6, writeAlloc: UInt64 = 0x3, alloc: UInt64 = 0x2
    static let sttObject: UInt8 = 1, sttFunc: UInt8 = 2, sttSection: UInt8 = 3
    static let local: UInt8 = 0, global: UInt8 = 1

    /// Index 0 (SHT_NULL) is implicit.
    private(set) var sections: [Section] = []
    /// Index 0 (the null symbol) is implicit.
    private(set) var symbols: [Symbol] = []
    var machine: UInt16 = 247

    /// Adds a section; returns its index.
    @discardableResult
    mutating func section(_ name: String, type: UInt32 = shtProgbits, flags: UInt64 = 0, data: [UInt8] = [],
                          nobitsSize: Int = 0, info: Int = 0, entsize: UInt64 = 0) -> Int {
        sections.append(Section(name: name, type: type, flags: flags, data: data, nobitsSize: nobitsSize, info: info, entsize: entsize))
        return sections.count
    }

    /// Adds an executable section holding `code`; returns its index.
    @discardableResult
    mutating func code(_ name: String, _ code: [Instruction]) -> Int {
        section(name, flags: Self.exec, data: code.flatMap(\.bytes))
    }

    /// Adds a symbol; returns its index in .symtab.
    @discardableResult
    mutating func symbol(_ name: String, type: UInt8 = sttFunc, binding: UInt8 = global, section: Int, value: UInt64 = 0, size: UInt64 = 0) -> Int {
        symbols.append(Symbol(name: name, type: type, binding: binding, section: section, value: value, size: size))
        return symbols.count
    }

    /// A global function covering all of section `section`.
    @discardableResult
    mutating func function(_ name: String, in section: Int, binding: UInt8 = global) -> Int {
        symbol(name, type: Self.sttFunc, binding: binding, section: section, value: 0, size: UInt64(sections[section - 1].data.count))
    }

    /// Adds `.rel<target name>` with `Elf64_Rel` entries (offset, symbol, type).
    @discardableResult
    mutating func relocations(for target: Int, _ entries: [(offset: UInt64, symbol: Int, type: UInt32)]) -> Int {
        var data: [UInt8] = []
        for e in entries {
            data.append(e.offset, width: 8)
            data.append(UInt64(e.symbol) << 32 | UInt64(e.type), width: 8)
        }
        return section(".rel" + sections[target - 1].name, type: Self.shtRel, data: data, info: target, entsize: 16)
    }

    mutating func license(_ text: String = "GPL") {
        section("license", flags: Self.writeAlloc, data: Array(text.utf8) + [0])
    }

    func build() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var strtab: [UInt8] = [0]
        func name(_ s: String) -> UInt64 {
            let offset = strtab.count
            strtab += Array(s.utf8) + [0]
            return UInt64(offset)
        }
        // (name, type, flags, offset, size, link, info, entsize)
        var headers: [(UInt64, UInt32, UInt64, Int, Int, Int, Int, UInt64)] = [(0, 0, 0, 0, 0, 0, 0, 0)]
        let strtabIndex = sections.count + 1, symtabIndex = sections.count + 2
        for s in sections {
            out.align(8)
            let offset = out.count
            out += s.data
            let size = s.type == Self.shtNobits ? s.nobitsSize : s.data.count
            headers.append((name(s.name), s.type, s.flags, offset, size, s.type == Self.shtRel ? symtabIndex : 0, s.info, s.entsize))
        }
        var symtab = [UInt8](repeating: 0, count: 24)
        for sym in symbols {
            symtab.append(name(sym.name), width: 4)
            symtab.append(UInt64(sym.binding << 4 | sym.type), width: 1)
            symtab.append(0, width: 1)
            symtab.append(UInt64(sym.section), width: 2)
            symtab.append(sym.value, width: 8)
            symtab.append(sym.size, width: 8)
        }
        let strtabName = name(".strtab"), symtabName = name(".symtab")
        let strtabOffset = out.count
        out += strtab
        headers.append((strtabName, 3, 0, strtabOffset, strtab.count, 0, 0, 0))
        out.align(8)
        headers.append((symtabName, 2, 0, out.count, symtab.count, strtabIndex, 1, 24))
        out += symtab
        out.align(8)
        let shoff = out.count
        for h in headers {
            out.append(h.0, width: 4); out.append(UInt64(h.1), width: 4); out.append(h.2, width: 8)
            out.append(0, width: 8); out.append(UInt64(h.3), width: 8); out.append(UInt64(h.4), width: 8)
            out.append(UInt64(h.5), width: 4); out.append(UInt64(h.6), width: 4); out.append(8, width: 8)
            out.append(h.7, width: 8)
        }
        out.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])
        out[4] = 2; out[5] = 1; out[6] = 1
        out.write(1, at: 16, width: 2)                 // ET_REL
        out.write(UInt64(machine), at: 18, width: 2)
        out.write(1, at: 20, width: 4)                 // EV_CURRENT
        out.write(UInt64(shoff), at: 40, width: 8)
        out.write(64, at: 52, width: 2)                // e_ehsize
        out.write(64, at: 58, width: 2)                // e_shentsize
        out.write(UInt64(headers.count), at: 60, width: 2)
        out.write(UInt64(strtabIndex), at: 62, width: 2)
        return out
    }
}

extension [UInt8] {
    mutating func append(_ value: UInt64, width: Int) {
        for i in 0..<width { append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    mutating func align(_ n: Int) {
        while count % n != 0 { append(0) }
    }
}

/// Instruction shorthands for hand-written programs.
enum Asm {
    static func mov(_ dst: UInt8, _ imm: Int32) -> Instruction { Instruction(opcode: 0xB7, registers: dst, offset: 0, immediate: imm) }
    static let exit = Instruction(opcode: 0x95, registers: 0, offset: 0, immediate: 0)
    /// `call imm` to a bpf-to-bpf function (src_reg = BPF_PSEUDO_CALL), relative to the next instruction.
    static func call(_ relative: Int32) -> Instruction { Instruction(opcode: 0x85, registers: 0x10, offset: 0, immediate: relative) }
    /// `call helper`.
    static func helper(_ id: Int32) -> Instruction { Instruction(opcode: 0x85, registers: 0, offset: 0, immediate: id) }
    /// Both halves of `ld_imm64 dst, imm`.
    static func ldImm64(_ dst: UInt8, _ imm: Int32 = 0) -> [Instruction] {
        [Instruction(opcode: 0x18, registers: dst, offset: 0, immediate: imm), Instruction(opcode: 0, registers: 0, offset: 0, immediate: 0)]
    }
    /// A legacy `struct bpf_map_def`.
    static func mapDef(type: UInt32, key: UInt32, value: UInt32, entries: UInt32, flags: UInt32 = 0) -> [UInt8] {
        var out: [UInt8] = []
        for v in [type, key, value, entries, flags] { out.append(UInt64(v), width: 4) }
        return out
    }
}
