/// Why BTF (`.BTF`, `.BTF.ext`) or a BTF-defined map could not be decoded.
public enum BTFError: Error, Equatable, Sendable {
    /// The header is short, has the wrong magic or version, or places a part outside the section.
    case badHeader(reason: String)
    /// A type record ends past the type section (`offset` from its start).
    case truncated(what: String, offset: Int)
    /// A name points outside the string section.
    case badStringOffset(what: String, offset: Int)
    /// A record of a `BTF_KIND_*` this loader does not know.
    case unknownKind(typeID: Int, kind: Int)
    /// A reference to a type id that does not exist (or has no size, where one is needed).
    case badTypeID(what: String, typeID: Int)
    /// Following `typeID` through typedefs, modifiers or arrays did not end.
    case typeLoop(typeID: Int)
    /// A `.maps` entry that is not shaped like a BTF map definition.
    case badMapDefinition(map: String, reason: String)
    /// A DATASEC whose size or variable offsets cannot be taken from the ELF (see `BTFSpec.fixedUp(for:)`).
    case unfixableDataSection(section: String, reason: String)
    /// `.BTF.ext` is malformed.
    case badExtension(reason: String)
}

extension BTFError: CustomStringConvertible {
    /// The error as one line, naming what was being read.
    public var description: String {
        switch self {
        case .badHeader(let reason): return "bad BTF header: \(reason)"
        case .truncated(let what, let offset): return "BTF \(what) is truncated at offset \(offset)"
        case .badStringOffset(let what, let offset): return "BTF \(what): string offset \(offset) is outside the string section"
        case .unknownKind(let id, let kind): return "BTF type \(id) has unknown kind \(kind)"
        case .badTypeID(let what, let id): return "BTF \(what) refers to type \(id), which does not exist"
        case .typeLoop(let id): return "BTF type \(id) refers to itself in a loop"
        case .badMapDefinition(let map, let reason): return "map \(map) in .maps: \(reason)"
        case .unfixableDataSection(let section, let reason): return "BTF DATASEC \(section): \(reason)"
        case .badExtension(let reason): return "bad .BTF.ext: \(reason)"
        }
    }
}
