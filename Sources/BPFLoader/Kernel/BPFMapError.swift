import BPFObject

/// Why a map operation failed: the loader refused it before any system call because the key or
/// value does not fit the map's layout, or the kernel failed it.
public enum BPFMapError: Error, Sendable, CustomStringConvertible {
    /// A key of `got` bytes for a map whose keys are `expected` bytes (the kernel would read
    /// `expected` bytes from the key's address, past the end of a shorter buffer).
    case keySize(map: String, expected: Int, got: Int)
    /// A value of `got` bytes for a map whose values are `expected` bytes (for per-CPU maps, one
    /// 8-byte aligned slot per possible CPU).
    case valueSize(map: String, expected: Int, got: Int)
    /// The kernel refused the operation.
    case kernel(BPFError)

    /// What failed, as one line.
    public var description: String {
        switch self {
        case .keySize(let map, let expected, let got): "map \(map): its keys are \(expected) bytes, this one is \(got)"
        case .valueSize(let map, let expected, let got): "map \(map): its values are \(expected) bytes, this one is \(got)"
        case .kernel(let error): error.description
        }
    }
}
