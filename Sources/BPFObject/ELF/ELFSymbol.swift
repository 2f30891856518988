/// One entry of `.symtab`.
public struct ELFSymbol: Sendable, Equatable {
    /// `STT_*` from `st_info`.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let notype = Kind(rawValue: 0)   // STT_NOTYPE
        public static let object = Kind(rawValue: 1)   // STT_OBJECT
        public static let function = Kind(rawValue: 2) // STT_FUNC
        public static let section = Kind(rawValue: 3)  // STT_SECTION
    }

    /// `STB_*` from `st_info`.
    public struct Binding: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let local = Binding(rawValue: 0)  // STB_LOCAL
        public static let global = Binding(rawValue: 1) // STB_GLOBAL
        public static let weak = Binding(rawValue: 2)   // STB_WEAK
    }

    public let index: Int
    public let name: String
    public let kind: Kind
    public let binding: Binding
    /// `st_shndx`: the section the symbol is defined in (0 = undefined; >= 0xff00 reserved).
    public let sectionIndex: Int
    public let value: UInt64
    public let size: UInt64
}
