/// Where BTF types come from by id: a `BTFSpec` (every type decoded into an array) or a `BTFView`
/// (each type decoded from the raw bytes when asked for). CO-RE reads both BTFs through this.
protocol BTFTypeSource {
    /// The number of type ids, `void` (0) included: ids are `0..<typeCount`.
    var typeCount: Int { get }
    /// Type `id`, which must exist and not be `void`; `what` names the reference in the error.
    func type(_ id: Int, _ what: @autoclosure () -> String) throws(BTFError) -> BTFType
    /// Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the underlying type.
    func skipModifiers(_ id: Int) throws(BTFError) -> BTFType
    /// The size in bytes of a type, as `sizeof` would give it.
    func size(of id: Int) throws(BTFError) -> Int
}

extension BTFTypeSource {
    /// Type `id`, `void` for 0.
    func typeOrVoid(_ id: Int) throws(BTFError) -> BTFType {
        id == 0 ? .void : try type(id, "type reference")
    }

    func skipModifiers(_ id: Int) throws(BTFError) -> BTFType { try BTFTypeWalk.skipModifiers(id, in: self) }

    func size(of id: Int) throws(BTFError) -> Int { try BTFTypeWalk.size(of: id, in: self) }
}

/// The walks every BTF source shares, bounded so a loop in malformed BTF ends in `.typeLoop`.
enum BTFTypeWalk {
    static let maxResolveDepth = 32

    static func skipModifiers(_ id: Int, in btf: some BTFTypeSource) throws(BTFError) -> BTFType {
        var current = id
        for _ in 0..<maxResolveDepth {
            let t = try btf.type(current, "type reference")
            guard let next = t.modifiedType else { return t }
            current = next
        }
        throw .typeLoop(typeID: id)
    }

    static func size(of id: Int, in btf: some BTFTypeSource) throws(BTFError) -> Int {
        var current = id, multiplier = 1
        for _ in 0..<maxResolveDepth {
            let t = try btf.skipModifiers(current)
            switch t.kind {
            case .int(let size, _), .structure(let size, _), .union(let size, _), .enumeration(let size, _, _),
                 .enum64(let size, _, _), .float(let size), .dataSection(let size, _):
                let (total, overflow) = multiplier.multipliedReportingOverflow(by: size)
                guard !overflow else { throw .typeLoop(typeID: id) }
                return total
            case .pointer: return multiplier * 8
            case .array(let element, _, let count):
                let (m, overflow) = multiplier.multipliedReportingOverflow(by: count)
                guard !overflow, m < Int(UInt32.max) else { throw .typeLoop(typeID: id) }
                multiplier = m
                current = element
            default:
                throw .badTypeID(what: "size of type \(id) (kind \(t.rawKind.rawValue) has no size)", typeID: t.id)
            }
        }
        throw .typeLoop(typeID: id)
    }
}
