/// Why an object's maps or programs could not be assembled from its ELF and BTF.
public enum ObjectError: Error, Equatable, Sendable {
    /// The ELF structure is malformed.
    case elf(ELFError)
    /// `.BTF` cannot be decoded, or a BTF map definition in `.maps` is malformed.
    case btf(BTFError)
    /// `.maps` is present but the object has no `.BTF` to describe it.
    case mapsWithoutBTF
    /// A `struct bpf_map_def` in `maps` is truncated or invalid.
    case badLegacyMap(symbol: String, reason: String)
    /// Two map definitions have the same name.
    case duplicateMapName(String)
    /// An executable section whose name maps to no known program type.
    case unknownProgramSection(String)
    /// A program section or function cannot be used (not whole instructions, a symbol outside its
    /// section, overlapping functions, a static entry function, a bad `version`); `reason` says which.
    case badProgram(section: String, symbol: String, reason: String)
    /// A relocation the loader does not understand; never skipped silently.
    case unsupportedRelocation(section: String, offset: UInt64, kind: UInt32, symbol: String)
    /// A relocation points outside its section, or at an instruction it cannot apply to.
    case badRelocation(section: String, offset: UInt64, reason: String)
    /// A bpf-to-bpf call targets no function of the object.
    case badCall(section: String, instruction: Int, reason: String)
    /// The object has no program section.
    case noPrograms
    /// A `.data`/`.rodata`/`.bss` section larger than an array map value may be.
    case globalDataTooLarge(section: String, size: Int, limit: Int)
    /// The `license` section is not a NUL-terminated string.
    case badLicense(String)
}

extension ObjectError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .elf(let e): return e.description
        case .btf(let e): return e.description
        case .mapsWithoutBTF: return "the object has a .maps section but no .BTF: compile with -g"
        case .badLegacyMap(let symbol, let reason): return "legacy map \(symbol) in section maps: \(reason)"
        case .duplicateMapName(let name): return "two maps are named \(name)"
        case .unknownProgramSection(let name):
            return "executable section \(name) has no known program type (known: \(ProgramSection.known.map(\.prefix).joined(separator: ", ")))"
        case .badProgram(let section, let symbol, let reason): return "program \(symbol) in section \(section): \(reason)"
        case .unsupportedRelocation(let section, let offset, let kind, let symbol):
            return "section \(section): unsupported relocation type \(kind) at offset \(offset) against symbol \(symbol)"
        case .badRelocation(let section, let offset, let reason): return "section \(section): relocation at offset \(offset): \(reason)"
        case .badCall(let section, let instruction, let reason): return "section \(section): call at instruction \(instruction): \(reason)"
        case .noPrograms: return "the object contains no programs"
        case .globalDataTooLarge(let section, let size, let limit):
            return "section \(section) is \(size) bytes; a global-data map holds at most \(limit)"
        case .badLicense(let reason): return "license section: \(reason)"
        }
    }
}
