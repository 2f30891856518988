/// The type information of an object's `.BTF` section.
public struct BTFSpec: Sendable {
    /// `types[0]` is `void`; ids index this array directly.
    public let types: [BTFType]
    /// The raw section, kept to hand it to the kernel (`BPF_BTF_LOAD`) after fix-ups.
    public let rawBytes: [UInt8]
    public let headerLength: Int
    public let typeOffset: Int
    public let typeLength: Int
    public let stringOffset: Int
    public let stringLength: Int

    static let magic: UInt16 = 0xEB9F
    static let maxResolveDepth = 32

    public init(bytes: some Collection<UInt8>) throws(BTFError) {
        let raw = Array(bytes)
        rawBytes = raw
        func u32(_ o: Int, _ what: String) throws(BTFError) -> UInt32 {
            guard o >= 0, o + 4 <= raw.count else { throw .truncated(what: what, offset: o) }
            return raw.littleEndian(at: o)
        }
        guard raw.count >= 24 else { throw .badHeader(reason: "\(raw.count) bytes, shorter than the header") }
        let magic = raw.littleEndian(UInt16.self, at: 0)
        guard magic == Self.magic else { throw .badHeader(reason: "magic 0x\(String(magic, radix: 16)) is not 0xeb9f (or big-endian)") }
        guard raw[2] == 1 else { throw .badHeader(reason: "version \(raw[2]) is not 1") }
        headerLength = Int(try u32(4, "header"))
        typeOffset = Int(try u32(8, "header"))
        typeLength = Int(try u32(12, "header"))
        stringOffset = Int(try u32(16, "header"))
        stringLength = Int(try u32(20, "header"))
        guard headerLength >= 24, headerLength <= raw.count else { throw .badHeader(reason: "hdr_len \(headerLength)") }
        let typeStart = headerLength + typeOffset, stringStart = headerLength + stringOffset
        guard typeStart <= raw.count, typeLength <= raw.count - typeStart else {
            throw .badHeader(reason: "type section (\(typeOffset)+\(typeLength)) runs past the end")
        }
        guard stringStart <= raw.count, stringLength <= raw.count - stringStart, stringLength > 0 else {
            throw .badHeader(reason: "string section (\(stringOffset)+\(stringLength)) runs past the end or is empty")
        }
        guard raw[stringStart + stringLength - 1] == 0 else { throw .badHeader(reason: "string section is not NUL-terminated") }

        let stringCount = stringLength
        func string(_ offset: UInt32, _ what: String) throws(BTFError) -> String {
            let o = Int(offset)
            guard o < stringCount else { throw .badStringOffset(what: what, offset: o) }
            var end = stringStart + o
            while raw[end] != 0 { end += 1 }  // terminated: checked above
            return String(decoding: raw[(stringStart + o)..<end], as: UTF8.self)
        }

        var parsed = [BTFType(id: 0, name: "", kind: .init(rawValue: 0), vlen: 0, kindFlag: false, sizeOrType: 0,
                             arrayElement: 0, arrayCount: 0, members: [], recordOffset: -1, intEncoding: 0)]
        var cursor = typeStart
        let end = typeStart + typeLength
        while cursor < end {
            let id = parsed.count
            let what = "type \(id)"
            guard cursor + 12 <= end else { throw .truncated(what: what, offset: cursor - typeStart) }
            let nameOff = try u32(cursor, what), info = try u32(cursor + 4, what), sizeOrType = try u32(cursor + 8, what)
            let kind = BTFType.Kind(rawValue: Int((info >> 24) & 0x1F))
            let vlen = Int(info & 0xFFFF)
            let record = cursor
            cursor += 12
            var members: [BTFType.Member] = []
            var element = 0, count: UInt32 = 0, intEncoding: UInt32 = 0
            func need(_ bytes: Int) throws(BTFError) {
                guard bytes <= end - cursor else { throw .truncated(what: what, offset: cursor - typeStart) }
            }
            switch kind {
            case .int:
                try need(4); intEncoding = try u32(cursor, what); cursor += 4
            case .variable, .declTag:
                try need(4); cursor += 4
            case .pointer, .forward, .typedef, .volatile, .const, .restrict, .function, .float, .typeTag:
                break
            case .array:
                try need(12)
                element = Int(try u32(cursor, what)); count = try u32(cursor + 8, what); cursor += 12
            case .structure, .union:
                try need(12 * vlen)
                for m in 0..<vlen {
                    members.append(.init(name: try string(try u32(cursor, what), "\(what) member \(m)"),
                                         type: Int(try u32(cursor + 4, what)), offset: try u32(cursor + 8, what), size: 0))
                    cursor += 12
                }
            case .enumeration, .functionProto:
                try need(8 * vlen)
                for m in 0..<vlen {
                    members.append(.init(name: try string(try u32(cursor, what), "\(what) entry \(m)"),
                                         type: Int(try u32(cursor + 4, what)), offset: 0, size: 0))
                    cursor += 8
                }
            case .enum64:
                try need(12 * vlen)
                for m in 0..<vlen {
                    // The 64-bit value (lo32, hi32) goes in `type`, as a bit pattern.
                    let value = UInt64(try u32(cursor + 4, what)) | UInt64(try u32(cursor + 8, what)) << 32
                    members.append(.init(name: try string(try u32(cursor, what), "\(what) entry \(m)"),
                                         type: Int(Int64(bitPattern: value)), offset: 0, size: 0))
                    cursor += 12
                }
            case .dataSection:
                try need(12 * vlen)
                for _ in 0..<vlen {
                    members.append(.init(name: "", type: Int(try u32(cursor, what)),
                                         offset: try u32(cursor + 4, what), size: try u32(cursor + 8, what)))
                    cursor += 12
                }
            default:
                throw .unknownKind(typeID: id, kind: kind.rawValue)
            }
            parsed.append(BTFType(id: id, name: try string(nameOff, "\(what) name"), kind: kind, vlen: vlen,
                                 kindFlag: info & 0x8000_0000 != 0, sizeOrType: sizeOrType, arrayElement: element,
                                 arrayCount: count, members: members, recordOffset: record, intEncoding: intEncoding))
        }
        self.types = parsed
        // Every reference must name an existing type, so later walks never index out of range.
        for type in types.dropFirst() {
            for member in type.members where !type.isEnum && member.type >= types.count {
                throw .badTypeID(what: "type \(type.id) (\(type.name))", typeID: member.type)
            }
            if type.kind == .array, type.arrayElement >= types.count {
                throw .badTypeID(what: "array type \(type.id)", typeID: type.arrayElement)
            }
            if Self.refersToType(type.kind), Int(type.sizeOrType) >= types.count {
                throw .badTypeID(what: "type \(type.id) (\(type.name))", typeID: Int(type.sizeOrType))
            }
        }
    }

