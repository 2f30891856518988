/// The BTF CO-RE relocations are resolved against (the running kernel's, or a file like libbpf's
/// `btf_custom_path`).
///
/// Raw BTF bytes are read as libbpf reads them: the offset of each type's record; a type is
/// decoded only when a relocation walks through it, and candidates are found by comparing names
/// in place. BPFObject opens no file: BPFLoader reads the running kernel's BTF (its own pages,
/// mapped, where the kernel allows it) with `CORETargetBTF(path:)` and `runningKernel()`.
public struct CORETargetBTF: Sendable {
    private enum Source: Sendable {
        /// Every type decoded already (`init(btf:)`).
        case decoded(BTFSpec)
        /// Read in place (`init(bytes:)`).
        case view(BTFView)
    }

    private let source: Source

    /// Uses `btf`, decoded already (an object's own BTF, or one a test builds).
    package init(btf: BTFSpec) {
        source = .decoded(btf)
    }

    /// Reads raw BTF (the format of `/sys/kernel/btf/vmlinux`) from a copy of `bytes` and checks
    /// every record; types are decoded later, when a relocation needs them. Malformed BTF throws
    /// `COREError.targetUnavailable` with the path "(bytes)".
    public init(bytes: [UInt8]) throws(COREError) {
        try self.init(bytes: BTFBytes(copying: bytes), path: "(bytes)")
    }

    /// Reads raw BTF from `bytes` in place (the loader's mapped or read file), checking every
    /// record; `path` names it in the error thrown for malformed BTF.
    package init(bytes: BTFBytes, path: String) throws(COREError) {
        do { source = .view(try BTFView(bytes: bytes)) } catch { throw .targetUnavailable(path: path, reason: error.description) }
    }

    /// Reads types from `view` (the fuzzer and tests build one from bytes in memory).
    init(view: BTFView) {
        source = .view(view)
    }

    /// Every type, decoded: what `init(btf:)` was given, or, for BTF read from a file, all of it
    /// decoded now (for the kernel's, some 100 ms and 50 MB; the loader never asks for it).
    package var btf: BTFSpec {
        switch source {
        case .decoded(let spec): spec
        case .view(let view): (try? BTFSpec(bytes: view.bytes.buffer)) ?? .empty // init checked what BTFSpec checks
        }
    }

    /// How the CO-RE walks read the target's types.
    var types: any BTFTypeSource {
        switch source {
        case .decoded(let spec): spec
        case .view(let view): view
        }
    }

    /// The id of the function named `name` (a `BTF_KIND_FUNC`), what a tracing program's
    /// `attach_btf_id` names; nil when the target has none.
    package func function(named name: String) -> UInt32? {
        switch source {
        case .decoded(let spec):
            spec.types.first { $0.name == name && $0.rawKind == .function }.map { UInt32($0.id) }
        case .view(let view):
            view.firstID(named: Array(name.utf8), kind: .function).map { UInt32($0) }
        }
    }

    /// The ids of the target types a local type may correspond to, ascending: same essential
    /// name, same kind (any two enums count as one kind), as libbpf's candidate search.
    func candidates(for local: BTFType) -> [Int] {
        candidates(for: [local])[CandidateKey(local)] ?? []
    }

    /// The candidates of each of `locals` (the root types of an object's relocations), found in
    /// one pass over the target's types.
    func candidates(for locals: [BTFType]) -> [CandidateKey: [Int]] {
        let keys = Array(Set(locals.filter { !$0.name.isEmpty }.map(CandidateKey.init)))
        switch source {
        case .decoded(let spec):
            return Dictionary(uniqueKeysWithValues: keys.map { key in
                (key, spec.types.filter { !$0.name.isEmpty && key.accepts($0.rawKind) && Self.essentialName($0.name) == key.essentialName }.map(\.id))
            })
        case .view(let view):
            let found = view.ids(keys.map { (Array($0.essentialName.utf8), $0.accepts) })
            return Dictionary(uniqueKeysWithValues: zip(keys, found).map { ($0, $1) })
        }
    }

    /// What a candidate list is for: an essential name and a kind, the two enum kinds counted as one.
    struct CandidateKey: Hashable {
        let essentialName: String
        let kind: BTFRawKind

        init(_ local: BTFType) {
            essentialName = CORETargetBTF.essentialName(local.name)
            kind = local.isEnum ? .enumeration : local.rawKind
        }

        func accepts(_ kind: BTFRawKind) -> Bool { COREMatching.kindsCompatible(kind, self.kind) }
    }

    /// A name without its flavour suffix: `sock___v510` → `sock`. A flavour is `___` followed by
    /// something other than `_`, after something other than `_`; the last one counts.
    static func essentialName(_ name: String) -> String {
        let bytes = Array(name.utf8)
        let length = essentialLength(bytes)
        return length == bytes.count ? name : String(decoding: bytes[..<length], as: UTF8.self)
    }

    /// How many bytes of `name` its essential name is (see `essentialName`).
    static func essentialLength<Name: RandomAccessCollection<UInt8>>(_ name: Name) -> Int where Name.Index == Int {
        let underscore = UInt8(ascii: "_"), base = name.startIndex
        var i = name.count - 5
        while i >= 0 {
            if name[base + i] != underscore, name[base + i + 1] == underscore, name[base + i + 2] == underscore,
               name[base + i + 3] == underscore, name[base + i + 4] != underscore {
                return i + 1
            }
            i -= 1
        }
        return name.count
    }
}
