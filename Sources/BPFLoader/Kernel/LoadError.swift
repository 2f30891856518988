import BPFObject

/// Why `LoadedObject` could not be created.
public enum LoadError: Error, Sendable, CustomStringConvertible {
    /// A `bpf(2)` command failed (for a rejected program, with the verifier log).
    case kernel(BPFError)
    /// A map passed in `Options.existingMaps` differs from the object's definition in every
    /// field listed, so it cannot stand for it (like cilium/ebpf's `MapSpec.Compatible`).
    case incompatibleMap(name: String, differences: [MapDifference])
    /// The map pinned at `path` (under `Options.pinRoot`) for a definition that pins by name
    /// (`LIBBPF_PIN_BY_NAME`) differs from that definition in every field listed: another
    /// object, or another version of this one, owns the pin. libbpf refuses it the same way.
    case incompatiblePin(name: String, path: String, differences: [MapDifference])
    /// The object's CO-RE relocations could not be applied: the target BTF is unreadable, or a
    /// relocation (named by program, instruction and access string) does not resolve.
    case core(COREError)

    /// What failed.
    public var description: String {
        switch self {
        case .kernel(let error):
            error.description
        case .incompatibleMap(let name, let differences):
            "reuse map \(name): it differs from the object's definition in " + differences.map(\.description).joined(separator: ", ")
        case .incompatiblePin(let name, let path, let differences):
            "map \(name) is pinned by name, and the map pinned at \(path) differs from the object's definition in "
                + differences.map(\.description).joined(separator: ", ") + " (remove the pin, or load with another pin root)"
        case .core(let error):
            error.description
        }
    }

    /// The kernel's error, when a system call failed.
    public var kernelError: BPFError? {
        if case .kernel(let error) = self { return error }
        return nil
    }
}

/// One field in which an existing map differs from the definition it is to stand for.
public struct MapDifference: Sendable, Equatable, CustomStringConvertible {
    /// The field: "type", "key size", "value size", "max entries" or "flags".
    public let field: String
    /// The existing map's value.
    public let existing: String
    /// The definition's value.
    public let wanted: String

    /// For example "key size 4 (the object's: 8)".
    public var description: String { "\(field) \(existing) (the object's: \(wanted))" }

    /// Every field in which `map` differs from `spec`, in the order type, key size, value size,
    /// max entries, flags; empty when the map may stand for the definition.
    package static func between(_ map: BPFMap, _ spec: MapSpec) -> [MapDifference] {
        var differences: [MapDifference] = []
        func compare<T: Equatable>(_ field: String, _ existing: T, _ wanted: T) {
            if existing != wanted { differences.append(MapDifference(field: field, existing: "\(existing)", wanted: "\(wanted)")) }
        }
        compare("type", map.type, spec.type)
        compare("key size", map.keySize, Int(spec.keySize))
        compare("value size", map.valueSize, Int(spec.valueSize))
        compare("max entries", map.maxEntries, spec.maxEntries)
        compare("flags", map.flags, MapFlags(rawValue: spec.flags))
        return differences
    }
}
