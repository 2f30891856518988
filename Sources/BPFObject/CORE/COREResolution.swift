/// What one relocation resolves to (libbpf's `bpf_core_relo_res`): the value the instruction
/// should hold now (from the object's own BTF) and the value for the target, or poison.
struct COREResolution: Equatable {
    /// The value computed from the object's BTF: what clang put in the instruction.
    var original: UInt64 = 0
    /// The value for the target.
    var value: UInt64 = 0
    /// The target lacks the field or enumerator: the instruction becomes an invalid helper call.
    var poison = false
    /// Whether the instruction must hold `original` (not for bitfields, whose offsets clang and
    /// libbpf may choose differently, nor for target type ids).
    var validate = true
    /// Field sizes, for a load or store whose width must follow the field.
    var originalSize = 0
    var newSize = 0
    /// The sizes differ and the width cannot follow (neither both pointers nor both unsigned
    /// integers): a load or store is poisoned.
    var sizeAdjustmentFails = false

    init(original: UInt64, value: UInt64) {
        self.original = original
        self.value = value
    }

    /// Local and target specs to a resolution (`bpf_core_calc_relo`); `target` nil: no candidate.
    init(kind: CORERelocation.Kind, local: COREAccessSpec, localBTF: BTFSpec,
         target: COREAccessSpec?, targetBTF: some BTFTypeSource) throws(COREFailure.Reason) {
        if kind.isFieldBased {
            let old = try Self.field(kind, local, localBTF)
            (original, originalSize, validate) = (old.value, old.size, old.validate)
            guard let new = try target.map({ (spec) throws(COREFailure.Reason) in try Self.field(kind, spec, targetBTF) }) ?? Self.missingField(kind) else {
                poison = true
                return
            }
            (value, newSize) = (new.value, new.size)
            if originalSize != newSize {
                let o: BTFType, n: BTFType
                do { (o, n) = (try localBTF.typeOrVoid(old.typeID), try targetBTF.typeOrVoid(new.typeID)) } catch {
                    throw .badTargetType(error.description)
                }
                let bothPointers = o.rawKind == .pointer && n.rawKind == .pointer
                let bothUnsigned = o.rawKind == .int && n.rawKind == .int && !o.isSignedInt && !n.isSignedInt
                sizeAdjustmentFails = !(bothPointers || bothUnsigned)
            }
        } else if kind.isTypeBased {
            original = try Self.type(kind, local, localBTF)
            value = try target.map({ (spec) throws(COREFailure.Reason) in try Self.type(kind, spec, targetBTF) }) ?? 0
            validate = kind != .typeIDTarget // ids change when BTF is merged; enforcing them is pointless
        } else if kind.isEnumValueBased {
            original = try Self.enumerator(kind, local, localBTF)
            guard let target else {
                if kind == .enumValue { poison = true }
                return
            }
            value = try Self.enumerator(kind, target, targetBTF)
        } else {
            throw .unsupportedKind
        }
    }

    private struct Field {
        var value: UInt64
        /// Size of the field for a load or store, 0 when it is not a plain field (bitfield).
        var size = 0
        var typeID = 0
        var validate = true
    }

    /// A field relocation when the target has no such field: existence is 0; anything else poisons.
    private static func missingField(_ kind: CORERelocation.Kind) -> Field? {
        kind == .fieldExists ? Field(value: 0) : nil
    }

    /// `bpf_core_calc_field_relo`.
    private static func field(_ kind: CORERelocation.Kind, _ spec: COREAccessSpec, _ btf: some BTFTypeSource) throws(COREFailure.Reason) -> Field {
        if kind == .fieldExists { return Field(value: 1) }
        func bad(_ e: BTFError) -> COREFailure.Reason { .badTargetType(e.description) }
        let last = spec.accessors[spec.accessors.count - 1]
        if last.name == nil {
            // An array element (or the root itself): offset and size only.
            let size: Int
            do { size = try btf.size(of: last.typeID) } catch { throw bad(error) }
            switch kind {
            case .fieldByteOffset: return Field(value: UInt64(spec.bitOffset / 8), size: size, typeID: last.typeID)
            case .fieldByteSize: return Field(value: UInt64(size))
            default: throw .badAccessString("\(kind) cannot be applied to an array element")
            }
        }
        let member: BTFMember, memberType: BTFType
        do {
            member = try btf.type(last.typeID, "CO-RE accessor").members[last.index]
            memberType = try COREMatching.skip(btf, member.type)
        } catch { throw bad(error) }
        let bitOffset = spec.bitOffset
        var bitSize = member.bitfieldSize
        let bitfield = bitSize > 0
        var byteSize: Int, byteOffset: Int
        if bitfield {
            byteSize = memberType.size ?? 0
            guard byteSize > 0 else { throw .badTargetType("bitfield of type \(memberType.id) has size 0") }
            byteOffset = bitOffset / 8 / byteSize * byteSize
            // The smallest load that covers the whole bitfield.
            while bitOffset + bitSize - byteOffset * 8 > byteSize * 8 {
                guard byteSize < 8 else { throw .bitfieldTooWide }
                byteSize *= 2
                byteOffset = bitOffset / 8 / byteSize * byteSize
            }
        } else {
            do { byteSize = try btf.size(of: memberType.id) } catch { throw bad(error) }
            byteOffset = bitOffset / 8
            bitSize = byteSize * 8
        }
        var result = Field(value: 0, validate: !bitfield)
        switch kind {
        case .fieldByteOffset:
            result.value = UInt64(byteOffset)
            if !bitfield { (result.size, result.typeID) = (byteSize, memberType.id) }
        case .fieldByteSize:
            result.value = UInt64(byteSize)
        case .fieldSigned:
            result.value = memberType.isSignedInt || memberType.isSignedEnum ? 1 : 0
            result.validate = true
        case .fieldLShiftU64:
            result.value = UInt64(64 - (bitOffset + bitSize - byteOffset * 8)) // little-endian
        case .fieldRShiftU64:
            result.value = UInt64(64 - bitSize)
            result.validate = true
        default:
            throw .unsupportedKind
        }
        return result
    }

    /// `bpf_core_calc_type_relo`.
    private static func type(_ kind: CORERelocation.Kind, _ spec: COREAccessSpec, _ btf: some BTFTypeSource) throws(COREFailure.Reason) -> UInt64 {
        switch kind {
        case .typeIDLocal, .typeIDTarget: return UInt64(spec.rootTypeID)
        case .typeExists, .typeMatches: return 1
        case .typeSize:
            do { return UInt64(try btf.size(of: spec.rootTypeID)) } catch { throw .badTargetType(error.description) }
        default: throw .unsupportedKind
        }
    }

    /// `bpf_core_calc_enumval_relo`.
    private static func enumerator(_ kind: CORERelocation.Kind, _ spec: COREAccessSpec, _ btf: some BTFTypeSource) throws(COREFailure.Reason) -> UInt64 {
        switch kind {
        case .enumValueExists: return 1
        case .enumValue:
            let accessor = spec.accessors[0]
            do { return UInt64(bitPattern: try btf.type(accessor.typeID, "CO-RE enum").enumValues[accessor.index].value) } catch {
                throw .badTargetType(error.description)
            }
        default: throw .unsupportedKind
        }
    }
}
