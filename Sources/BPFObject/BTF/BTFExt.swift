/// The `.BTF.ext` section: `func_info` and `line_info` records, grouped by the ELF section whose
/// code they describe. CO-RE relocations (the optional third part) are read by
/// `coreRelocations(bytes:btf:)` and applied by `CORERelocator`.
///
/// Layout: a header (`magic` 0xeB9F, `version`, `flags`, `hdr_len`, `func_info_off/len`,
/// `line_info_off/len`, then optionally `core_relo_off/len`); each part, at its offset after the
/// header, is a `u32 record_size` followed by groups of `{u32 sec_name_off; u32 num_info;
/// records[num_info]}`. Each record starts with `insn_off`, in **bytes** from the section start.
package struct BTFExt: Sendable {
    /// One record: the instruction it describes and the record's remaining bytes, kept verbatim
    /// (`type_id` for func_info; `file_name_off`, `line_off`, `line_col` for line_info).
    package struct Record: Sendable, Equatable {
        /// Byte offset of the instruction in its ELF section.
        package var instructionOffset: UInt32
        /// The record's bytes after `insn_off`, verbatim.
        package var rest: [UInt8]

        /// The word at `index` (0-based, after `insn_off`) of the record.
        package func word(_ index: Int) -> UInt32 {
            rest[(index * 4)..<(index * 4 + 4)].littleEndian(UInt32.self, at: 0)
        }
    }

    /// The smallest `func_info` record the kernel accepts (`struct bpf_func_info`), in bytes.
    package static let funcInfoMinimumSize = 8
    /// The smallest `line_info` record the kernel accepts (`struct bpf_line_info`), in bytes.
    package static let lineInfoMinimumSize = 16

    /// The `func_info` record size the object declares, in bytes.
    package let funcInfoRecordSize: Int
    /// The `line_info` record size the object declares, in bytes.
    package let lineInfoRecordSize: Int
    /// Records by ELF section name, in file order (sorted by instruction offset, as clang writes them).
    package let funcInfo: [String: [Record]]
    /// `line_info` records by ELF section name, in file order.
    package let lineInfo: [String: [Record]]
    /// Whether the object carries CO-RE relocations (`core_relo_len` is not 0).
    package let hasCoreRelocations: Bool

    /// Decodes the `func_info` and `line_info` parts of a `.BTF.ext` section whose names refer to
    /// `btf`'s strings; throws ``BTFError`` when the header or a record is malformed.
    package init(bytes: some Collection<UInt8>, btf: BTFSpec) throws(BTFError) {
        let raw = Array(bytes)
        let headerLength = try Self.headerLength(raw)
        (funcInfoRecordSize, funcInfo) = try Self.part(raw, headerLength: headerLength, btf: btf, name: "func_info",
                                                       offsetField: 8, minimum: Self.funcInfoMinimumSize)
        (lineInfoRecordSize, lineInfo) = try Self.part(raw, headerLength: headerLength, btf: btf, name: "line_info",
                                                       offsetField: 16, minimum: Self.lineInfoMinimumSize)
        let coreLength = headerLength >= 32 ? raw.littleEndian(UInt32.self, at: 28) : 0
        hasCoreRelocations = coreLength > 0
    }

    /// The size of a `bpf_core_relo` record: `insn_off`, `type_id`, `access_str_off`, `kind`.
    package static let coreRelocationMinimumSize = 16

    /// The CO-RE relocations (`bpf_core_relo` records, the optional third part) by ELF section
    /// name, with instruction offsets turned into instruction indices of the section. Read apart
    /// from func/line info: a program whose relocations cannot be read must not load unrelocated.
    package static func coreRelocations(bytes: some Collection<UInt8>, btf: BTFSpec) throws(BTFError) -> [String: [CORERelocation]] {
        let raw = Array(bytes)
        let headerLength = try headerLength(raw)
        guard headerLength >= 32 else { return [:] }
        let (_, groups) = try part(raw, headerLength: headerLength, btf: btf, name: "core_relo",
                                   offsetField: 24, minimum: coreRelocationMinimumSize)
        var result: [String: [CORERelocation]] = [:]
        for (section, records) in groups {
            result[section] = try records.enumerated().map { (number, record) throws(BTFError) -> CORERelocation in
                let what = "core_relo #\(number) of \(section)"
                guard record.instructionOffset % UInt32(Instruction.size) == 0 else {
                    throw .badExtension(reason: "\(what): insn_off \(record.instructionOffset) is not a multiple of 8")
                }
                let typeID = Int(record.word(0)), accessOffset = record.word(1)
                guard typeID > 0, typeID < btf.types.count else { throw .badTypeID(what: what, typeID: typeID) }
                guard let access = btf.string(at: accessOffset), !access.isEmpty else {
                    throw .badExtension(reason: "\(what): access string offset \(accessOffset) is not a BTF string")
                }
                return CORERelocation(instruction: Int(record.instructionOffset) / Instruction.size, typeID: typeID,
                                      accessString: access, kind: .init(rawValue: record.word(2)))
            }
        }
        return result
    }

    /// Whether the section starts with the BTF magic and a header that has a non-empty
    /// `core_relo` part (which `coreRelocations(bytes:btf:)` then must be able to read).
    package static func declaresCoreRelocations(_ bytes: some Collection<UInt8>) -> Bool {
        let raw = Array(bytes.prefix(32))
        guard raw.count == 32, raw[0] == 0x9F, raw[1] == 0xEB else { return false }
        return raw.littleEndian(UInt32.self, at: 4) >= 32 && raw.littleEndian(UInt32.self, at: 28) > 0
    }

    /// Checks the header; returns `hdr_len`.
    private static func headerLength(_ raw: [UInt8]) throws(BTFError) -> Int {
        guard raw.count >= 24 else { throw .badExtension(reason: "\(raw.count) bytes, shorter than the header") }
        let magic = raw.littleEndian(UInt16.self, at: 0)
        guard magic == BTFSpec.magic else { throw .badExtension(reason: "magic 0x\(String(magic, radix: 16)) is not 0xeb9f") }
        guard raw[2] == 1 else { throw .badExtension(reason: "version \(raw[2]) is not 1") }
        let headerLength = Int(raw.littleEndian(UInt32.self, at: 4))
        guard headerLength >= 24, headerLength <= raw.count else { throw .badExtension(reason: "hdr_len \(headerLength)") }
        return headerLength
    }

    /// One part (func_info, line_info or core_relo), whose offset and length are the two words
    /// at `offsetField` of the header: its record size and its records grouped by section.
    private static func part(_ raw: [UInt8], headerLength: Int, btf: BTFSpec, name: String, offsetField: Int,
                             minimum: Int) throws(BTFError) -> (size: Int, groups: [String: [Record]]) {
        func u32(_ o: Int) throws(BTFError) -> UInt32 {
            guard o >= 0, o <= raw.count - 4 else { throw .badExtension(reason: "truncated at offset \(o)") }
            return raw.littleEndian(UInt32.self, at: o)
        }
        let offset = Int(try u32(offsetField)), length = Int(try u32(offsetField + 4))
        guard length > 0 else { return (minimum, [:]) }
        let start = headerLength + offset
        guard start <= raw.count, length <= raw.count - start, length >= 4 else {
            throw .badExtension(reason: "\(name) (\(offset)+\(length)) runs past the end")
        }
        let end = start + length
        let size = Int(try u32(start))
        guard size >= minimum, size % 4 == 0 else { throw .badExtension(reason: "\(name) record size \(size)") }
        var groups: [String: [Record]] = [:]
        var cursor = start + 4
        while cursor < end {
            guard end - cursor >= 8 else { throw .badExtension(reason: "\(name) group header truncated") }
            let nameOffset = try u32(cursor), count = Int(try u32(cursor + 4))
            cursor += 8
            guard let section = btf.string(at: nameOffset), !section.isEmpty else {
                throw .badExtension(reason: "\(name) section name offset \(nameOffset) is not a BTF string")
            }
            guard count <= (end - cursor) / size else { throw .badExtension(reason: "\(name) of \(section): \(count) records run past the end") }
            var records: [Record] = []
            records.reserveCapacity(count)
            for _ in 0..<count {
                records.append(Record(instructionOffset: try u32(cursor), rest: Array(raw[(cursor + 4)..<(cursor + size)])))
                cursor += size
            }
            groups[section, default: []] += records
        }
        return (size, groups)
    }

    /// A function's code as placed in a linked program.
    package struct Placement: Sendable {
        /// The ELF section the function is in.
        package var sectionName: String
        /// Instruction range of the function in its section.
        package var start: Int
        /// End of the range (exclusive), in instructions.
        package var end: Int
        /// Instruction index of the function's first instruction in the linked program.
        package var linkedAt: Int

        /// A placement of instructions `start..<end` of `sectionName` at `linkedAt`.
        package init(sectionName: String, start: Int, end: Int, linkedAt: Int) {
            self.sectionName = sectionName; self.start = start; self.end = end; self.linkedAt = linkedAt
        }
    }

    /// The func_info and line_info of one linked program, as `BPF_PROG_LOAD` takes them: each
    /// function's records, their `insn_off` rebased from section bytes to linked instructions,
    /// in the order the functions were placed (so offsets ascend). Nil when no function has any.
    package func programInfo(_ placements: [Placement]) -> BTFExtInfo? {
        func collect(_ groups: [String: [Record]]) -> [UInt8] {
            var bytes: [UInt8] = []
            for placement in placements.sorted(by: { $0.linkedAt < $1.linkedAt }) {
                for record in groups[placement.sectionName] ?? [] {
                    let instruction = Int(record.instructionOffset) / Instruction.size
                    guard instruction >= placement.start, instruction < placement.end else { continue }
                    let linked = UInt32(placement.linkedAt + instruction - placement.start)
                    bytes.appendLittleEndian(linked)
                    bytes += record.rest
                }
            }
            return bytes
        }
        let funcs = collect(funcInfo), lines = collect(lineInfo)
        guard !funcs.isEmpty || !lines.isEmpty else { return nil }
        return BTFExtInfo(funcInfo: funcs, funcInfoRecordSize: UInt32(funcInfoRecordSize),
                          lineInfo: lines, lineInfoRecordSize: UInt32(lineInfoRecordSize))
    }
}

