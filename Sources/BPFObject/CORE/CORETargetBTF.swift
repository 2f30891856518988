/// The BTF CO-RE relocations are resolved against (the running kernel's, or a file like libbpf's
/// `btf_custom_path`), with its named types indexed by essential name (flavour suffix removed).
public struct CORETargetBTF: Sendable {
    /// Where the running kernel publishes its BTF.
    public static let kernelPath = "/sys/kernel/btf/vmlinux"

    /// The decoded target BTF.
    public let btf: BTFSpec
    /// Type ids by essential name, ascending.
    let candidatesByName: [String: [Int]]

    /// Indexes `btf`'s named types for candidate lookup.
    public init(btf: BTFSpec) {
        self.btf = btf
        var index: [String: [Int]] = [:]
        for type in btf.types where !type.name.isEmpty {
            index[Self.essentialName(type.name), default: []].append(type.id)
        }
        candidatesByName = index
    }

    /// Reads and decodes a raw BTF file (the format of `/sys/kernel/btf/vmlinux`).
    public init(path: String = Self.kernelPath) throws(COREError) {
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(path) } catch { throw .targetUnavailable(path: path, reason: "\(error)") }
        do { self.init(btf: try BTFSpec(bytes: bytes)) } catch { throw .targetUnavailable(path: path, reason: error.description) }
    }

    /// The id of the function named `name` (a `BTF_KIND_FUNC`), what a tracing program's
    /// `attach_btf_id` names; nil when the target has none.
    public func function(named name: String) -> UInt32? {
        for id in candidatesByName[Self.essentialName(name)] ?? [] where btf.types[id].name == name {
            if case .function = btf.types[id].kind { return UInt32(id) }
        }
        return nil
    }

    /// The target types a local type may correspond to: same essential name, same kind (any two
    /// enums count as one kind), as libbpf's candidate search.
    func candidates(for local: BTFType) -> [BTFType] {
        (candidatesByName[Self.essentialName(local.name)] ?? []).map { btf.types[$0] }
            .filter { COREMatching.kindsCompatible($0, local) }
    }

    /// A name without its flavour suffix: `sock___v510` → `sock`. A flavour is `___` followed by
    /// something other than `_`, after something other than `_`; the last one counts.
    static func essentialName(_ name: String) -> String {
        let bytes = Array(name.utf8), underscore = UInt8(ascii: "_")
        var i = bytes.count - 5
        while i >= 0 {
            if bytes[i] != underscore, bytes[i + 1] == underscore, bytes[i + 2] == underscore,
               bytes[i + 3] == underscore, bytes[i + 4] != underscore {
                return String(decoding: bytes[...i], as: UTF8.self)
            }
            i -= 1
        }
        return name
    }
}
