/// One entry of `.symtab`.
package struct ELFSymbol: Sendable, Equatable {
    /// `STT_*` from `st_info`.
    package struct Kind: RawRepresentable, Hashable, Sendable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `STT_NOTYPE`.
        package static let notype = Kind(rawValue: 0)
        /// `STT_OBJECT`.
        package static let object = Kind(rawValue: 1)
        /// `STT_FUNC`.
        package static let function = Kind(rawValue: 2)
        /// `STT_SECTION`.
        package static let section = Kind(rawValue: 3)
    }

    /// `STB_*` from `st_info`.
    package struct Binding: RawRepresentable, Hashable, Sendable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `STB_LOCAL`.
        package static let local = Binding(rawValue: 0)
        /// `STB_GLOBAL`.
        package static let global = Binding(rawValue: 1)
        /// `STB_WEAK`.
        package static let weak = Binding(rawValue: 2)
    }

    /// Index in `.symtab`.
    package let index: Int
    /// The name from the symbol string table; empty for section symbols.
    package let name: String
    /// `STT_*`.
    package let kind: Kind
    /// `STB_*`.
    package let binding: Binding
    /// `st_shndx`: the section the symbol is defined in (0 = undefined; >= 0xff00 reserved).
    package let sectionIndex: Int
    /// `st_value`: the byte offset in its section.
    package let value: UInt64
    /// `st_size`, in bytes.
    package let size: UInt64
}
