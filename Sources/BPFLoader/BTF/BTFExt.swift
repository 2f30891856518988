/// The `.BTF.ext` section: `func_info` and `line_info` records, grouped by the ELF section whose
/// code they describe. CO-RE relocations (the optional third part) are noted but not applied.
///
/// Layout: a header (`magic` 0xeB9F, `version`, `flags`, `hdr_len`, `func_info_off/len`,
/// `line_info_off/len`, then optionally `core_relo_off/len`); each part, at its offset after the
/// header, is a `u32 record_size` followed by groups of `{u32 sec_name_off; u32 num_info;
/// records[num_info]}`. Each record starts with `insn_off`, in **bytes** from the section start.
public struct BTFExt: Sendable {
    /// One record: the instruction it describes and the record's remaining bytes, kept verbatim
    /// (`type_id` for func_info; `file_name_off`, `line_off`, `line_col` for line_info).
    public struct Record: Sendable, Equatable {
        /// Byte offset of the instruction in its ELF section.
        public var instructionOffset: UInt32
        public var rest: [UInt8]

        /// The word at `index` (0-based, after `insn_off`) of the record.
        public func word(_ index: Int) -> UInt32 {
            rest[(index * 4)..<(index * 4 + 4)].leU32(at: 0)
        }
    }

    public static let funcInfoMinimumSize = 8
    public static let lineInfoMinimumSize = 16

    public let funcInfoRecordSize: Int
    public let lineInfoRecordSize: Int
    /// Records by ELF section name, in file order (sorted by instruction offset, as clang writes them).
    public let funcInfo: [String: [Record]]
    public let lineInfo: [String: [Record]]
    /// Whether the object carries CO-RE relocations, which this loader does not apply.
    public let hasCoreRelocations: Bool

    public init(bytes: some Collection<UInt8>, btf: BTFSpec) throws(BTFError) {
        let raw = Array(bytes)
        func u32(_ o: Int) throws(BTFError) -> UInt32 {
            guard o >= 0, o <= raw.count - 4 else { throw .badExtension(reason: "truncated at offset \(o)") }
            return ByteReader.u32(raw, o)
        }
        guard raw.count >= 24 else { throw .badExtension(reason: "\(raw.count) bytes, shorter than the header") }
        let magic = UInt16(raw[0]) | UInt16(raw[1]) << 8
        guard magic == BTFSpec.magic else { throw .badExtension(reason: "magic 0x\(String(magic, radix: 16)) is not 0xeb9f") }
        guard raw[2] == 1 else { throw .badExtension(reason: "version \(raw[2]) is not 1") }
        let headerLength = Int(try u32(4))
        guard headerLength >= 24, headerLength <= raw.count else { throw .badExtension(reason: "hdr_len \(headerLength)") }

        func part(_ name: String, offsetField: Int, minimum: Int) throws(BTFError) -> (size: Int, groups: [String: [Record]]) {
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
        (funcInfoRecordSize, funcInfo) = try part("func_info", offsetField: 8, minimum: Self.funcInfoMinimumSize)
        (lineInfoRecordSize, lineInfo) = try part("line_info", offsetField: 16, minimum: Self.lineInfoMinimumSize)
        let coreLength = headerLength >= 32 ? try u32(28) : 0
        hasCoreRelocations = coreLength > 0
    }

    /// A function's code as placed in a linked program.
    public struct Placement: Sendable {
        public var sectionName: String
        /// Instruction range of the function in its section.
        public var start: Int
        public var end: Int
        /// Instruction index of the function's first instruction in the linked program.
        public var linkedAt: Int

        public init(sectionName: String, start: Int, end: Int, linkedAt: Int) {
            self.sectionName = sectionName; self.start = start; self.end = end; self.linkedAt = linkedAt
        }
    }

    /// The func_info and line_info of one linked program, as `BPF_PROG_LOAD` takes them: each
    /// function's records, their `insn_off` rebased from section bytes to linked instructions,
    /// in the order the functions were placed (so offsets ascend). Nil when no function has any.
    public func programInfo(_ placements: [Placement]) -> BTFExtInfo? {
        func collect(_ groups: [String: [Record]]) -> [UInt8] {
            var bytes: [UInt8] = []
            for placement in placements.sorted(by: { $0.linkedAt < $1.linkedAt }) {
                for record in groups[placement.sectionName] ?? [] {
                    let instruction = Int(record.instructionOffset) / Instruction.size
                    guard instruction >= placement.start, instruction < placement.end else { continue }
                    let linked = UInt32(placement.linkedAt + instruction - placement.start)
                    bytes += (0..<4).map { UInt8(truncatingIfNeeded: linked >> (8 * UInt32($0))) }
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
public struct BTFExtInfo: Sendable, Equatable {
    public var funcInfo: [UInt8]
    public var funcInfoRecordSize: UInt32
    public var lineInfo: [UInt8]
    public var lineInfoRecordSize: UInt32

    public init(funcInfo: [UInt8], funcInfoRecordSize: UInt32, lineInfo: [UInt8], lineInfoRecordSize: UInt32) {
        self.funcInfo = funcInfo
        self.funcInfoRecordSize = funcInfoRecordSize
        self.lineInfo = lineInfo
        self.lineInfoRecordSize = lineInfoRecordSize
    }

    public var funcInfoCount: Int { funcInfoRecordSize == 0 ? 0 : funcInfo.count / Int(funcInfoRecordSize) }
    public var lineInfoCount: Int { lineInfoRecordSize == 0 ? 0 : lineInfo.count / Int(lineInfoRecordSize) }
}
