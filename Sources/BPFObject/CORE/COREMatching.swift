/// The type-compatibility rules of libbpf's CO-RE (`relo_core.c`): which target type may stand
/// for a local one. All take the two BTFs and type ids; id 0 is `void`.
enum COREMatching {
    static let maxDepth = 32

    /// The type with typedefs and qualifiers skipped; `void` (id 0) is a type here.
    static func skip(_ btf: some BTFTypeSource, _ id: Int) throws(BTFError) -> BTFType {
        id == 0 ? .void : try btf.skipModifiers(id)
    }

    static func type(_ btf: some BTFTypeSource, _ id: Int) throws(BTFError) -> BTFType {
        id == 0 ? .void : try btf.type(id, "CO-RE type reference")
    }

    /// Same kind, or both enums (ENUM and ENUM64 stand for each other).
    static func kindsCompatible(_ a: BTFType, _ b: BTFType) -> Bool {
        kindsCompatible(a.rawKind, b.rawKind)
    }

    /// Same kind, or both enums.
    static func kindsCompatible(_ a: BTFRawKind, _ b: BTFRawKind) -> Bool {
        a == b || ((a == .enumeration || a == .enum64) && (b == .enumeration || b == .enum64))
    }

    /// Essential names equal (flavours ignored); two empty names are equal.
    static func namesMatch(_ a: String, _ b: String) -> Bool {
        CORETargetBTF.essentialName(a) == CORETargetBTF.essentialName(b)
    }

    /// `bpf_core_types_are_compat`: for type-based relocations (exists, size, ids). Structs,
    /// unions, enums and forward declarations are compatible by kind (names were matched by the
    /// candidate search); pointers and arrays recurse; function prototypes compare parameters.
    static func typesCompatible(_ local: some BTFTypeSource, _ localID: Int, _ target: some BTFTypeSource, _ targetID: Int,
                                depth: Int = maxDepth) throws(BTFError) -> Bool {
        guard kindsCompatible(try type(local, localID), try type(target, targetID)) else { return false }
        var (l, t) = (localID, targetID)
        for _ in 0..<depth {
            let lt = try skip(local, l), tt = try skip(target, t)
            guard kindsCompatible(lt, tt) else { return false }
            switch (lt.kind, tt.kind) {
            case (.void, _), (.structure, _), (.union, _), (.enumeration, _), (.enum64, _), (.forward, _):
                return true
            case (.int(_, let le), .int(_, let te)):
                return le.bitOffset == 0 && te.bitOffset == 0
            case (.pointer(let lp), .pointer(let tp)):
                (l, t) = (lp, tp)
            case (.array(let le, _, _), .array(let te, _, _)):
                (l, t) = (le, te)
            case (.functionProto(let lr, let lps), .functionProto(let tr, let tps)):
                guard lps.count == tps.count else { return false }
                for (lp, tp) in zip(lps, tps) {
                    guard depth > 1 else { throw .typeLoop(typeID: localID) }
                    guard try typesCompatible(local, try skip(local, lp.type).id, target, try skip(target, tp.type).id,
                                              depth: depth - 1) else { return false }
                }
                (l, t) = (lr, tr)
            default:
                return false
            }
        }
        throw .typeLoop(typeID: localID)
    }

    /// `bpf_core_fields_are_compat`: whether a target member may stand for a local one. Any two
    /// composites are; enums and forward declarations need the same essential name (or one
    /// anonymous); integers any size or sign; arrays compare their elements.
    static func fieldsCompatible(_ local: some BTFTypeSource, _ localID: Int, _ target: some BTFTypeSource, _ targetID: Int) throws(BTFError) -> Bool {
        var (l, t) = (localID, targetID)
        for _ in 0..<maxDepth {
            let lt = try skip(local, l), tt = try skip(target, t)
            if lt.isComposite && tt.isComposite { return true }
            guard kindsCompatible(lt, tt) else { return false }
            switch (lt.kind, tt.kind) {
            case (.pointer, _), (.float, _):
                return true
            case (.forward, _), (.enumeration, _), (.enum64, _):
                return lt.name.isEmpty || tt.name.isEmpty || namesMatch(lt.name, tt.name)
            case (.int(_, let le), .int(_, let te)):
                return le.bitOffset == 0 && te.bitOffset == 0
            case (.array(let le, _, _), .array(let te, _, _)):
                (l, t) = (le, te)
            default:
                return false
            }
        }
        throw .typeLoop(typeID: localID)
    }

