/// The header of a `.BTF` section (`struct btf_header`): where the type and string sections lie,
/// checked against the section's size.
struct BTFHeader: Sendable {
    static let magic: UInt16 = 0xEB9F
    static let minimumLength = 24

    let headerLength: Int
    let typeOffset: Int
    let typeLength: Int
    let stringOffset: Int
    let stringLength: Int

    /// Where the type records start and end in the whole section.
    var typeRange: Range<Int> { (headerLength + typeOffset)..<(headerLength + typeOffset + typeLength) }
    /// Where the string section starts and ends in the whole section.
    var stringRange: Range<Int> { (headerLength + stringOffset)..<(headerLength + stringOffset + stringLength) }

    init(headerLength: Int, typeOffset: Int, typeLength: Int, stringOffset: Int, stringLength: Int) {
        (self.headerLength, self.typeOffset, self.typeLength) = (headerLength, typeOffset, typeLength)
        (self.stringOffset, self.stringLength) = (stringOffset, stringLength)
    }

    init<Bytes: RandomAccessCollection<UInt8>>(_ raw: Bytes) throws(BTFError) where Bytes.Index == Int {
        guard raw.count >= Self.minimumLength else { throw .badHeader(reason: "\(raw.count) bytes, shorter than the header") }
        let magic = raw.littleEndian(UInt16.self, at: 0)
        guard magic == Self.magic else { throw .badHeader(reason: "magic 0x\(String(magic, radix: 16)) is not 0xeb9f (or big-endian)") }
        guard raw[raw.startIndex + 2] == 1 else { throw .badHeader(reason: "version \(raw[raw.startIndex + 2]) is not 1") }
        headerLength = Int(raw.littleEndian(UInt32.self, at: 4))
        typeOffset = Int(raw.littleEndian(UInt32.self, at: 8))
        typeLength = Int(raw.littleEndian(UInt32.self, at: 12))
        stringOffset = Int(raw.littleEndian(UInt32.self, at: 16))
        stringLength = Int(raw.littleEndian(UInt32.self, at: 20))
        guard headerLength >= Self.minimumLength, headerLength <= raw.count else { throw .badHeader(reason: "hdr_len \(headerLength)") }
        let typeStart = headerLength + typeOffset, stringStart = headerLength + stringOffset
        guard typeStart <= raw.count, typeLength <= raw.count - typeStart else {
            throw .badHeader(reason: "type section (\(typeOffset)+\(typeLength)) runs past the end")
        }
        guard stringStart <= raw.count, stringLength <= raw.count - stringStart, stringLength > 0 else {
            throw .badHeader(reason: "string section (\(stringOffset)+\(stringLength)) runs past the end or is empty")
        }
        guard raw[raw.startIndex + stringStart + stringLength - 1] == 0 else { throw .badHeader(reason: "string section is not NUL-terminated") }
    }
}

/// The string section of a `.BTF` section, NUL-terminated as `BTFHeader` checked. `raw` is the
/// whole section: an array (a decoded `BTFSpec`) or the bytes a `BTFView` reads in place.
struct BTFStringTable<Bytes: RandomAccessCollection<UInt8>> where Bytes.Index == Int {
    let raw: Bytes
    let range: Range<Int>

    /// The string at `offset`, or nil when the offset is outside the section.
    func string(at offset: UInt32) -> String? {
        let o = Int(offset)
        guard o < range.count else { return nil }
        let start = raw.startIndex + range.lowerBound + o, stop = raw.startIndex + range.upperBound
        let end = raw[start..<stop].firstIndex(of: 0)!  // the section ends in NUL: checked by BTFHeader
        return String(decoding: raw[start..<end], as: UTF8.self)
    }

    /// The string at `offset`, or an error naming `what` refers to it.
    func string(at offset: UInt32, _ what: @autoclosure () -> String) throws(BTFError) -> String {
        guard let string = string(at: offset) else { throw .badStringOffset(what: what(), offset: Int(offset)) }
        return string
    }
}

extension BTFStringTable: Sendable where Bytes: Sendable {}
