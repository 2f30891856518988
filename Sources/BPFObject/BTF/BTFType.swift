/// One decoded BTF type: its id, its name and what it is (`kind`, with everything its record says).
package struct BTFType: Sendable, Equatable {
    /// The type id: its index in `BTFSpec.types` (0 is `void`).
    package let id: Int
    /// Empty for anonymous types.
    package let name: String
    /// What the type is.
    package let kind: BTFKind
    /// Byte offset of this type's record in the whole `.BTF` section (for in-place fix-ups);
    /// -1 for `void`, which has no record.
    package let recordOffset: Int

    /// A type as decoded, or as a test builds it.
    package init(id: Int, name: String, kind: BTFKind, recordOffset: Int) {
        self.id = id; self.name = name; self.kind = kind; self.recordOffset = recordOffset
    }

    /// `void`, type 0.
    static let void = BTFType(id: 0, name: "", kind: .void, recordOffset: -1)
}

extension BTFType {
    /// The `BTF_KIND_*` number of the type, for comparing kinds without their contents.
    package var rawKind: BTFRawKind { kind.rawKind }
    /// STRUCT or UNION.
    package var isComposite: Bool { rawKind == .structure || rawKind == .union }
    /// ENUM or ENUM64.
    package var isEnum: Bool { rawKind == .enumeration || rawKind == .enum64 }
    /// INT with `BTF_INT_SIGNED` in its encoding.
    package var isSignedInt: Bool {
        if case .int(_, let encoding) = kind { encoding.isSigned } else { false }
    }

    /// ENUM or ENUM64 whose record says its values are signed (`kind_flag`).
    package var isSignedEnum: Bool {
        switch kind {
        case .enumeration(_, let signed, _), .enum64(_, let signed, _): signed
        default: false
        }
    }

    /// The `size` of an INT, STRUCT, UNION, ENUM, ENUM64, DATASEC or FLOAT; nil for other kinds.
    package var size: Int? {
        switch kind {
        case .int(let size, _), .structure(let size, _), .union(let size, _), .enumeration(let size, _, _),
             .enum64(let size, _, _), .dataSection(let size, _), .float(let size): size
        default: nil
        }
    }

    /// The members of a STRUCT or UNION; empty for other kinds.
    package var members: [BTFMember] {
        switch kind {
        case .structure(_, let members), .union(_, let members): members
        default: []
        }
    }

    /// The enumerators of an ENUM or ENUM64; empty for other kinds.
    package var enumValues: [BTFEnumValue] {
        switch kind {
        case .enumeration(_, _, let values), .enum64(_, _, let values): values
        default: []
        }
    }

    /// The variables of a DATASEC; empty for other kinds.
    package var variables: [BTFDataSectionVariable] {
        if case .dataSection(_, let variables) = kind { variables } else { [] }
    }

    /// The type a TYPEDEF, VOLATILE, CONST, RESTRICT or TYPE_TAG stands for; nil for other kinds.
    package var modifiedType: Int? {
        switch kind {
        case .typedef(let id), .volatile(let id), .const(let id), .restrict(let id), .typeTag(let id): id
        default: nil
        }
    }
}
