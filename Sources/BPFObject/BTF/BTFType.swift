/// One decoded BTF type. Only what the loader needs is kept; member and variable lists are whole.
public struct BTFType: Sendable, Equatable {
    /// `BTF_KIND_*`.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let int = Kind(rawValue: 1)
        public static let pointer = Kind(rawValue: 2)
        public static let array = Kind(rawValue: 3)
        public static let structure = Kind(rawValue: 4)
        public static let union = Kind(rawValue: 5)
        public static let enumeration = Kind(rawValue: 6)
        public static let forward = Kind(rawValue: 7)
        public static let typedef = Kind(rawValue: 8)
        public static let volatile = Kind(rawValue: 9)
        public static let const = Kind(rawValue: 10)
        public static let restrict = Kind(rawValue: 11)
        public static let function = Kind(rawValue: 12)
        public static let functionProto = Kind(rawValue: 13)
        public static let variable = Kind(rawValue: 14)
        public static let dataSection = Kind(rawValue: 15)
        public static let float = Kind(rawValue: 16)
        public static let declTag = Kind(rawValue: 17)
        public static let typeTag = Kind(rawValue: 18)
        public static let enum64 = Kind(rawValue: 19)
    }

    /// A struct/union member, a DATASEC variable (`type`, `offset`, `size`), a FUNC_PROTO
    /// parameter, or an ENUM/ENUM64 enumerator (its value as a bit pattern in `type`: see `enumValue`).
    public struct Member: Sendable, Equatable {
        public let name: String
        public let type: Int
        /// Bit offset for struct members (with the bitfield size in the top 8 bits when the type's
        /// `kindFlag` is set: see `bitOffset(ofMember:)`); byte offset for DATASEC entries.
        public let offset: UInt32
        /// Byte size for DATASEC entries; 0 otherwise.
        public let size: UInt32
    }

    public let id: Int
    public let name: String
    public let kind: Kind
    /// `vlen` from `info`.
    public let vlen: Int
    /// `info` bit 31 (kind_flag).
    public let kindFlag: Bool
    /// `size` for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, otherwise the referenced `type`.
    public let sizeOrType: UInt32
    /// ARRAY: element type and element count.
    public let arrayElement: Int
    public let arrayCount: UInt32
    public let members: [Member]
    /// Byte offset of this type record in the whole `.BTF` section (for in-place fix-ups).
    public let recordOffset: Int
    /// INT: the word after the record (encoding in bits 24-27, bit offset in 16-23, bits in 0-7).
    public let intEncoding: UInt32
}

extension BTFType {
    /// STRUCT or UNION.
    public var isComposite: Bool { kind == .structure || kind == .union }
    /// ENUM or ENUM64.
    public var isEnum: Bool { kind == .enumeration || kind == .enum64 }
    /// INT with `BTF_INT_SIGNED` in its encoding.
    public var isSignedInt: Bool { kind == .int && (intEncoding >> 24) & 0x1 != 0 }
    /// INT: the deprecated bit offset of the value inside its storage (0 in anything clang emits today).
    public var intBitOffset: UInt32 { (intEncoding >> 16) & 0xFF }

    /// The bit offset of member `index` inside this struct or union.
    public func bitOffset(ofMember index: Int) -> UInt32 {
        kindFlag ? members[index].offset & 0xFF_FFFF : members[index].offset
    }

    /// The bitfield size of member `index` in bits; 0 when it is not a bitfield.
    public func bitfieldSize(ofMember index: Int) -> UInt32 {
        kindFlag ? members[index].offset >> 24 : 0
    }

    /// The value of enumerator `index`: ENUM values are 32-bit and sign-extended, as libbpf reads
    /// them; ENUM64 values are the whole 64 bits.
    public func enumValue(_ index: Int) -> Int64 {
        let raw = members[index].type
        return kind == .enum64 ? Int64(raw) : Int64(Int32(truncatingIfNeeded: raw))
    }
}
