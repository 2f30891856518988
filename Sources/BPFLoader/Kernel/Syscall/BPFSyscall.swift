import BPFObject

internal import CBPF

/// The `bpf(2)` commands the loader uses, one function each, by area in the `BPFSyscall+…` files.
/// These files are the only code that touches `union bpf_attr` or raw addresses; every call goes
/// through `BPFSyscallDriver.current` (`run`/`call`). Internal: the public API is the typed
/// objects built on it (`BPFMap`, `BPFProgram`, `LoadedObject`, the attachments).
enum BPFSyscall {
    /// `BPF_OBJ_NAME_LEN`: names are at most 15 characters plus NUL.
    static let objectNameLength = 16

    /// Kernel object names allow [A-Za-z0-9_.]; anything else becomes '_'.
    static func objectName(_ name: String) -> [CChar] {
        var bytes = name.utf8.prefix(objectNameLength - 1).map { byte -> CChar in
            let c = Character(UnicodeScalar(byte))
            return CChar(bitPattern: c.isLetter || c.isNumber || c == "_" || c == "." ? byte : UInt8(ascii: "_"))
        }
        bytes += [CChar](repeating: 0, count: objectNameLength - bytes.count)
        return bytes
    }

    /// `char[BPF_OBJ_NAME_LEN]` as Swift imports it.
    typealias NameTuple = (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar,
                           CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)

    /// `name` as the attribute's name field.
    static func nameTuple(_ name: String) -> NameTuple {
        let n = objectName(name)
        return (n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11], n[12], n[13], n[14], n[15])
    }

    /// A NUL-terminated name field of an info struct as a string.
    static func nameString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// A file descriptor as the attributes carry it.
    static func fdField(_ fd: Int32) -> UInt32 { UInt32(bitPattern: fd) }
}
