/// One CO-RE relocation (`struct bpf_core_relo` of `.BTF.ext`): an instruction whose immediate or
/// offset clang computed from the object's own BTF, to be recomputed against the target kernel's.
package struct CORERelocation: Sendable, Equatable {
    /// What the instruction holds (`enum bpf_core_relo_kind`). An open set: a newer clang may emit
    /// kinds this loader does not know, which then fail to resolve with `COREError.unsupportedKind`.
    package struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `BPF_CORE_FIELD_BYTE_OFFSET`: the field's offset from the start of the root type.
        package static let fieldByteOffset = Kind(rawValue: 0)
        /// `BPF_CORE_FIELD_BYTE_SIZE`: the field's size (of its containing load, for a bitfield).
        package static let fieldByteSize = Kind(rawValue: 1)
        /// `BPF_CORE_FIELD_EXISTS`: 1 if the target has the field, else 0.
        package static let fieldExists = Kind(rawValue: 2)
        /// `BPF_CORE_FIELD_SIGNED`: 1 if the field is a signed integer or signed enum.
        package static let fieldSigned = Kind(rawValue: 3)
        /// `BPF_CORE_FIELD_LSHIFT_U64`: the left shift that puts a bitfield's top bit at bit 63.
        package static let fieldLShiftU64 = Kind(rawValue: 4)
        /// `BPF_CORE_FIELD_RSHIFT_U64`: the right shift that then brings it down to bit 0.
        package static let fieldRShiftU64 = Kind(rawValue: 5)
        /// `BPF_CORE_TYPE_ID_LOCAL`: the type's id in the object's BTF.
        package static let typeIDLocal = Kind(rawValue: 6)
        /// `BPF_CORE_TYPE_ID_TARGET`: the matching type's id in the target BTF (0 if none).
        package static let typeIDTarget = Kind(rawValue: 7)
        /// `BPF_CORE_TYPE_EXISTS`: 1 if a compatible type exists in the target.
        package static let typeExists = Kind(rawValue: 8)
        /// `BPF_CORE_TYPE_SIZE`: the matching type's size (0 if none).
        package static let typeSize = Kind(rawValue: 9)
        /// `BPF_CORE_ENUMVAL_EXISTS`: 1 if the target's enum has the enumerator.
        package static let enumValueExists = Kind(rawValue: 10)
        /// `BPF_CORE_ENUMVAL_VALUE`: the enumerator's value in the target.
        package static let enumValue = Kind(rawValue: 11)
        /// `BPF_CORE_TYPE_MATCHES`: 1 if the target type matches the local one member by member.
        package static let typeMatches = Kind(rawValue: 12)

        package var description: String {
            switch self {
            case .fieldByteOffset: "byte_off"
            case .fieldByteSize: "byte_sz"
            case .fieldExists: "field_exists"
            case .fieldSigned: "signed"
            case .fieldLShiftU64: "lshift_u64"
            case .fieldRShiftU64: "rshift_u64"
            case .typeIDLocal: "local_type_id"
            case .typeIDTarget: "target_type_id"
            case .typeExists: "type_exists"
            case .typeSize: "type_size"
            case .enumValueExists: "enumval_exists"
            case .enumValue: "enumval_value"
            case .typeMatches: "type_matches"
            default: "kind \(rawValue)"
            }
        }

        var isFieldBased: Bool { rawValue <= 5 }
        var isTypeBased: Bool { (6...9).contains(rawValue) || self == .typeMatches }
        var isEnumValueBased: Bool { self == .enumValueExists || self == .enumValue }
    }

    /// The instruction's index: in its ELF section as read from `.BTF.ext`, in the linked
    /// program once a `ProgramSpec` carries it.
    package var instruction: Int
    /// The root type in the object's BTF (`type_id`).
    package var typeID: Int
    /// The access string (`0:1:3`: the root's element index, then member or array indices).
    package var accessString: String
    /// What the instruction is to receive (a field offset, a type's size, an enum value…).
    package var kind: Kind

    /// A relocation of instruction `instruction` (linked index) against local type `typeID`.
    package init(instruction: Int, typeID: Int, accessString: String, kind: Kind) {
        self.instruction = instruction
        self.typeID = typeID
        self.accessString = accessString
        self.kind = kind
    }
}
