// The fuzz build compiles Sources/BPFObject/{ELF,BTF,Object,CORE} without SystemPackage, so it
// replaces Object/FileBytes.swift (used only by `ObjectSpec(path:)` and `CORETargetBTF(path:)`,
// which the fuzzer never calls) with this stand-in.
package enum FileBytes {
    struct Unavailable: Error {}

    package static func read(_ path: String) throws -> [UInt8] { throw Unavailable() }

    static func btf(_ path: String) throws -> BTFBytes { throw Unavailable() }
}
