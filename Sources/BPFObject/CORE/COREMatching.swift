/// The type-compatibility rules of libbpf's CO-RE (`relo_core.c`): which target type may stand
/// for a local one. All take the two BTFs and type ids; id 0 is `void`.
enum COREMatching {
    static let maxDepth = 32

    /// The type with typedefs and qualifiers skipped; `void` (id 0) is a type here.
    static func skip(_ btf: BTFSpec, _ id: Int) throws(BTFError) -> BTFType {
        id == 0 ? btf.types[0] : try btf.skipModifiers(id)
    }

    static func type(_ btf: BTFSpec, _ id: Int) throws(BTFError) -> BTFType {
        id == 0 ? btf.types[0] : try btf.type(id, "CO-RE type reference")
    }

    /// Same kind, or both enums (ENUM and ENUM64 stand for each other).
    static func kindsCompatible(_ a: BTFType, _ b: BTFType) -> Bool {
        a.kind == b.kind || (a.isEnum && b.isEnum)
    }

    /// Essential names equal (flavours ignored); two empty names are equal.
    static func namesMatch(_ a: String, _ b: String) -> Bool {
        CORETargetBTF.essentialName(a) == CORETargetBTF.essentialName(b)
    }

    /// `bpf_core_types_are_compat`: for type-based relocations (exists, size, ids). Structs,
    /// unions, enums and forward declarations are compatible by kind (names were matched by the
    /// candidate search); pointers and arrays recurse; function prototypes compare parameters.
    static func typesCompatible(_ local: BTFSpec, _ localID: Int, _ target: BTFSpec, _ targetID: Int,
                                depth: Int = maxDepth) throws(BTFError) -> Bool {
        guard kindsCompatible(try type(local, localID), try type(target, targetID)) else { return false }
        var (l, t) = (localID, targetID)
        for _ in 0..<depth {
            let lt = try skip(local, l), tt = try skip(target, t)
            guard kindsCompatible(lt, tt) else { return false }
            switch lt.kind {
            case .init(rawValue: 0), .structure, .union, .enumeration, .enum64, .forward:
                return true
            case .int:
                return lt.intBitOffset == 0 && tt.intBitOffset == 0
            case .pointer:
                (l, t) = (Int(lt.sizeOrType), Int(tt.sizeOrType))
            case .array:
                (l, t) = (lt.arrayElement, tt.arrayElement)
            case .functionProto:
                guard lt.members.count == tt.members.count else { return false }
                for (lp, tp) in zip(lt.members, tt.members) {
                    guard depth > 1 else { throw .typeLoop(typeID: localID) }
                    guard try typesCompatible(local, try skip(local, lp.type).id, target, try skip(target, tp.type).id,
                                              depth: depth - 1) else { return false }
                }
                (l, t) = (Int(lt.sizeOrType), Int(tt.sizeOrType))
            default:
                return false
            }
        }
        throw .typeLoop(typeID: localID)
    }

    /// `bpf_core_fields_are_compat`: whether a target member may stand for a local one. Any two
    /// composites are; enums and forward declarations need the same essential name (or one
    /// anonymous); integers any size or sign; arrays compare their elements.
    static func fieldsCompatible(_ local: BTFSpec, _ localID: Int, _ target: BTFSpec, _ targetID: Int) throws(BTFError) -> Bool {
        var (l, t) = (localID, targetID)
        for _ in 0..<maxDepth {
            let lt = try skip(local, l), tt = try skip(target, t)
            if lt.isComposite && tt.isComposite { return true }
            guard kindsCompatible(lt, tt) else { return false }
            switch lt.kind {
            case .pointer, .float:
                return true
            case .forward, .enumeration, .enum64:
                return lt.name.isEmpty || tt.name.isEmpty || namesMatch(lt.name, tt.name)
            case .int:
                return lt.intBitOffset == 0 && tt.intBitOffset == 0
            case .array:
                (l, t) = (lt.arrayElement, tt.arrayElement)
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
    static func typesMatch(_ local: BTFSpec, _ localID: Int, _ target: BTFSpec, _ targetID: Int,
                           behindPointer: Bool = false, depth: Int = maxDepth) throws(BTFError) -> Bool {
        guard depth > 0 else { throw .typeLoop(typeID: localID) }
        var (l, t, behind) = (localID, targetID, behindPointer)
        for _ in 0..<maxDepth {
            let lt = try skip(local, l), tt = try skip(target, t)
            guard namesMatch(lt.name, tt.name) else { return false }
            switch lt.kind {
            case .init(rawValue: 0):
                return tt.kind == lt.kind
            case .forward:
                if lt.kind == tt.kind { return lt.kindFlag == tt.kindFlag }
                guard behind else { return false }
                return (tt.kind == .structure && !lt.kindFlag) || (tt.kind == .union && lt.kindFlag)
            case .enumeration, .enum64:
                guard tt.isEnum, lt.sizeOrType == tt.sizeOrType, lt.members.count <= tt.members.count else { return false }
                return lt.members.allSatisfy { lm in tt.members.contains { namesMatch(lm.name, $0.name) } }
            case .structure, .union:
                if behind {
                    if lt.kind == tt.kind { return true }
                    return tt.kind == .forward && (lt.kind == .union) == tt.kindFlag
                }
                guard lt.kind == tt.kind, lt.members.count <= tt.members.count else { return false }
                for lm in lt.members {
                    var matched = false
                    for tm in tt.members where namesMatch(lm.name, tm.name) {
                        if try typesMatch(local, lm.type, target, tm.type, behindPointer: behind, depth: depth - 1) {
                            matched = true
                            break
                        }
                    }
                    guard matched else { return false }
                }
                return true
            case .int:
                return tt.kind == .int && lt.sizeOrType == tt.sizeOrType && lt.isSignedInt == tt.isSignedInt
            case .pointer:
                guard tt.kind == .pointer else { return false }
                (l, t, behind) = (Int(lt.sizeOrType), Int(tt.sizeOrType), true)
            case .array:
                guard tt.kind == .array, lt.arrayCount == tt.arrayCount else { return false }
                (l, t) = (lt.arrayElement, tt.arrayElement)
            case .functionProto:
                guard tt.kind == .functionProto, lt.members.count == tt.members.count else { return false }
                for (lp, tp) in zip(lt.members, tt.members) {
                    guard try typesMatch(local, lp.type, target, tp.type, behindPointer: behind, depth: depth - 1) else { return false }
                }
                (l, t) = (Int(lt.sizeOrType), Int(tt.sizeOrType))
            default:
                return false
            }
        }
        throw .typeLoop(typeID: localID)
    }
}
