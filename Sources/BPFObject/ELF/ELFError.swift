/// Why an ELF object could not be read. Each case names the part of the file that is wrong.
public enum ELFError: Error, Equatable, Sendable {
    /// Fewer bytes than an ELF64 header.
    case tooSmall(size: Int)
    /// The file does not start with `\x7fELF`.
    case badMagic
    /// `EI_CLASS` is not `ELFCLASS64` (1 means a 32-bit ELF).
    case unsupportedClass(UInt8)
    /// `EI_DATA` is not little-endian (2 means big-endian, e.g. `-target bpfeb`).
    case unsupportedByteOrder(UInt8)
    /// `e_machine` is not `EM_BPF` (247).
    case wrongMachine(UInt16)
    /// `e_type` is not `ET_REL`: BPF objects from clang are relocatable files.
    case notRelocatable(UInt16)
    /// A header field has a value no valid object has (an entry size, a count).
    case badHeaderField(name: String, value: UInt64)
    /// A read of `size` bytes at `offset` would pass `limit`.
    case outOfBounds(what: String, offset: Int, size: Int, limit: Int)
    /// A string table entry runs to the end of its table without a NUL.
    case unterminatedString(what: String, offset: Int)
    /// A header, symbol or relocation names a section that does not exist.
    case badSectionIndex(what: String, index: Int)
    /// Two sections claim the same bytes of the file.
    case overlappingSections(String, String)
    /// `.symtab` is malformed (entry size, string table link); `reason` says how.
    case badSymbolTable(section: String, reason: String)
    /// A `.rel*` section is malformed (entry size, target section); `reason` says how.
    case badRelocationSection(section: String, reason: String)
}

extension ELFError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .tooSmall(let size): return "not an ELF object: only \(size) bytes"
        case .badMagic: return "not an ELF object: bad magic bytes"
        case .unsupportedClass(let c):
            return c == 1 ? "32-bit ELF: BPF objects must be ELF64" : "unsupported ELF class \(c)"
        case .unsupportedByteOrder(let d):
            return d == 2 ? "big-endian ELF (bpfeb): this loader needs little-endian (bpfel)" : "unsupported ELF byte order \(d)"
        case .wrongMachine(let m): return "ELF machine is \(m), not EM_BPF (247): not a BPF object"
        case .notRelocatable(let t): return "ELF type is \(t), not ET_REL (1): expected an object from `clang -c -target bpf`"
        case .badHeaderField(let name, let value): return "bad ELF header field \(name) = \(value)"
        case .outOfBounds(let what, let offset, let size, let limit):
            return "\(what): \(size) bytes at offset \(offset) run past the end (\(limit) bytes)"
        case .unterminatedString(let what, let offset): return "\(what): string at offset \(offset) is not terminated"
        case .badSectionIndex(let what, let index): return "\(what): section index \(index) does not exist"
        case .overlappingSections(let a, let b): return "sections \(a) and \(b) overlap in the file"
        case .badSymbolTable(let section, let reason): return "symbol table \(section): \(reason)"
        case .badRelocationSection(let section, let reason): return "relocation section \(section): \(reason)"
        }
    }
}
