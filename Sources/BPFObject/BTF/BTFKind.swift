/// What a BTF type is, with what its record says about it decoded: one case per `BTF_KIND_*`.
///
/// Type ids index `BTFSpec.types`; sizes are in bytes. Fields whose meaning depends on the kind in
/// the raw record (`size` or `type`, `vlen`, `kind_flag`) are decoded into the case they belong to,
/// so no user needs the record's bit layout.
package enum BTFKind: Sendable, Equatable {
    /// Type id 0, which no record describes.
    case void
    /// `BTF_KIND_INT`.
    case int(size: Int, encoding: BTFIntEncoding)
    /// `BTF_KIND_PTR`.
    case pointer(to: Int)
    /// `BTF_KIND_ARRAY`: `count` elements of type `element`, indexed by type `index`.
    case array(element: Int, index: Int, count: Int)
    /// `BTF_KIND_STRUCT`.
    case structure(size: Int, members: [BTFMember])
    /// `BTF_KIND_UNION`.
    case union(size: Int, members: [BTFMember])
    /// `BTF_KIND_ENUM`: 32-bit values (`signed` is the record's `kind_flag`).
    case enumeration(size: Int, signed: Bool, values: [BTFEnumValue])
    /// `BTF_KIND_FWD`: a forward declaration of a struct, or of a union.
    case forward(isUnion: Bool)
    /// `BTF_KIND_TYPEDEF`.
    case typedef(to: Int)
    /// `BTF_KIND_VOLATILE`.
    case volatile(of: Int)
    /// `BTF_KIND_CONST`.
    case const(of: Int)
    /// `BTF_KIND_RESTRICT`.
    case restrict(of: Int)
    /// `BTF_KIND_FUNC`: a function whose signature is the `functionProto` `proto`.
    case function(proto: Int, linkage: BTFLinkage)
    /// `BTF_KIND_FUNC_PROTO`: a signature (return type 0 is `void`).
    case functionProto(returns: Int, parameters: [BTFParameter])
    /// `BTF_KIND_VAR`: a global variable.
    case variable(type: Int, linkage: BTFLinkage)
    /// `BTF_KIND_DATASEC`: an ELF section's variables (size and offsets are 0 as clang emits them,
    /// until `BTFSpec.fixedUp(for:)`).
    case dataSection(size: Int, variables: [BTFDataSectionVariable])
    /// `BTF_KIND_FLOAT`.
    case float(size: Int)
    /// `BTF_KIND_DECL_TAG`: a tag on type `of`, or on its member or parameter `componentIndex`
    /// (-1 for the type itself).
    case declTag(of: Int, componentIndex: Int)
    /// `BTF_KIND_TYPE_TAG`.
    case typeTag(of: Int)
    /// `BTF_KIND_ENUM64`: 64-bit values (`signed` is the record's `kind_flag`).
    case enum64(size: Int, signed: Bool, values: [BTFEnumValue])

    /// The `BTF_KIND_*` number of this case.
    package var rawKind: BTFRawKind {
        switch self {
        case .void: .void
        case .int: .int
        case .pointer: .pointer
        case .array: .array
        case .structure: .structure
        case .union: .union
        case .enumeration: .enumeration
        case .forward: .forward
        case .typedef: .typedef
        case .volatile: .volatile
        case .const: .const
        case .restrict: .restrict
        case .function: .function
        case .functionProto: .functionProto
        case .variable: .variable
        case .dataSection: .dataSection
        case .float: .float
        case .declTag: .declTag
        case .typeTag: .typeTag
        case .enum64: .enum64
        }
    }

    /// Every type id the record refers to (members, parameters, variables, the element of an
    /// array, the target of a pointer, qualifier, typedef or tag), which must exist. An array's
    /// index type is not among them: the loader never follows it.
    package var referencedTypeIDs: [Int] {
        switch self {
        case .void, .int, .enumeration, .enum64, .forward, .float: []
        case .pointer(let id), .typedef(let id), .volatile(let id), .const(let id), .restrict(let id),
             .typeTag(let id), .function(let id, _), .variable(let id, _), .declTag(let id, _): [id]
        case .array(let element, _, _): [element]
        case .structure(_, let members), .union(_, let members): members.map(\.type)
        case .functionProto(let returns, let parameters): parameters.map(\.type) + [returns]
        case .dataSection(_, let variables): variables.map(\.type)
        }
    }
}

/// A BTF kind number (`BTF_KIND_*`, bits 24–28 of a record's `info`), as the kernel and the raw
/// records spell it. Open set: a newer compiler may emit kinds this loader does not know.
package struct BTFRawKind: RawRepresentable, Hashable, Sendable {
    /// The `BTF_KIND_*` number.
    package let rawValue: Int
    /// The kind numbered `rawValue`.
    package init(rawValue: Int) { self.rawValue = rawValue }

    /// `BTF_KIND_UNKN`: type id 0, `void`.
    package static let void = BTFRawKind(rawValue: 0)
    /// `BTF_KIND_INT`.
    package static let int = BTFRawKind(rawValue: 1)
    /// `BTF_KIND_PTR`.
    package static let pointer = BTFRawKind(rawValue: 2)
    /// `BTF_KIND_ARRAY`.
    package static let array = BTFRawKind(rawValue: 3)
    /// `BTF_KIND_STRUCT`.
    package static let structure = BTFRawKind(rawValue: 4)
    /// `BTF_KIND_UNION`.
    package static let union = BTFRawKind(rawValue: 5)
    /// `BTF_KIND_ENUM`.
    package static let enumeration = BTFRawKind(rawValue: 6)
    /// `BTF_KIND_FWD`.
    package static let forward = BTFRawKind(rawValue: 7)
    /// `BTF_KIND_TYPEDEF`.
    package static let typedef = BTFRawKind(rawValue: 8)
    /// `BTF_KIND_VOLATILE`.
    package static let volatile = BTFRawKind(rawValue: 9)
    /// `BTF_KIND_CONST`.
    package static let const = BTFRawKind(rawValue: 10)
    /// `BTF_KIND_RESTRICT`.
    package static let restrict = BTFRawKind(rawValue: 11)
    /// `BTF_KIND_FUNC`.
    package static let function = BTFRawKind(rawValue: 12)
    /// `BTF_KIND_FUNC_PROTO`.
    package static let functionProto = BTFRawKind(rawValue: 13)
    /// `BTF_KIND_VAR`.
    package static let variable = BTFRawKind(rawValue: 14)
    /// `BTF_KIND_DATASEC`.
    package static let dataSection = BTFRawKind(rawValue: 15)
    /// `BTF_KIND_FLOAT`.
    package static let float = BTFRawKind(rawValue: 16)
    /// `BTF_KIND_DECL_TAG`.
    package static let declTag = BTFRawKind(rawValue: 17)
    /// `BTF_KIND_TYPE_TAG`.
    package static let typeTag = BTFRawKind(rawValue: 18)
    /// `BTF_KIND_ENUM64`.
    package static let enum64 = BTFRawKind(rawValue: 19)
}
