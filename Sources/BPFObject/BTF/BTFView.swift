/// Raw BTF read in place, as libbpf keeps it: the bytes, plus the offset of every type's record,
/// found in one pass that also checks every record (so a malformed file fails here, with the
/// errors `BTFSpec` gives, never later in a walk). A type is decoded only when asked for;
/// names are compared in the string section without making Strings.
///
/// What the kernel's BTF (`/sys/kernel/btf/vmlinux`: 5 MB, some 150,000 types) is read as: CO-RE
/// needs a handful of its types, never all of them.
struct BTFView: BTFTypeSource, Sendable {
    let bytes: BTFBytes
    private let header: BTFHeader
    /// `recordOffsets[id]`: where type `id`'s record starts in `bytes` (index 0, `void`, unused).
    /// Bounded by the input: a record is at least 12 bytes of the type section.
    private let recordOffsets: [UInt32]

    init(bytes: BTFBytes) throws(BTFError) {
        let header = try BTFHeader(bytes.buffer)
        recordOffsets = try withExtendedLifetime(bytes) { () throws(BTFError) in try Self.index(bytes.buffer, header) }
        (self.bytes, self.header) = (bytes, header)
    }

    var typeCount: Int { recordOffsets.count }

    func type(_ id: Int, _ what: @autoclosure () -> String) throws(BTFError) -> BTFType {
        guard id > 0, id < recordOffsets.count else { throw .badTypeID(what: what(), typeID: id) }
        return try withExtendedLifetime(bytes) { () throws(BTFError) in
            let raw = bytes.buffer
            var decoder = BTFTypeDecoder(raw: raw, header: header, strings: BTFStringTable(raw: raw, range: header.stringRange),
                                         at: Int(recordOffsets[id]))
            return try decoder.next(id: id)
        }
    }

    /// For each of `wanted`, the ids, ascending, of the types whose name, flavour removed, is its
    /// name (see `CORETargetBTF.essentialName`) and whose kind it accepts. One pass over the
    /// records for all of them; a name is measured only when its first byte starts a wanted one.
    func ids(_ wanted: [(essentialName: [UInt8], kindMatches: (BTFRawKind) -> Bool)]) -> [[Int]] {
        var byFirstByte = [[Int]](repeating: [], count: 256)
        for (i, want) in wanted.enumerated() {
            if let first = want.essentialName.first { byFirstByte[Int(first)].append(i) }
        }
        var found = [[Int]](repeating: [], count: wanted.count)
        withExtendedLifetime(bytes) {
            let raw = bytes.buffer, strings = header.stringRange
            for id in 1..<recordOffsets.count {
                let record = Int(recordOffsets[id])
                let nameOffset = Int(Self.word(raw, record))
                let candidates = byFirstByte[Int(raw[strings.lowerBound + nameOffset])]
                guard !candidates.isEmpty else { continue }
                let kind = Self.kind(Self.word(raw, record + 4))
                let name = Self.string(raw, strings, nameOffset)
                let essentialLength = CORETargetBTF.essentialLength(name)
                for i in candidates where wanted[i].essentialName.count == essentialLength && wanted[i].kindMatches(kind)
                    && name.prefix(essentialLength).elementsEqual(wanted[i].essentialName) {
                    found[i].append(id)
                }
            }
        }
        return found
    }

    /// The id of the first type of kind `kind` named exactly `name`.
    func firstID(named name: [UInt8], kind: BTFRawKind) -> Int? {
        guard let first = name.first else { return nil }
        return withExtendedLifetime(bytes) {
            let raw = bytes.buffer, strings = header.stringRange
            for id in 1..<recordOffsets.count {
                let record = Int(recordOffsets[id])
                let nameOffset = Int(Self.word(raw, record))
                guard raw[strings.lowerBound + nameOffset] == first,
                      Self.kind(Self.word(raw, record + 4)) == kind else { continue }
                if Self.string(raw, strings, nameOffset).elementsEqual(name) { return id }
            }
            return nil
        }
    }