    static func refersToType(_ kind: BTFType.Kind) -> Bool {
        [.pointer, .typedef, .volatile, .const, .restrict, .function, .variable, .declTag, .typeTag].contains(kind)
            || kind == .functionProto
    }

    public func type(_ id: Int, _ what: @autoclosure () -> String) throws(BTFError) -> BTFType {
        guard id > 0, id < types.count else { throw .badTypeID(what: what(), typeID: id) }
        return types[id]
    }

    /// Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the underlying type.
    public func skipModifiers(_ id: Int) throws(BTFError) -> BTFType {
        var current = id
        for _ in 0..<Self.maxResolveDepth {
            let t = try type(current, "type reference")
            switch t.kind {
            case .typedef, .volatile, .const, .restrict, .typeTag: current = Int(t.sizeOrType)
            default: return t
            }
        }
        throw .typeLoop(typeID: id)
    }

    /// The size in bytes of a type, as `sizeof` would give it.
    public func size(of id: Int) throws(BTFError) -> Int {
        var current = id, multiplier = 1
        for _ in 0..<Self.maxResolveDepth {
            let t = try skipModifiers(current)
            switch t.kind {
            case .int, .structure, .union, .enumeration, .enum64, .float, .dataSection:
                let (size, overflow) = multiplier.multipliedReportingOverflow(by: Int(t.sizeOrType))
                guard !overflow else { throw .typeLoop(typeID: id) }
                return size
            case .pointer: return multiplier * 8
            case .array:
                let (m, overflow) = multiplier.multipliedReportingOverflow(by: Int(t.arrayCount))
                guard !overflow, m < Int(UInt32.max) else { throw .typeLoop(typeID: id) }
                multiplier = m
                current = t.arrayElement
            default:
                throw .badTypeID(what: "size of type \(id) (kind \(t.kind.rawValue) has no size)", typeID: t.id)
            }
        }
        throw .typeLoop(typeID: id)
    }

    /// The string at `offset` of the string section (names in `.BTF.ext` and line info point here).
    public func string(at offset: UInt32) -> String? {
        let o = Int(offset)
        guard o < stringLength else { return nil }
        let start = headerLength + stringOffset + o
        let end = rawBytes[start...].firstIndex(of: 0)!  // the section is NUL-terminated: checked in init
        return String(decoding: rawBytes[start..<end], as: UTF8.self)
    }

    /// The DATASEC named `name`, if present.
    public func dataSection(named name: String) -> BTFType? {
        types.first { $0.kind == .dataSection && $0.name == name }
    }
}
