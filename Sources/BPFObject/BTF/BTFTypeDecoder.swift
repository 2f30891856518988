/// Decodes the type records of a `.BTF` section one after another (`struct btf_type` and the
/// kind-specific data after it), each bounds-checked against the type section's end. Offsets
/// count from the start of the section (`raw` is the whole section, from its header on).
struct BTFTypeDecoder<Bytes: RandomAccessCollection<UInt8>> where Bytes.Index == Int {
    private let raw: Bytes
    private let strings: BTFStringTable<Bytes>
    private let start: Int
    private let end: Int
    private var cursor: Int

    /// A decoder at the first record, or at `record` (a record's offset, as `BTFType.recordOffset`).
    init(raw: Bytes, header: BTFHeader, strings: BTFStringTable<Bytes>, at record: Int? = nil) {
        self.raw = raw
        self.strings = strings
        (start, end) = (header.typeRange.lowerBound, header.typeRange.upperBound)
        cursor = record ?? start
    }

    var isAtEnd: Bool { cursor >= end }

    /// The record at the cursor, as type `id`; moves the cursor past it.
    mutating func next(id: Int) throws(BTFError) -> BTFType {
        let what = "type \(id)"
        let record = cursor
        try need(12, what)
        let nameOffset = word(0), info = word(4), sizeOrType = word(8)
        cursor += 12
        let rawKind = BTFRawKind(rawValue: Int((info >> 24) & 0x1F))
        let vlen = Int(info & 0xFFFF), kindFlag = info & 0x8000_0000 != 0
        let kind = try decodeKind(rawKind, id: id, vlen: vlen, kindFlag: kindFlag, sizeOrType: sizeOrType, what)
        return BTFType(id: id, name: try strings.string(at: nameOffset, "\(what) name"), kind: kind, recordOffset: record)
    }

    private mutating func decodeKind(_ rawKind: BTFRawKind, id: Int, vlen: Int, kindFlag: Bool, sizeOrType: UInt32,
                                     _ what: String) throws(BTFError) -> BTFKind {
        let size = Int(sizeOrType), type = Int(sizeOrType)
        switch rawKind {
        case .int: return .int(size: size, encoding: BTFIntEncoding(word: try extraWord(what)))
        case .pointer: return .pointer(to: type)
        case .array: return try array(what)
        case .structure: return .structure(size: size, members: try members(vlen, bitfields: kindFlag, what))
        case .union: return .union(size: size, members: try members(vlen, bitfields: kindFlag, what))
        case .enumeration: return .enumeration(size: size, signed: kindFlag, values: try enumValues(vlen, what))
        case .forward: return .forward(isUnion: kindFlag)
        case .typedef: return .typedef(to: type)
        case .volatile: return .volatile(of: type)
        case .const: return .const(of: type)
        case .restrict: return .restrict(of: type)
        case .function: return .function(proto: type, linkage: BTFLinkage(rawValue: UInt32(vlen)))
        case .functionProto: return .functionProto(returns: type, parameters: try parameters(vlen, what))
        case .variable: return .variable(type: type, linkage: BTFLinkage(rawValue: try extraWord(what)))
        case .dataSection: return .dataSection(size: size, variables: try dataSectionVariables(vlen, what))
        case .float: return .float(size: size)
        case .declTag: return .declTag(of: type, componentIndex: Int(Int32(bitPattern: try extraWord(what))))
        case .typeTag: return .typeTag(of: type)
        case .enum64: return .enum64(size: size, signed: kindFlag, values: try enum64Values(vlen, what))
        default: throw .unknownKind(typeID: id, kind: rawKind.rawValue)
        }
    }

    // MARK: Kind-specific data

    /// The one word after an INT, VAR or DECL_TAG record.
    private mutating func extraWord(_ what: String) throws(BTFError) -> UInt32 {
        try need(4, what)
        defer { cursor += 4 }
        return word(0)
    }

    /// `struct btf_array`.
    private mutating func array(_ what: String) throws(BTFError) -> BTFKind {
        try need(12, what)
        defer { cursor += 12 }
        return .array(element: Int(word(0)), index: Int(word(4)), count: Int(word(8)))
    }

    /// `struct btf_member`s; with `kind_flag` set, each offset carries the bitfield size in its top 8 bits.
    private mutating func members(_ count: Int, bitfields: Bool, _ what: String) throws(BTFError) -> [BTFMember] {
        try entries(count, size: 12, what) { (decoder, m) throws(BTFError) in
            let offset = decoder.word(8)
            return BTFMember(name: try decoder.name(decoder.word(0), "\(what) member \(m)"), type: Int(decoder.word(4)),
                             bitOffset: Int(bitfields ? offset & 0xFF_FFFF : offset), bitfieldSize: Int(bitfields ? offset >> 24 : 0))
        }
    }

    /// `struct btf_enum`s: 32-bit values, sign-extended as libbpf reads them.
    private mutating func enumValues(_ count: Int, _ what: String) throws(BTFError) -> [BTFEnumValue] {
        try entries(count, size: 8, what) { (decoder, m) throws(BTFError) in
            BTFEnumValue(name: try decoder.name(decoder.word(0), "\(what) entry \(m)"),
                         value: Int64(Int32(bitPattern: decoder.word(4))))
        }
    }

    /// `struct btf_enum64`s: the value as `val_lo32`, `val_hi32`.
    private mutating func enum64Values(_ count: Int, _ what: String) throws(BTFError) -> [BTFEnumValue] {
        try entries(count, size: 12, what) { (decoder, m) throws(BTFError) in
            BTFEnumValue(name: try decoder.name(decoder.word(0), "\(what) entry \(m)"),
                         value: Int64(bitPattern: decoder.raw.littleEndian(UInt64.self, at: decoder.cursor + 4)))
        }
    }

    /// `struct btf_param`s.
    private mutating func parameters(_ count: Int, _ what: String) throws(BTFError) -> [BTFParameter] {
        try entries(count, size: 8, what) { (decoder, m) throws(BTFError) in
            BTFParameter(name: try decoder.name(decoder.word(0), "\(what) entry \(m)"), type: Int(decoder.word(4)))
        }
    }

    /// `struct btf_var_secinfo`s.
    private mutating func dataSectionVariables(_ count: Int, _ what: String) throws(BTFError) -> [BTFDataSectionVariable] {
        try entries(count, size: 12, what) { (decoder, _) throws(BTFError) in
            BTFDataSectionVariable(type: Int(decoder.word(0)), offset: Int(decoder.word(4)), size: Int(decoder.word(8)))
        }
    }

    // MARK: Reading

    /// `count` entries of `size` bytes each, all checked to be there first.
    private mutating func entries<Entry>(_ count: Int, size: Int, _ what: String,
                                         _ decode: (Self, Int) throws(BTFError) -> Entry) throws(BTFError) -> [Entry] {
        try need(size * count, what)
        var result: [Entry] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(try decode(self, index))
            cursor += size
        }
        return result
    }

    private func need(_ bytes: Int, _ what: String) throws(BTFError) {
        guard bytes <= end - cursor else { throw .truncated(what: what, offset: cursor - start) }
    }

    /// The word `offset` bytes after the cursor; `need` checked it is inside the type section.
    private func word(_ offset: Int) -> UInt32 { raw.littleEndian(at: cursor + offset) }

    private func name(_ offset: UInt32, _ what: @autoclosure () -> String) throws(BTFError) -> String {
        try strings.string(at: offset, what())
    }
}
