/// A relocation's access string applied to one BTF (libbpf's `bpf_core_spec`): the path from the
/// root type to the field, array element or enumerator, and the field's bit offset.
///
/// `raw` keeps every index of the path, anonymous struct/union members included; `accessors`
/// only the points that carry meaning across kernels: the root element, named members, array
/// elements (for enum relocations, the one enumerator).
struct COREAccessSpec {
    struct Accessor {
        /// The struct/union (named member), the element type (array element) or the enum.
        var typeID: Int
        var index: Int
        /// The member or enumerator name; nil for an array element.
        var name: String?
    }

    /// Longest access path libbpf accepts (`BPF_CORE_SPEC_MAX_LEN`).
    static let maxLength = 64

    var rootTypeID: Int
    var accessors: [Accessor] = []
    var raw: [Int] = []
    var bitOffset = 0

    init(rootTypeID: Int) { self.rootTypeID = rootTypeID }

    /// Parses `access` against the object's BTF (`bpf_core_parse_spec`).
    init(parsing access: String, rootTypeID: Int, kind: CORERelocation.Kind, in btf: BTFSpec) throws(COREFailure.Reason) {
        self.init(rootTypeID: rootTypeID)
        if kind.isTypeBased {
            guard access == "0" else { throw .badAccessString("a type relocation's access string must be \"0\"") }
            return
        }
        let parts = access.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= Self.maxLength else { throw .badAccessString("more than \(Self.maxLength) levels") }
        for part in parts {
            guard let index = Int(part), index >= 0, index <= Int(Int32.max) else {
                throw .badAccessString("\"\(part)\" is not an index")
            }
            raw.append(index)
        }
        try walk(kind: kind, in: btf)
    }

    private mutating func walk(kind: CORERelocation.Kind, in btf: BTFSpec) throws(COREFailure.Reason) {
        func bad(_ detail: String) -> COREFailure.Reason { .badAccessString(detail) }
        let root: BTFType
        do { root = try COREMatching.skip(btf, rootTypeID) } catch { throw .badLocalType(error.description) }
        let first = raw[0]
        if kind.isEnumValueBased {
            guard root.isEnum else { throw .badLocalType("type \(rootTypeID) is not an enum") }
            let values = root.enumValues
            guard raw.count == 1, first < values.count else { throw bad("no enumerator \(first) in \(values.count)") }
            accessors = [Accessor(typeID: root.id, index: first, name: values[first].name)]
            return
        }
        guard kind.isFieldBased else { throw .unsupportedKind }
        accessors = [Accessor(typeID: root.id, index: first, name: nil)]
        bitOffset = try Self.scaled(first, size(root.id, btf))
        var id = root.id
        for (level, index) in raw.enumerated().dropFirst() {
            let t: BTFType
            do { t = try COREMatching.skip(btf, id) } catch { throw .badLocalType(error.description) }
            if t.isComposite {
                let members = t.members
                guard index < members.count else { throw bad("level \(level): member \(index) of \(members.count) in type \(t.id)") }
                let member = members[index]
                bitOffset += member.bitOffset
                if !member.name.isEmpty { accessors.append(Accessor(typeID: t.id, index: index, name: member.name)) }
                id = member.type
            } else if case .array(let elementID, _, let count) = t.kind {
                let element: BTFType
                do { element = try COREMatching.skip(btf, elementID) } catch { throw .badLocalType(error.description) }
                guard Self.isFlexibleArray(t, after: accessors.last, in: btf) || index < count else {
                    throw bad("level \(level): element \(index) of an array of \(count)")
                }
                accessors.append(Accessor(typeID: element.id, index: index, name: nil))
                bitOffset += try Self.scaled(index, size(element.id, btf))
                id = element.id
            } else {
                throw bad("level \(level): type \(t.id) is neither a struct, a union nor an array")
            }
        }
    }

    private func size(_ id: Int, _ btf: BTFSpec) throws(COREFailure.Reason) -> Int {
        do { return try btf.size(of: id) } catch { throw .badLocalType(error.description) }
    }