    // MARK: Reading in place

    private static func word(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    private static func kind(_ info: UInt32) -> BTFRawKind { BTFRawKind(rawValue: Int((info >> 24) & 0x1F)) }

    /// The string at `offset` of the string section, without its NUL (the section ends in one:
    /// `BTFHeader` checked; `index` checked every name offset is inside it).
    private static func string(_ raw: UnsafeRawBufferPointer, _ strings: Range<Int>, _ offset: Int) -> Slice<UnsafeRawBufferPointer> {
        let start = strings.lowerBound + offset
        var end = start
        while raw[end] != 0 { end += 1 }
        return raw[start..<end]
    }

    // MARK: The index

    /// Every record's offset, each record checked as `BTFTypeDecoder` and `BTFSpec` check it: a
    /// known kind, inside the type section, names inside the string section, references to
    /// types that exist.
    private static func index(_ raw: UnsafeRawBufferPointer, _ header: BTFHeader) throws(BTFError) -> [UInt32] {
        let start = header.typeRange.lowerBound, end = header.typeRange.upperBound
        let stringLength = header.stringLength
        var offsets: [UInt32] = [0]
        offsets.reserveCapacity(header.typeLength / 12 + 1)
        var highest = (reference: 0, from: 0)
        var cursor = start
        while cursor < end {
            let id = offsets.count
            guard end - cursor >= 12 else { throw .truncated(what: "type \(id)", offset: cursor - start) }
            let nameOffset = word(raw, cursor), info = word(raw, cursor + 4), sizeOrType = Int(word(raw, cursor + 8))
            let rawKind = kind(info), vlen = Int(info & 0xFFFF)
            offsets.append(UInt32(cursor))
            cursor += 12
            func need(_ count: Int) throws(BTFError) {
                guard count <= end - cursor else { throw .truncated(what: "type \(id)", offset: cursor - start) }
            }
            func refer(_ target: Int) { if target > highest.reference { highest = (target, id) } }
            /// `vlen` entries of `size` bytes: a name (at `name`) and a type id (at `type`) each.
            func entries(_ size: Int, name: Int?, type: Int?, _ label: String) throws(BTFError) {
                try need(size * vlen)
                for entry in 0..<vlen {
                    let base = cursor + size * entry
                    if let name, Int(word(raw, base + name)) >= stringLength {
                        throw .badStringOffset(what: "type \(id) \(label) \(entry)", offset: Int(word(raw, base + name)))
                    }
                    if let type { refer(Int(word(raw, base + type))) }
                }
                cursor += size * vlen
            }
            switch rawKind {
            case .int: try need(4); cursor += 4
            case .pointer, .typedef, .volatile, .const, .restrict, .typeTag, .function: refer(sizeOrType)
            case .array: try need(12); refer(Int(word(raw, cursor))); cursor += 12
            case .structure, .union: try entries(12, name: 0, type: 4, "member")
            case .enumeration: try entries(8, name: 0, type: nil, "entry")
            case .enum64: try entries(12, name: 0, type: nil, "entry")
            case .forward, .float: break
            case .functionProto: refer(sizeOrType); try entries(8, name: 0, type: 4, "entry")
            case .variable, .declTag: try need(4); cursor += 4; refer(sizeOrType)
            case .dataSection: try entries(12, name: nil, type: 0, "entry")
            default: throw .unknownKind(typeID: id, kind: rawKind.rawValue)
            }
            guard Int(nameOffset) < stringLength else { throw .badStringOffset(what: "type \(id) name", offset: Int(nameOffset)) }
        }
        if highest.reference >= offsets.count {
            let from = highest.from, record = Int(offsets[from])
            let name = String(decoding: string(raw, header.stringRange, Int(word(raw, record))), as: UTF8.self)
            let what = kind(word(raw, record + 4)) == .array ? "array type \(from)" : "type \(from) (\(name))"
            throw .badTypeID(what: what, typeID: highest.reference)
        }
        return offsets
    }
}
