/// A parsed ELF64 little-endian relocatable object for `EM_BPF`, as `clang -target bpf -c` writes it.
///
/// Parsing validates the header, every section header, the section name table and the symbol
/// table up front; section contents are read on demand, always through bounds checks.
package struct ELFFile: Sendable {
    /// `EM_BPF`.
    package static let machineBPF: UInt16 = 247
    /// `ELFCLASS64`.
    static let class64: UInt8 = 2
    /// `ELFDATA2LSB`.
    static let littleEndianData: UInt8 = 1
    /// `ET_REL`.
    static let relocatableType: UInt16 = 1
    static let headerSize = 64
    static let sectionHeaderSize = 64
    static let symbolSize = 24
    static let relSize = 16

    /// The file's bytes, for bounds-checked reads.
    package let reader: ByteReader
    /// Every section, `sections[i].index == i`; section 0 is the null section.
    package let sections: [ELFSection]
    /// The symbol table, `symbols[i].index == i` (empty without `.symtab`).
    package let symbols: [ELFSymbol]

    /// Parses and checks the header, the section headers and names, and the symbol table.
    package init(bytes: [UInt8]) throws(ELFError) {
        let reader = ByteReader(bytes)
        self.reader = reader
        let table = try Self.readHeader(reader)
        let headers = try Self.readSectionHeaders(reader, table)
        let sections = try Self.nameSections(headers, reader, table)
        try Self.checkNoOverlap(sections, tableOffset: table.offset, tableSize: table.count * Self.sectionHeaderSize)
        self.sections = sections
        self.symbols = try Self.readSymbols(reader, sections)
    }

    /// Where the section header table is (`e_shoff`, `e_shnum`) and which section names the others.
    private struct SectionTable {
        let offset: Int
        let count: Int
        let namesIndex: Int
    }

    /// One section header as read, before its name is looked up.
    private struct SectionHeader {
        let nameOffset: Int, kind: UInt32, flags: UInt64, offset: Int, size: Int, link: Int, info: Int, entrySize: Int
    }

    /// `e_ident`, `e_type`, `e_machine` and the section header table's place, all checked.
    private static func readHeader(_ reader: ByteReader) throws(ELFError) -> SectionTable {
        let bytes = reader.bytes
        guard bytes.count >= headerSize else { throw .tooSmall(size: bytes.count) }
        guard bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else { throw .badMagic } // "\x7fELF"
        guard bytes[4] == class64 else { throw .unsupportedClass(bytes[4]) }
        guard bytes[5] == littleEndianData else { throw .unsupportedByteOrder(bytes[5]) }
        let type = try reader.u16(16, "e_type")
        let machine = try reader.u16(18, "e_machine")
        guard machine == machineBPF else { throw .wrongMachine(machine) }
        guard type == relocatableType else { throw .notRelocatable(type) }

        let shoff = try reader.u64(40, "e_shoff")
        let shentsize = try reader.u16(58, "e_shentsize")
        let shnum = Int(try reader.u16(60, "e_shnum"))
        let shstrndx = Int(try reader.u16(62, "e_shstrndx"))
        guard shentsize == sectionHeaderSize else { throw .badHeaderField(name: "e_shentsize", value: UInt64(shentsize)) }
        guard shnum > 0 else { throw .badHeaderField(name: "e_shnum", value: 0) }
        guard shoff <= UInt64(Int.max) else { throw .badHeaderField(name: "e_shoff", value: shoff) }
        try reader.checkRange(Int(shoff), shnum * sectionHeaderSize, "section header table")
        guard shstrndx < shnum else { throw .badSectionIndex(what: "e_shstrndx", index: shstrndx) }
        return SectionTable(offset: Int(shoff), count: shnum, namesIndex: shstrndx)
    }

    /// Every section header, its offset, size and entry size bounded so later arithmetic cannot overflow.
    private static func readSectionHeaders(_ reader: ByteReader, _ table: SectionTable) throws(ELFError) -> [SectionHeader] {
        var headers: [SectionHeader] = []
        headers.reserveCapacity(table.count)
        for i in 0..<table.count {
            let base = table.offset + i * sectionHeaderSize
            let what = "section header \(i)"
            let offset = try reader.u64(base + 24, what + " sh_offset")
            let size = try reader.u64(base + 32, what + " sh_size")
            let entsize = try reader.u64(base + 56, what + " sh_entsize")
            guard offset <= UInt64(Int32.max), size <= UInt64(Int32.max), entsize <= UInt64(UInt16.max) else {
                throw .outOfBounds(what: what, offset: Int(clamping: offset), size: Int(clamping: size), limit: reader.count)
            }
            headers.append(SectionHeader(
                nameOffset: Int(try reader.u32(base, what + " sh_name")),
                kind: try reader.u32(base + 4, what + " sh_type"),
                flags: try reader.u64(base + 8, what + " sh_flags"),
                offset: Int(offset), size: Int(size),
                link: Int(try reader.u32(base + 40, what + " sh_link")),
                info: Int(try reader.u32(base + 44, what + " sh_info")),
                entrySize: Int(entsize)))
        }
        return headers
    }

    /// The sections, named from the section name string table, each with its data inside the file.
    private static func nameSections(_ headers: [SectionHeader], _ reader: ByteReader, _ table: SectionTable) throws(ELFError) -> [ELFSection] {
        let names = headers[table.namesIndex]
        if names.kind != ELFSection.Kind.strtab.rawValue {
            throw .badSectionIndex(what: "e_shstrndx (not a string table)", index: table.namesIndex)
        }
        try reader.checkRange(names.offset, names.size, "section name table")
        var sections: [ELFSection] = []
        sections.reserveCapacity(headers.count)
        for (i, s) in headers.enumerated() {
            let name = i == 0 ? "" : try reader.cString(names.offset + s.nameOffset, limit: names.offset + names.size, "name of section \(i)")
            let section = ELFSection(
                index: i, name: name, kind: .init(rawValue: s.kind), flags: .init(rawValue: s.flags),
                offset: s.offset, size: s.size, link: s.link, info: s.info, entrySize: s.entrySize)
            if section.hasFileData {
                try reader.checkRange(section.offset, section.size, "section \(display(section))")
            }
            sections.append(section)
        }
        return sections
    }

    /// The bytes of a section (empty for SHT_NOBITS).
    package func data(of section: ELFSection) throws(ELFError) -> ArraySlice<UInt8> {
        guard section.hasFileData else { return [] }
        return try reader.slice(section.offset, section.size, "section \(Self.display(section))")
    }

    /// The first section called `name`, if any.
    package func section(named name: String) -> ELFSection? {
        sections.first { $0.name == name }
    }

    /// The section at `index`; throws ``ELFError/badSectionIndex(what:index:)`` naming `what`.
    package func section(at index: Int, _ what: @autoclosure () -> String) throws(ELFError) -> ELFSection {
        guard index > 0, index < sections.count else { throw .badSectionIndex(what: what(), index: index) }
        return sections[index]
    }

    /// The `Elf64_Rel` entries of a SHT_REL section, each symbol index checked.
    package func relocations(in section: ELFSection) throws(ELFError) -> [ELFRelocation] {
        let name = Self.display(section)
        guard section.kind == .rel else { throw .badRelocationSection(section: name, reason: "not SHT_REL") }
        guard section.size % Self.relSize == 0 else {
            throw .badRelocationSection(section: name, reason: "size \(section.size) is not a multiple of \(Self.relSize)")
        }
        var result: [ELFRelocation] = []
        result.reserveCapacity(section.size / Self.relSize)
        for i in 0..<(section.size / Self.relSize) {
            let base = section.offset + i * Self.relSize
            let offset = try reader.u64(base, "\(name) entry \(i)")
            let info = try reader.u64(base + 8, "\(name) entry \(i)")
            let symbol = Int(info >> 32)
            guard symbol < symbols.count else {
                throw .badRelocationSection(section: name, reason: "entry \(i) names symbol \(symbol), but there are \(symbols.count)")
            }
            result.append(ELFRelocation(offset: offset, symbolIndex: symbol, kind: .init(rawValue: UInt32(truncatingIfNeeded: info))))
        }
        return result
    }

    static func display(_ section: ELFSection) -> String {
        section.name.isEmpty ? "#\(section.index)" : "\(section.name) (#\(section.index))"
    }

    private static func checkNoOverlap(_ sections: [ELFSection], tableOffset: Int, tableSize: Int) throws(ELFError) {
        var ranges = sections.filter(\.hasFileData).map { (start: $0.offset, end: $0.offset + $0.size, name: display($0)) }
        ranges.append((0, headerSize, "the ELF header"))
        ranges.append((tableOffset, tableOffset + tableSize, "the section header table"))
        ranges.sort { $0.start < $1.start }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.start < a.end {
            throw .overlappingSections(a.name, b.name)
        }
    }

    private static func readSymbols(_ reader: ByteReader, _ sections: [ELFSection]) throws(ELFError) -> [ELFSymbol] {
        let tables = sections.filter { $0.kind == .symtab }
        guard let table = tables.first else { return [] }
        let name = display(table)
        guard tables.count == 1 else { throw .badSymbolTable(section: name, reason: "more than one SHT_SYMTAB") }
        guard table.size % symbolSize == 0 else {
            throw .badSymbolTable(section: name, reason: "size \(table.size) is not a multiple of \(symbolSize)")
        }
        guard table.link > 0, table.link < sections.count, sections[table.link].kind == .strtab else {
            throw .badSymbolTable(section: name, reason: "sh_link \(table.link) is not a string table")
        }
        let strings = sections[table.link]
        var symbols: [ELFSymbol] = []
        symbols.reserveCapacity(table.size / symbolSize)
        for i in 0..<(table.size / symbolSize) {
            let base = table.offset + i * symbolSize
            let what = "symbol \(i)"
            let nameOffset = Int(try reader.u32(base, what))
            let info = try reader.u8(base + 4, what)
            let shndx = Int(try reader.u16(base + 6, what))
            let symbolName = nameOffset == 0 ? "" : try reader.cString(strings.offset + nameOffset, limit: strings.offset + strings.size, "name of \(what)")
            if shndx != 0 && shndx < 0xff00 && shndx >= sections.count {
                throw .badSectionIndex(what: "\(what) (\(symbolName))", index: shndx)
            }
            symbols.append(ELFSymbol(
                index: i, name: symbolName, kind: .init(rawValue: info & 0xF), binding: .init(rawValue: info >> 4),
                sectionIndex: shndx, value: try reader.u64(base + 8, what), size: try reader.u64(base + 16, what)))
        }
        return symbols
    }
}
