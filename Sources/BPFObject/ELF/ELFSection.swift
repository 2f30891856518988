/// One section header of an ELF64 object, with its name resolved.
public struct ELFSection: Sendable, Equatable {
    /// `sh_type` values this loader acts on.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `SHT_NULL`.
        public static let null = Kind(rawValue: 0)
        /// `SHT_PROGBITS`.
        public static let progbits = Kind(rawValue: 1)
        /// `SHT_SYMTAB`.
        public static let symtab = Kind(rawValue: 2)
        /// `SHT_STRTAB`.
        public static let strtab = Kind(rawValue: 3)
        /// `SHT_RELA`.
        public static let rela = Kind(rawValue: 4)
        /// `SHT_NOBITS`.
        public static let nobits = Kind(rawValue: 8)
        /// `SHT_REL`.
        public static let rel = Kind(rawValue: 9)
    }

    /// `sh_flags` bits.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        /// `SHF_WRITE`.
        public static let write = Flags(rawValue: 0x1)
        /// `SHF_ALLOC`.
        public static let alloc = Flags(rawValue: 0x2)
        /// `SHF_EXECINSTR`.
        public static let execinstr = Flags(rawValue: 0x4)
    }

    /// Index in the section header table.
    public let index: Int
    /// The name from `.shstrtab` (`sk_msg`, `.maps`, `.rel.text`).
    public let name: String
    /// `sh_type`.
    public let kind: Kind
    /// `sh_flags`.
    public let flags: Flags
    /// `sh_offset`: where the section's bytes start in the file.
    public let offset: Int
    /// `sh_size`, in bytes.
    public let size: Int
    /// `sh_link`: for `.symtab` its string table, for `.rel*` the symbol table.
    public let link: Int
    /// `sh_info`: for `.rel*` the index of the section the relocations apply to.
    public let info: Int
    /// `sh_entsize`: the size of one entry of a table section, else 0.
    public let entrySize: Int

    /// Whether the section occupies bytes in the file (everything but SHT_NOBITS and SHT_NULL).
    public var hasFileData: Bool { kind != .nobits && kind != .null && size > 0 }
}
