/// One entry of `.symtab`.
public struct ELFSymbol: Sendable, Equatable {
    /// `STT_*` from `st_info`.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `STT_NOTYPE`.
        public static let notype = Kind(rawValue: 0)
        /// `STT_OBJECT`.
        public static let object = Kind(rawValue: 1)
        /// `STT_FUNC`.
        public static let function = Kind(rawValue: 2)
        /// `STT_SECTION`.
        public static let section = Kind(rawValue: 3)
    }

    /// `STB_*` from `st_info`.
    public struct Binding: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `STB_LOCAL`.
        public static let local = Binding(rawValue: 0)
        /// `STB_GLOBAL`.
        public static let global = Binding(rawValue: 1)
        /// `STB_WEAK`.
        public static let weak = Binding(rawValue: 2)
    }

    /// Index in `.symtab`.
    public let index: Int
    /// The name from the symbol string table; empty for section symbols.
    public let name: String
    /// `STT_*`.
    public let kind: Kind
    /// `STB_*`.
    public let binding: Binding
    /// `st_shndx`: the section the symbol is defined in (0 = undefined; >= 0xff00 reserved).
    public let sectionIndex: Int
    /// `st_value`: the byte offset in its section.
    public let value: UInt64
    /// `st_size`, in bytes.
    public let size: UInt64
}
