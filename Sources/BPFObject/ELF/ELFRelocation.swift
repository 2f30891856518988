/// One `Elf64_Rel` entry of a `.rel<section>` section (BPF objects use REL, not RELA).
package struct ELFRelocation: Sendable, Equatable {
    /// `ELF64_R_TYPE` values of the BPF ABI.
    package struct Kind: RawRepresentable, Hashable, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `R_BPF_NONE`.
        package static let none = Kind(rawValue: 0)
        /// `R_BPF_64_64`: ld_imm64.
        package static let bpf64_64 = Kind(rawValue: 1)
        /// `R_BPF_64_ABS64` (data, BTF).
        package static let abs64 = Kind(rawValue: 2)
        /// `R_BPF_64_ABS32` (debug info).
        package static let abs32 = Kind(rawValue: 3)
        /// `R_BPF_64_NODYLD32` (.BTF.ext).
        package static let nodyld32 = Kind(rawValue: 4)
        /// `R_BPF_64_32`: call imm.
        package static let bpf64_32 = Kind(rawValue: 10)
    }

    /// Byte offset inside the section the relocation applies to.
    package let offset: UInt64
    /// Index in `.symtab` of the symbol the relocation refers to.
    package let symbolIndex: Int
    /// The relocation type.
    package let kind: Kind
}