    /// `bpf_core_types_match` (TYPE_MATCHES): stricter than compatibility. Names must match;
    /// every local member or enumerator must have a namesake in the target that matches in turn;
    /// integers must agree in size and sign; arrays in length. Behind a pointer, a struct and a
    /// forward declaration of the same kind match.
    static func typesMatch(_ local: some BTFTypeSource, _ localID: Int, _ target: some BTFTypeSource, _ targetID: Int,
                           behindPointer: Bool = false, depth: Int = maxDepth) throws(BTFError) -> Bool {
        guard depth > 0 else { throw .typeLoop(typeID: localID) }
        var (l, t, behind) = (localID, targetID, behindPointer)
        for _ in 0..<maxDepth {
            let lt = try skip(local, l), tt = try skip(target, t)
            guard namesMatch(lt.name, tt.name) else { return false }
            switch lt.kind {
            case .void:
                return tt.rawKind == .void
            case .forward(let isUnion):
                if case .forward(let targetIsUnion) = tt.kind { return isUnion == targetIsUnion }
                guard behind else { return false }
                return tt.rawKind == (isUnion ? .union : .structure)
            case .enumeration, .enum64:
                guard tt.isEnum, lt.size == tt.size, lt.enumValues.count <= tt.enumValues.count else { return false }
                return lt.enumValues.allSatisfy { lv in tt.enumValues.contains { namesMatch(lv.name, $0.name) } }
            case .structure, .union:
                if behind {
                    if lt.rawKind == tt.rawKind { return true }
                    if case .forward(let isUnion) = tt.kind { return (lt.rawKind == .union) == isUnion }
                    return false
                }
                guard lt.rawKind == tt.rawKind else { return false }
                return try membersMatch(local, lt.members, target, tt.members, behindPointer: behind, depth: depth - 1)
            case .int:
                return tt.rawKind == .int && lt.size == tt.size && lt.isSignedInt == tt.isSignedInt
            case .pointer(let lp):
                guard case .pointer(let tp) = tt.kind else { return false }
                (l, t, behind) = (lp, tp, true)
            case .array(let le, _, let lc):
                guard case .array(let te, _, let tc) = tt.kind, lc == tc else { return false }
                (l, t) = (le, te)
            case .functionProto(let lr, let lps):
                guard case .functionProto(let tr, let tps) = tt.kind, lps.count == tps.count else { return false }
                for (lp, tp) in zip(lps, tps) {
                    guard try typesMatch(local, lp.type, target, tp.type, behindPointer: behind, depth: depth - 1) else { return false }
                }
                (l, t) = (lr, tr)
            default:
                return false
            }
        }
        throw .typeLoop(typeID: localID)
    }

    /// Every local member has a namesake among the target's members whose type matches.
    private static func membersMatch(_ local: some BTFTypeSource, _ localMembers: [BTFMember], _ target: some BTFTypeSource, _ targetMembers: [BTFMember],
                                     behindPointer: Bool, depth: Int) throws(BTFError) -> Bool {
        guard localMembers.count <= targetMembers.count else { return false }
        for lm in localMembers {
            var matched = false
            for tm in targetMembers where namesMatch(lm.name, tm.name) {
                if try typesMatch(local, lm.type, target, tm.type, behindPointer: behindPointer, depth: depth) {
                    matched = true
                    break
                }
            }
            guard matched else { return false }
        }
        return true
    }
}
