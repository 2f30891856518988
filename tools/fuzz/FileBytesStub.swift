// The fuzz build compiles Sources/BPFLoader/{ELF,BTF,Object} without SystemPackage, so it
// replaces Object/FileBytes.swift (used only by `ObjectSpec(path:)`, which the fuzzer never
// calls) with this stand-in.
enum FileBytes {
    struct Unavailable: Error {}

    static func read(_ path: String) throws -> [UInt8] { throw Unavailable() }
}
