import Foundation
import TestSupport

/// The package's real BPF object, `bpf/redir.o`, built by `make -C bpf` (git-ignored; CI builds it
/// before testing). Every malformed-object test starts from these bytes, so the corpus follows
/// whatever the current compiler emits.
enum RedirObject {
    /// Thrown (and so reported by the test) when the object has not been built.
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) does not exist: run `make -C bpf` in the package root before `swift test`" }
    }

    static let path = PackageLayout.redirObject

    private static let loaded: Result<[UInt8], Missing> = {
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(Missing(path: path)) }
        return .success([UInt8](data))
    }()

    /// The bytes of bpf/redir.o, or a `Missing` error that tells how to build it.
    static func bytes() throws -> [UInt8] { try loaded.get() }

    /// The bytes together with an independent decoding of their section headers.
    static func raw() throws -> RawELF { RawELF(try bytes()) }
}
