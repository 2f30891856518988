import BPFLoader
import BPFObject

/// The fields of a map key, from the object's BTF, flattened to byte ranges: how `dump-map`
/// shows the keys of an object that is not ours. The kernel refuses BTF for sockmaps, so the
/// layout is taken from the object at `load` time and kept in the load state.
public struct KeyLayout: Codable, Sendable, Equatable {
    /// One field of the key: its bytes and how to print them.
    public struct Field: Codable, Sendable, Equatable {
        /// Dotted for members of nested structs (`addr.port`).
        public var name: String
        /// Byte offset in the key.
        public var offset: Int
        /// Size in bytes.
        public var size: Int
        /// Unsigned little-endian integers of 1, 2, 4 or 8 bytes print as decimal; anything else
        /// (arrays, bit-fields, unions) as hex.
        public var isInteger: Bool
    }

    /// The key type's BTF name (`key` when anonymous).
    public var typeName: String
    /// The key's size in bytes.
    public var size: Int
    /// The fields in offset order, nested structs flattened.
    public var fields: [Field]

    /// The layout of BTF type `typeID`, or nil when the type is missing or not `size` bytes.
    package init?(btf: BTFSpec, typeID: Int, size: Int) {
        guard typeID > 0, let resolved = try? btf.skipModifiers(typeID), (try? btf.size(of: typeID)) == size else { return nil }
        typeName = resolved.name.isEmpty ? "key" : resolved.name
        self.size = size
        var fields: [Field] = []
        Self.flatten(btf: btf, typeID: typeID, name: "", offset: 0, into: &fields, depth: 0)
        self.fields = fields
    }

    private static func flatten(btf: BTFSpec, typeID: Int, name: String, offset: Int, into fields: inout [Field], depth: Int) {
        guard let type = try? btf.skipModifiers(typeID), let size = try? btf.size(of: typeID) else { return }
        if case .structure(_, let members) = type.kind, depth < 8, members.allSatisfy({ $0.bitfieldSize == 0 }) {
            for member in members where member.bitOffset % 8 == 0 {
                let memberName = member.name.isEmpty ? name : (name.isEmpty ? member.name : name + "." + member.name)
                flatten(btf: btf, typeID: member.type, name: memberName, offset: offset + member.bitOffset / 8, into: &fields, depth: depth + 1)
            }
            return
        }
        let integer = (type.rawKind == .int || type.rawKind == .enumeration) && [1, 2, 4, 8].contains(size)
        fields.append(Field(name: name.isEmpty ? "key" : name, offset: offset, size: size, isInteger: integer))
    }

    /// `name=value` for each field of `key` (hex for non-integers).
    package func decode(_ key: [UInt8]) -> [(name: String, value: String)] {
        fields.map { field in
            guard field.offset + field.size <= key.count else { return (field.name, "?") }
            let bytes = key[field.offset..<(field.offset + field.size)]
            if field.isInteger {
                let value = (Array(bytes) + [UInt8](repeating: 0, count: 8 - field.size)).littleEndian(UInt64.self, at: 0)
                return (field.name, String(value))
            }
            return (field.name, Hex.string(bytes))
        }
    }
}
