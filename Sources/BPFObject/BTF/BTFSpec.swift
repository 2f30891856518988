/// The type information of an object's `.BTF` section.
package struct BTFSpec: Sendable, BTFTypeSource {
    /// `types[0]` is `void`; ids index this array directly.
    package let types: [BTFType]
    /// The raw section, kept to hand it to the kernel (`BPF_BTF_LOAD`) after fix-ups.
    package let rawBytes: [UInt8]
    private let header: BTFHeader
    private let strings: BTFStringTable<[UInt8]>

    /// `hdr_len`.
    package var headerLength: Int { header.headerLength }
    /// `type_off`, from the end of the header.
    package var typeOffset: Int { header.typeOffset }
    /// `type_len`.
    package var typeLength: Int { header.typeLength }
    /// `str_off`, from the end of the header.
    package var stringOffset: Int { header.stringOffset }
    /// `str_len`.
    package var stringLength: Int { header.stringLength }

    static let magic = BTFHeader.magic

    /// Decodes a `.BTF` section (or a raw BTF file such as `/sys/kernel/btf/vmlinux`): the header,
    /// the string section, then every type record; every type id a record refers to must exist.
    package init(bytes: some Collection<UInt8>) throws(BTFError) {
        let raw = Array(bytes)
        rawBytes = raw
        header = try BTFHeader(raw)
        strings = BTFStringTable(raw: raw, range: header.stringRange)
        types = try Self.decodeTypes(raw, header: header, strings: strings)
        try Self.checkReferences(types)
    }

    /// No types but `void` (what `CORETargetBTF.btf` falls back to, which its checks rule out).
    static let empty = BTFSpec(emptyWith: BTFHeader(headerLength: 24, typeOffset: 0, typeLength: 0, stringOffset: 0, stringLength: 1))

    private init(emptyWith header: BTFHeader) {
        self.header = header
        rawBytes = [0x9F, 0xEB, 1, 0, 24, 0, 0, 0] + [UInt8](repeating: 0, count: 12) + [1, 0, 0, 0, 0]
        strings = BTFStringTable(raw: rawBytes, range: header.stringRange)
        types = [.void]
    }

    private static func decodeTypes(_ raw: [UInt8], header: BTFHeader, strings: BTFStringTable<[UInt8]>) throws(BTFError) -> [BTFType] {
        var decoder = BTFTypeDecoder(raw: raw, header: header, strings: strings)
        var types = [BTFType.void]
        while !decoder.isAtEnd { types.append(try decoder.next(id: types.count)) }
        return types
    }

    /// Every reference must name an existing type, so later walks never index out of range.
    private static func checkReferences(_ types: [BTFType]) throws(BTFError) {
        for type in types.dropFirst() {
            for id in type.kind.referencedTypeIDs where id >= types.count {
                let what = type.rawKind == .array ? "array type \(type.id)" : "type \(type.id) (\(type.name))"
                throw .badTypeID(what: what, typeID: id)
            }
        }
    }

    /// The number of type ids, `void` included.
    var typeCount: Int { types.count }

    /// Type `id`, which must exist and not be `void`; `what` names the reference in the error.
    package func type(_ id: Int, _ what: @autoclosure () -> String) throws(BTFError) -> BTFType {
        guard id > 0, id < types.count else { throw .badTypeID(what: what(), typeID: id) }
        return types[id]
    }

    /// Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the underlying type.
    package func skipModifiers(_ id: Int) throws(BTFError) -> BTFType { try BTFTypeWalk.skipModifiers(id, in: self) }

    /// The size in bytes of a type, as `sizeof` would give it.
    package func size(of id: Int) throws(BTFError) -> Int { try BTFTypeWalk.size(of: id, in: self) }

    /// The string at `offset` of the string section (names in `.BTF.ext` and line info point here).
    package func string(at offset: UInt32) -> String? { strings.string(at: offset) }

    /// The DATASEC named `name`, if present.
    package func dataSection(named name: String) -> BTFType? {
        types.first { $0.rawKind == .dataSection && $0.name == name }
    }
}
