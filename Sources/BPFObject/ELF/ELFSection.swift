/// One section header of an ELF64 object, with its name resolved.
package struct ELFSection: Sendable, Equatable {
    /// `sh_type` values this loader acts on.
    package struct Kind: RawRepresentable, Hashable, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `SHT_NULL`.
        package static let null = Kind(rawValue: 0)
        /// `SHT_PROGBITS`.
        package static let progbits = Kind(rawValue: 1)
        /// `SHT_SYMTAB`.
        package static let symtab = Kind(rawValue: 2)
        /// `SHT_STRTAB`.
        package static let strtab = Kind(rawValue: 3)
        /// `SHT_RELA`.
        package static let rela = Kind(rawValue: 4)
        /// `SHT_NOBITS`.
        package static let nobits = Kind(rawValue: 8)
        /// `SHT_REL`.
        package static let rel = Kind(rawValue: 9)
    }

    /// `sh_flags` bits.
    package struct Flags: OptionSet, Hashable, Sendable {
        package let rawValue: UInt64
        package init(rawValue: UInt64) { self.rawValue = rawValue }
        /// `SHF_WRITE`.
        package static let write = Flags(rawValue: 0x1)
        /// `SHF_ALLOC`.
        package static let alloc = Flags(rawValue: 0x2)
        /// `SHF_EXECINSTR`.
        package static let execinstr = Flags(rawValue: 0x4)
    }

    /// Index in the section header table.
    package let index: Int
    /// The name from `.shstrtab` (`sk_msg`, `.maps`, `.rel.text`).
    package let name: String
    /// `sh_type`.
    package let kind: Kind
    /// `sh_flags`.
    package let flags: Flags
    /// `sh_offset`: where the section's bytes start in the file.
    package let offset: Int
    /// `sh_size`, in bytes.
    package let size: Int
    /// `sh_link`: for `.symtab` its string table, for `.rel*` the symbol table.
    package let link: Int
    /// `sh_info`: for `.rel*` the index of the section the relocations apply to.
    package let info: Int
    /// `sh_entsize`: the size of one entry of a table section, else 0.
    package let entrySize: Int

    /// Whether the section occupies bytes in the file (everything but SHT_NOBITS and SHT_NULL).
    package var hasFileData: Bool { kind != .nobits && kind != .null && size > 0 }
}
