@testable import BPFLoader
@testable import BPFObject

/// Builds a raw BTF blob type by type, for resolver tests that need a local and a target BTF
/// differing in one exact way. Each method returns the new type's id.
struct BTFBuilder {
    private var strings: [UInt8] = [0]
    private var records: [UInt8] = []
    private var count = 0

    private mutating func name(_ text: String) -> UInt32 {
        guard !text.isEmpty else { return 0 }
        let offset = UInt32(strings.count)
        strings += Array(text.utf8) + [0]
        return offset
    }

    private mutating func put(_ words: [UInt32]) {
        for word in words { records.appendLittleEndian(word) }
    }

    private mutating func add(_ name: String, kind: UInt32, vlen: Int = 0, kindFlag: Bool = false, _ sizeOrType: UInt32, _ extra: [UInt32] = []) -> Int {
        put([self.name(name), kind << 24 | UInt32(vlen) | (kindFlag ? 1 << 31 : 0), sizeOrType] + extra)
        count += 1
        return count
    }

    mutating func int(_ name: String, size: UInt32, signed: Bool = false) -> Int {
        add(name, kind: 1, size, [(signed ? 1 << 24 : 0) | size * 8])
    }

    mutating func pointer(to type: Int) -> Int { add("", kind: 2, UInt32(type)) }

    mutating func array(of element: Int, count: UInt32, index: Int) -> Int {
        add("", kind: 3, 0, [UInt32(element), UInt32(index), count])
    }

    /// Members as (name, type, bit offset, bitfield size in bits or 0).
    mutating func structure(_ name: String, size: UInt32, union: Bool = false, _ members: [(String, Int, UInt32, UInt32)]) -> Int {
        let bitfields = members.contains { $0.3 > 0 }
        // Member names are added to the string table before the record is written.
        let named = members.map { (self.name($0.0), $0.1, $0.2, $0.3) }
        put([self.name(name), (union ? 5 : 4) << 24 | UInt32(members.count) | (bitfields ? 1 << 31 : 0), size])
        for member in named { put([member.0, UInt32(member.1), bitfields ? member.3 << 24 | member.2 : member.2]) }
        count += 1
        return count
    }

    mutating func enumeration(_ name: String, size: UInt32 = 4, signed: Bool = false, _ values: [(String, Int32)]) -> Int {
        let named = values.map { (self.name($0.0), UInt32(bitPattern: $0.1)) }
        put([self.name(name), 6 << 24 | UInt32(values.count) | (signed ? 1 << 31 : 0), size])
        for value in named { put([value.0, value.1]) }
        count += 1
        return count
    }

    mutating func enum64(_ name: String, signed: Bool = false, _ values: [(String, UInt64)]) -> Int {
        let named = values.map { (self.name($0.0), $0.1) }
        put([self.name(name), 19 << 24 | UInt32(values.count) | (signed ? 1 << 31 : 0), 8])
        for value in named { put([value.0, UInt32(truncatingIfNeeded: value.1), UInt32(value.1 >> 32)]) }
        count += 1
        return count
    }

    mutating func typedef(_ name: String, to type: Int) -> Int { add(name, kind: 8, UInt32(type)) }

    mutating func forward(_ name: String, union: Bool = false) -> Int { add(name, kind: 7, kindFlag: union, 0) }

    mutating func volatile(of type: Int) -> Int { add("", kind: 9, UInt32(type)) }
    mutating func const(of type: Int) -> Int { add("", kind: 10, UInt32(type)) }
    mutating func restrict(of type: Int) -> Int { add("", kind: 11, UInt32(type)) }

    /// A FUNC; `linkage` goes in `vlen` (0 static, 1 global, 2 extern).
    mutating func function(_ name: String, proto: Int, linkage: Int = 1) -> Int { add(name, kind: 12, vlen: linkage, UInt32(proto)) }

    mutating func functionProto(returns: Int, _ parameters: [(String, Int)]) -> Int {
        let named = parameters.map { (self.name($0.0), UInt32($0.1)) }
        put([0, 13 << 24 | UInt32(parameters.count), UInt32(returns)])
        for parameter in named { put([parameter.0, parameter.1]) }
        count += 1
        return count
    }

    mutating func variable(_ name: String, type: Int, linkage: UInt32 = 1) -> Int { add(name, kind: 14, UInt32(type), [linkage]) }

    /// Variables as (type, offset, size).
    mutating func dataSection(_ name: String, size: UInt32, _ variables: [(Int, UInt32, UInt32)]) -> Int {
        add(name, kind: 15, vlen: variables.count, size, variables.flatMap { [UInt32($0.0), $0.1, $0.2] })
    }

    mutating func float(_ name: String, size: UInt32) -> Int { add(name, kind: 16, size) }

    mutating func declTag(_ name: String, of type: Int, component: Int32 = -1) -> Int {
        add(name, kind: 17, UInt32(type), [UInt32(bitPattern: component)])
    }

    mutating func typeTag(_ name: String, of type: Int) -> Int { add(name, kind: 18, UInt32(type)) }

    /// The BTF blob: header, types, strings.
    func bytes() -> [UInt8] {
        var header: [UInt8] = [0x9F, 0xEB, 1, 0]
        for word in [UInt32(24), 0, UInt32(records.count), UInt32(records.count), UInt32(strings.count)] {
            header.appendLittleEndian(word)
        }
        return header + records + strings
    }

    func spec() throws -> BTFSpec { try BTFSpec(bytes: bytes()) }
}