    /// `index * size * 8`, refused when it would overflow.
    static func scaled(_ index: Int, _ size: Int) throws(COREFailure.Reason) -> Int {
        let (bytes, o1) = index.multipliedReportingOverflow(by: size)
        let (bits, o2) = bytes.multipliedReportingOverflow(by: 8)
        guard !o1, !o2, bits <= Int(UInt32.max) else { throw .badAccessString("offset of element \(index) overflows") }
        return bits
    }

    /// An array of 0 elements that is the last member of its struct (`is_flex_arr`).
    static func isFlexibleArray(_ array: BTFType, after accessor: Accessor?, in btf: some BTFTypeSource) -> Bool {
        guard case .array(_, _, 0) = array.kind, let accessor, accessor.name != nil,
              let parent = try? btf.type(accessor.typeID, "CO-RE accessor") else { return false }
        return accessor.index == parent.members.count - 1
    }

    /// The target's spec for this local spec with `targetID` as root (`bpf_core_spec_match`), or
    /// nil when the target type does not have the field, element or enumerator.
    func match(local: BTFSpec, kind: CORERelocation.Kind, target: some BTFTypeSource, targetID: Int) throws(BTFError) -> COREAccessSpec? {
        var spec = COREAccessSpec(rootTypeID: targetID)
        if kind.isTypeBased {
            let matches = kind == .typeMatches
                ? try COREMatching.typesMatch(local, rootTypeID, target, targetID)
                : try COREMatching.typesCompatible(local, rootTypeID, target, targetID)
            return matches ? spec : nil
        }
        if kind.isEnumValueBased {
            let enumType = try COREMatching.skip(target, targetID)
            guard enumType.isEnum, let name = accessors[0].name else { return nil }
            let values = enumType.enumValues
            guard let index = values.firstIndex(where: { COREMatching.namesMatch($0.name, name) }) else { return nil }
            spec.accessors = [Accessor(typeID: enumType.id, index: index, name: values[index].name)]
            spec.raw = [index]
            return spec
        }
        var targetType = targetID
        for (i, accessor) in accessors.enumerated() {
            let t = try COREMatching.skip(target, targetType)
            targetType = t.id
            if accessor.name != nil {
                guard let next = try spec.matchMember(accessor, local: local, target: target, in: t.id) else { return nil }
                targetType = next
            } else {
                if i > 0 {
                    guard case .array(let element, _, let count) = t.kind else { return nil }
                    guard Self.isFlexibleArray(t, after: spec.accessors.last, in: target) || accessor.index < count else { return nil }
                    targetType = try COREMatching.skip(target, element).id
                }
                guard spec.raw.count < Self.maxLength else { return nil }
                spec.accessors.append(Accessor(typeID: targetType, index: accessor.index, name: nil))
                spec.raw.append(accessor.index)
                guard let bits = try? Self.scaled(accessor.index, try target.size(of: targetType)) else { return nil }
                spec.bitOffset += bits
            }
        }
        return spec
    }

    /// Finds the local accessor's member by name in target composite `targetID`, descending into
    /// anonymous members (`bpf_core_match_member`); extends this spec and returns the member's
    /// type, or nil when no compatible member of that name exists.
    private mutating func matchMember(_ accessor: Accessor, local: BTFSpec, target: some BTFTypeSource, in targetID: Int,
                                      depth: Int = COREMatching.maxDepth) throws(BTFError) -> Int? {
        guard depth > 0 else { throw .typeLoop(typeID: targetID) }
        let t = try COREMatching.skip(target, targetID)
        guard t.isComposite, let name = accessor.name else { return nil }
        let localMember = local.types[accessor.typeID].members[accessor.index]
        for (i, member) in t.members.enumerated() {
            guard raw.count < Self.maxLength else { return nil }
            let bits = member.bitOffset
            bitOffset += bits
            raw.append(i)
            if member.name.isEmpty {
                if let found = try matchMember(accessor, local: local, target: target, in: member.type, depth: depth - 1) {
                    return found
                }
            } else if member.name == name {
                guard try COREMatching.fieldsCompatible(local, localMember.type, target, member.type) else {
                    bitOffset -= bits
                    raw.removeLast()
                    return nil
                }
                accessors.append(Accessor(typeID: t.id, index: i, name: member.name))
                return member.type
            }
            bitOffset -= bits
            raw.removeLast()
        }
        return nil
    }
}
