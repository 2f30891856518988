/// A variable of a global-data section (`.rodata`, `.data`, `.bss`): where its bytes live in the
/// section's array map. `const volatile` variables in `.rodata` are the usual load-time settings:
/// the program reads them from a frozen map, so the verifier treats them as constants and prunes
/// the branches they disable.
public struct GlobalVariable: Sendable, Equatable {
    /// The variable's name in the C source.
    public let name: String
    /// The global-data map (named after the section) holding it.
    public let mapName: String
    /// Byte offset and size inside the map's value.
    public let offset: Int
    /// Its size in bytes.
    public let size: Int
    /// Whether it lives in `.rodata` (frozen after loading: settable only before).
    public let readOnly: Bool

    /// Every named `STT_OBJECT` symbol of a global-data section.
    static func all(in elf: ELFFile, maps: [MapSpec]) -> [GlobalVariable] {
        var result: [GlobalVariable] = []
        for map in maps where map.origin == .globalData {
            for symbol in elf.symbols where symbol.sectionIndex == map.sectionIndex && symbol.kind == .object && !symbol.name.isEmpty {
                guard symbol.value < UInt64(map.valueSize), symbol.size <= UInt64(map.valueSize) - symbol.value else { continue }
                result.append(GlobalVariable(name: symbol.name, mapName: map.name, offset: Int(symbol.value),
                                             size: Int(symbol.size), readOnly: map.freeze))
            }
        }
        return result.sorted { ($0.mapName, $0.offset) < ($1.mapName, $1.offset) }
    }
}

/// Why a global variable could not be set.
public enum GlobalVariableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No settable variable is called `name`; `known` lists those that are.
    case unknown(name: String, known: [String])
    /// The bytes given are not the variable's size.
    case wrongSize(name: String, expected: Int, given: Int)
    /// The integer does not fit the variable's `size` bytes.
    case outOfRange(name: String, value: Int64, size: Int)
    /// `.bss` starts zeroed and is not part of the object's initial data.
    case notInitialised(name: String, map: String)

    public var description: String {
        switch self {
        case .unknown(let name, let known):
            let list = known.isEmpty ? "the object has none" : "known: " + known.joined(separator: ", ")
            return "no global variable named '\(name)' in .rodata or .data (\(list))"
        case .wrongSize(let name, let expected, let given):
            return "global variable '\(name)' is \(expected) bytes, the value has \(given)"
        case .outOfRange(let name, let value, let size):
            return "value \(value) does not fit global variable '\(name)' (\(size) bytes)"
        case .notInitialised(let name, let map):
            return "global variable '\(name)' is in \(map), which starts zeroed: only .rodata and .data variables can be set"
        }
    }
}

extension ObjectSpec {
    /// The variables `setGlobal` accepts: those of `.rodata*` and `.data*`, except the ones the
    /// compiler made (function-local statics such as bpf_printk formats, named "function.name").
    public var settableGlobals: [GlobalVariable] {
        globals.filter { !$0.mapName.hasPrefix(".bss") && !$0.name.contains(".") }
    }

    /// Replaces the initial bytes of a `.rodata` or `.data` variable, before the object is loaded.
    public mutating func setGlobal(_ name: String, bytes: [UInt8]) throws(GlobalVariableError) {
        guard let variable = globals.first(where: { $0.name == name }) else {
            throw .unknown(name: name, known: settableGlobals.map(\.name))
        }
        guard !variable.mapName.hasPrefix(".bss") else { throw .notInitialised(name: name, map: variable.mapName) }
        guard bytes.count == variable.size else { throw .wrongSize(name: name, expected: variable.size, given: bytes.count) }
        let index = maps.firstIndex { $0.name == variable.mapName }!
        maps[index].initialValue!.replaceSubrange(variable.offset..<(variable.offset + variable.size), with: bytes)
    }

    /// Sets an integer variable (1, 2, 4 or 8 bytes, little-endian); the value must fit its size,
    /// read as signed or unsigned.
    public mutating func setGlobal(_ name: String, integer value: Int64) throws(GlobalVariableError) {
        guard let variable = globals.first(where: { $0.name == name }) else {
            throw .unknown(name: name, known: settableGlobals.map(\.name))
        }
        let size = variable.size
        guard [1, 2, 4, 8].contains(size) else { throw .wrongSize(name: name, expected: size, given: 8) }
        if size < 8 {
            let bits = Int64(size * 8)
            guard value >= -(1 << (bits - 1)), value < (1 << bits) else { throw .outOfRange(name: name, value: value, size: size) }
        }
        try setGlobal(name, bytes: Array(value.littleEndianBytes.prefix(size)))
    }

    /// The current initial bytes of a global variable.
    public func globalBytes(_ name: String) -> [UInt8]? {
        guard let variable = globals.first(where: { $0.name == name }),
              let value = map(named: variable.mapName)?.initialValue else { return nil }
        return Array(value[variable.offset..<(variable.offset + variable.size)])
    }
}
