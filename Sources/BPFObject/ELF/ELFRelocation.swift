/// One `Elf64_Rel` entry of a `.rel<section>` section (BPF objects use REL, not RELA).
public struct ELFRelocation: Sendable, Equatable {
    /// `ELF64_R_TYPE` values of the BPF ABI.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `R_BPF_NONE`.
        public static let none = Kind(rawValue: 0)
        /// `R_BPF_64_64`: ld_imm64.
        public static let bpf64_64 = Kind(rawValue: 1)
        /// `R_BPF_64_ABS64` (data, BTF).
        public static let abs64 = Kind(rawValue: 2)
        /// `R_BPF_64_ABS32` (debug info).
        public static let abs32 = Kind(rawValue: 3)
        /// `R_BPF_64_NODYLD32` (.BTF.ext).
        public static let nodyld32 = Kind(rawValue: 4)
        /// `R_BPF_64_32`: call imm.
        public static let bpf64_32 = Kind(rawValue: 10)
    }

    /// Byte offset inside the section the relocation applies to.
    public let offset: UInt64
    /// Index in `.symtab` of the symbol the relocation refers to.
    public let symbolIndex: Int
    /// The relocation type.
    public let kind: Kind
}
