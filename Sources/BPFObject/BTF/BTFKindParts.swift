/// A struct or union member, its offset and bitfield size decoded from the record.
package struct BTFMember: Sendable, Equatable {
    /// Empty for an anonymous member (a nested anonymous struct or union).
    package let name: String
    /// The member's type id.
    package let type: Int
    /// Offset of the member in bits from the start of its struct or union.
    package let bitOffset: Int
    /// Width of a bitfield in bits; 0 when the member is not a bitfield.
    package let bitfieldSize: Int

    /// A member as decoded, or as a test builds it.
    package init(name: String, type: Int, bitOffset: Int, bitfieldSize: Int = 0) {
        self.name = name; self.type = type; self.bitOffset = bitOffset; self.bitfieldSize = bitfieldSize
    }
}

/// An enumerator of an ENUM or ENUM64.
package struct BTFEnumValue: Sendable, Equatable {
    /// The enumerator's name.
    package let name: String
    /// ENUM values are 32-bit and sign-extended, as libbpf reads them; ENUM64 values are the
    /// whole 64 bits, as a bit pattern.
    package let value: Int64

    /// An enumerator as decoded, or as a test builds it.
    package init(name: String, value: Int64) { self.name = name; self.value = value }
}

/// A parameter of a FUNC_PROTO (type 0 with no name is the `...` of a variadic function).
package struct BTFParameter: Sendable, Equatable {
    /// Empty when the prototype does not name it.
    package let name: String
    /// The parameter's type id.
    package let type: Int

    /// A parameter as decoded, or as a test builds it.
    package init(name: String, type: Int) { self.name = name; self.type = type }
}

/// A variable of a DATASEC (`struct btf_var_secinfo`).
package struct BTFDataSectionVariable: Sendable, Equatable {
    /// The id of the VAR (or FUNC, for `.ksyms`) this entry places.
    package let type: Int
    /// Byte offset of the variable in its section.
    package let offset: Int
    /// Byte size of the variable.
    package let size: Int

    /// An entry as decoded, or as the DATASEC fix-ups rewrite it.
    package init(type: Int, offset: Int, size: Int) { self.type = type; self.offset = offset; self.size = size }
}

/// The word after an INT record (`BTF_INT_ENCODING`, `BTF_INT_OFFSET`, `BTF_INT_BITS`), decoded.
package struct BTFIntEncoding: Sendable, Equatable {
    /// `BTF_INT_SIGNED`.
    package let isSigned: Bool
    /// `BTF_INT_CHAR`.
    package let isChar: Bool
    /// `BTF_INT_BOOL`.
    package let isBool: Bool
    /// The deprecated bit offset of the value inside its storage (0 in anything clang emits today).
    package let bitOffset: Int
    /// The number of value bits.
    package let bits: Int

    /// An encoding as decoded, or as a test builds it.
    package init(isSigned: Bool = false, isChar: Bool = false, isBool: Bool = false, bitOffset: Int = 0, bits: Int) {
        self.isSigned = isSigned; self.isChar = isChar; self.isBool = isBool; self.bitOffset = bitOffset; self.bits = bits
    }

    /// Decodes the raw word: encoding in bits 24–27, bit offset in 16–23, bits in 0–7.
    init(word: UInt32) {
        let encoding = (word >> 24) & 0x0F
        self.init(isSigned: encoding & Self.signedFlag != 0, isChar: encoding & Self.charFlag != 0,
                  isBool: encoding & Self.boolFlag != 0, bitOffset: Int((word >> 16) & 0xFF), bits: Int(word & 0xFF))
    }

    /// `BTF_INT_SIGNED`, `BTF_INT_CHAR`, `BTF_INT_BOOL`.
    static let signedFlag: UInt32 = 1, charFlag: UInt32 = 2, boolFlag: UInt32 = 4
}

/// The linkage of a FUNC (its `vlen`) or VAR (the word after its record): `BTF_FUNC_*`, `BTF_VAR_*`.
package struct BTFLinkage: RawRepresentable, Hashable, Sendable {
    /// The raw linkage number.
    package let rawValue: UInt32
    /// The linkage numbered `rawValue`.
    package init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `BTF_FUNC_STATIC`, `BTF_VAR_STATIC`.
    package static let `static` = BTFLinkage(rawValue: 0)
    /// `BTF_FUNC_GLOBAL`, `BTF_VAR_GLOBAL_ALLOCATED`.
    package static let global = BTFLinkage(rawValue: 1)
    /// `BTF_FUNC_EXTERN`, `BTF_VAR_GLOBAL_EXTERN`.
    package static let external = BTFLinkage(rawValue: 2)
}
