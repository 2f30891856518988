/// A deliberately small, independent reader of the few ELF64 fields the tests patch, so the
/// oracle for "which bytes to break" does not come from the code under test. It assumes a
/// well-formed little-endian object (bpf/redir.o) and traps otherwise.
struct RawELF {
    struct Section {
        let index: Int
        let name: String
        let type: UInt32
        let offset: Int
        let size: Int
        let link: Int
        let info: Int
        /// File offset of this section's header.
        let headerOffset: Int

        /// What the loader calls it in messages: "name (#index)".
        var display: String { name.isEmpty ? "#\(index)" : "\(name) (#\(index))" }
        var hasFileData: Bool { type != 0 && type != 8 && size > 0 }
        var end: Int { offset + size }
    }

    struct Symbol {
        let index: Int
        let name: String
        let info: UInt8
        let sectionIndex: Int
        let value: UInt64
        let size: UInt64
        let entryOffset: Int
    }

    struct Relocation {
        let offset: UInt64
        let symbolIndex: Int
        let type: UInt32
        let entryOffset: Int
    }

    var bytes: [UInt8]
    let shoff: Int
    let shnum: Int
    let sections: [Section]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        let shoff = Int(bytes.le64(40)), shnum = Int(bytes.le16(60))
        self.shoff = shoff
        self.shnum = shnum
        let shstrndx = Int(bytes.le16(62))
        let namesOffset = Int(bytes.le64(shoff + shstrndx * 64 + 24))
        sections = (0..<shnum).map { [shoff] i in
            let h = shoff + i * 64
            return Section(index: i, name: bytes.cString(namesOffset + Int(bytes.le32(h))), type: bytes.le32(h + 4),
                           offset: Int(bytes.le64(h + 24)), size: Int(bytes.le64(h + 32)),
                           link: Int(bytes.le32(h + 40)), info: Int(bytes.le32(h + 44)), headerOffset: h)
        }
    }

    func section(_ name: String) -> Section {
        guard let s = sections.first(where: { $0.name == name }) else { fatalError("bpf/redir.o has no section \(name)") }
        return s
    }

    var symbols: [Symbol] {
        let table = sections.first { $0.type == 2 }!
        let strings = sections[table.link]
        return (0..<(table.size / 24)).map { i in
            let e = table.offset + i * 24
            return Symbol(index: i, name: bytes.cString(strings.offset + Int(bytes.le32(e))), info: bytes[e + 4],
                          sectionIndex: Int(bytes.le16(e + 6)), value: bytes.le64(e + 8), size: bytes.le64(e + 16),
                          entryOffset: e)
        }
    }

    func symbol(_ name: String) -> Symbol {
        guard let s = symbols.first(where: { $0.name == name }) else { fatalError("bpf/redir.o has no symbol \(name)") }
        return s
    }

    func relocations(_ sectionName: String) -> [Relocation] {
        let s = section(sectionName)
        return (0..<(s.size / 16)).map { i in
            let e = s.offset + i * 16
            let info = bytes.le64(e + 8)
            return Relocation(offset: bytes.le64(e), symbolIndex: Int(info >> 32), type: UInt32(truncatingIfNeeded: info), entryOffset: e)
        }
    }

    /// A copy with `value` written little-endian over `width` bytes at `offset`.
    func patching(_ offset: Int, _ value: UInt64, width: Int) -> [UInt8] {
        var copy = bytes
        copy.write(value, at: offset, width: width)
        return copy
    }

    /// A copy with field `field` (byte offset inside the header) of section header `index` set.
    func patchingSection(_ name: String, field: SectionField, _ value: UInt64) -> [UInt8] {
        patching(section(name).headerOffset + field.rawValue, value, width: field.width)
    }

    /// `Elf64_Shdr` fields by byte offset.
    enum SectionField: Int {
        case name = 0, type = 4, flags = 8, offset = 24, size = 32, link = 40, info = 44, entsize = 56
        var width: Int { self == .name || self == .type || self == .link || self == .info ? 4 : 8 }
    }
}

extension [UInt8] {
    func le16(_ o: Int) -> UInt16 { littleEndian(at: o) }
    func le32(_ o: Int) -> UInt32 { littleEndian(at: o) }
    func le64(_ o: Int) -> UInt64 { littleEndian(at: o) }

    func cString(_ o: Int) -> String {
        var end = o
        while self[end] != 0 { end += 1 }
        return String(decoding: self[o..<end], as: UTF8.self)
    }

    mutating func write(_ value: UInt64, at offset: Int, width: Int) {
        for i in 0..<width { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