/// Per-program `func_info` and `line_info` records from `.BTF.ext`, already rebased onto the
/// linked program's instruction indices (the kernel counts instructions, not bytes).
package struct BTFExtInfo: Sendable, Equatable {
    /// `func_info` records as the kernel takes them (`BPF_PROG_LOAD`'s `func_info`).
    package var funcInfo: [UInt8]
    /// Size of one `func_info` record, in bytes.
    package var funcInfoRecordSize: UInt32
    /// `line_info` records as the kernel takes them.
    package var lineInfo: [UInt8]
    /// Size of one `line_info` record, in bytes.
    package var lineInfoRecordSize: UInt32

    /// Records already in the kernel's form.
    package init(funcInfo: [UInt8], funcInfoRecordSize: UInt32, lineInfo: [UInt8], lineInfoRecordSize: UInt32) {
        self.funcInfo = funcInfo
        self.funcInfoRecordSize = funcInfoRecordSize
        self.lineInfo = lineInfo
        self.lineInfoRecordSize = lineInfoRecordSize
    }

    /// Number of `func_info` records (`func_info_cnt`).
    package var funcInfoCount: Int { funcInfoRecordSize == 0 ? 0 : funcInfo.count / Int(funcInfoRecordSize) }
    /// Number of `line_info` records (`line_info_cnt`).
    package var lineInfoCount: Int { lineInfoRecordSize == 0 ? 0 : lineInfo.count / Int(lineInfoRecordSize) }
}
