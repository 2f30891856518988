/// One section header of an ELF64 object, with its name resolved.
public struct ELFSection: Sendable, Equatable {
    /// `sh_type` values this loader acts on.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let null = Kind(rawValue: 0)        // SHT_NULL
        public static let progbits = Kind(rawValue: 1)    // SHT_PROGBITS
        public static let symtab = Kind(rawValue: 2)      // SHT_SYMTAB
        public static let strtab = Kind(rawValue: 3)      // SHT_STRTAB
        public static let rela = Kind(rawValue: 4)        // SHT_RELA
        public static let nobits = Kind(rawValue: 8)      // SHT_NOBITS
        public static let rel = Kind(rawValue: 9)         // SHT_REL
    }

    /// `sh_flags` bits.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public static let write = Flags(rawValue: 0x1)     // SHF_WRITE
        public static let alloc = Flags(rawValue: 0x2)     // SHF_ALLOC
        public static let execinstr = Flags(rawValue: 0x4) // SHF_EXECINSTR
    }

    public let index: Int
    public let name: String
    public let kind: Kind
    public let flags: Flags
    public let offset: Int
    public let size: Int
    public let link: Int
    public let info: Int
    public let entrySize: Int

    /// Whether the section occupies bytes in the file (everything but SHT_NOBITS and SHT_NULL).
    public var hasFileData: Bool { kind != .nobits && kind != .null && size > 0 }
}
