/// Turns the functions of executable sections into self-contained programs: resolves
/// bpf-to-bpf calls by appending each called subprogram once, and records which instructions
/// refer to which map. Knows nothing about the kernel.
struct Linker {
    /// One function symbol: its section and its instruction range there.
    struct Function: Hashable {
        let section: Int
        let start: Int
        let end: Int
        let name: String
    }

    /// Where a relocated instruction points.
    enum Target {
        case map(name: String, kind: MapReference.Kind)
        case function(section: Int, instruction: Int)
    }

    let elf: ELFFile
    /// Instructions of every executable section, by section index.
    let code: [Int: [Instruction]]
    /// Functions of every executable section, by section index, sorted by start.
    let functions: [Int: [Function]]
    /// Relocation targets by (section, instruction index).
    let targets: [Int: [Int: Target]]

    init(elf: ELFFile, maps: [MapSpec]) throws(ObjectError) {
        self.elf = elf
        var code: [Int: [Instruction]] = [:]
        var functions: [Int: [Function]] = [:]
        for section in elf.sections where section.flags.contains(.execinstr) && section.kind == .progbits {
            let name = ELFFile.display(section)
            guard section.size % Instruction.size == 0 else {
                throw .badProgram(section: name, symbol: "", reason: "size \(section.size) is not a multiple of 8")
            }
            do { code[section.index] = Instruction.decode(try elf.data(of: section)) } catch { throw .elf(error) }
            let count = section.size / Instruction.size
            var list: [Function] = []
            for symbol in elf.symbols where symbol.sectionIndex == section.index && symbol.kind == .function {
                guard symbol.value % 8 == 0, symbol.size % 8 == 0, symbol.value <= UInt64(section.size),
                      symbol.size <= UInt64(section.size) - symbol.value else {
                    throw .badProgram(section: name, symbol: symbol.name, reason: "symbol range \(symbol.value)+\(symbol.size) is not inside the section")
                }
                let start = Int(symbol.value) / 8
                let end = symbol.size == 0 ? count : start + Int(symbol.size) / 8
                list.append(Function(section: section.index, start: start, end: end, name: symbol.name))
            }
            list.sort { $0.start < $1.start }
            for (a, b) in zip(list, list.dropFirst()) where b.start < a.end {
                throw .badProgram(section: name, symbol: b.name, reason: "overlaps function \(a.name)")
            }
            functions[section.index] = list
        }
        self.code = code
        self.functions = functions
        self.targets = try Self.readRelocations(elf, code: code, maps: maps)
        // A function symbol that ends between the two halves of a relocated ld_imm64 would give
        // the kernel half an instruction, and the kernel layer patches `instruction + 1`.
        for section in targets.keys.sorted() {
            for index in targets[section]!.keys.sorted() {
                guard case .map = targets[section]![index]!, let function = function(containing: index, in: section),
                      index + 1 >= function.end else { continue }
                throw .badProgram(section: ELFFile.display(elf.sections[section]), symbol: function.name,
                                  reason: "ends inside the ld_imm64 at instruction \(index)")
            }
        }
    }

    private static func readRelocations(_ elf: ELFFile, code: [Int: [Instruction]], maps: [MapSpec]) throws(ObjectError) -> [Int: [Int: Target]] {
        var targets: [Int: [Int: Target]] = [:]
        for relSection in elf.sections where relSection.kind == .rel {
            guard let instructions = code[relSection.info] else { continue } // .rel.BTF, .rel.debug_*: not code
            let section = elf.sections[relSection.info]
            let name = ELFFile.display(section)
            let relocations: [ELFRelocation]
            do { relocations = try elf.relocations(in: relSection) } catch { throw .elf(error) }
            var perSection: [Int: Target] = [:]
            for relocation in relocations {
                let symbol = elf.symbols[relocation.symbolIndex]
                let symbolName = symbol.name.isEmpty ? "#\(symbol.index)" : symbol.name
                guard relocation.offset % 8 == 0, relocation.offset / 8 < UInt64(instructions.count) else {
                    throw .badRelocation(section: name, offset: relocation.offset, reason: "not at an instruction of the section")
                }
                let index = Int(relocation.offset / 8)
                let instruction = instructions[index]
                guard symbol.sectionIndex > 0, symbol.sectionIndex < elf.sections.count else {
                    throw .badRelocation(section: name, offset: relocation.offset,
                                         reason: "symbol \(symbolName) is not defined in this object (externs are not supported)")
                }
                let targetSection = elf.sections[symbol.sectionIndex]
                switch relocation.kind {
                case .bpf64_64 where instruction.opcode == Instruction.loadImm64:
                    guard index + 1 < instructions.count else {
                        throw .badRelocation(section: name, offset: relocation.offset, reason: "ld_imm64 is cut off at the end of the section")
                    }
                    perSection[index] = try mapTarget(symbol, named: symbolName, in: targetSection, instruction: instruction, maps: maps,
                                                      relocation: relocation, section: name)
                case .bpf64_32 where instruction.isCallToFunction:
                    guard code[targetSection.index] != nil, symbol.value % 8 == 0 else {
                        throw .badRelocation(section: name, offset: relocation.offset, reason: "call target \(symbolName) is not code")
                    }
                    let target = Int(symbol.value / 8) + Int(instruction.immediate) + 1
                    perSection[index] = .function(section: targetSection.index, instruction: target)
                default:
                    throw .unsupportedRelocation(section: name, offset: relocation.offset, kind: relocation.kind.rawValue, symbol: symbolName)
                }
            }
            targets[section.index] = perSection
        }
        return targets
    }

    /// What an ld_imm64 relocated against `symbol` loads: a map's fd (a `.maps` or `maps`
    /// definition), or the address of a byte in a global-data map (its section symbol plus the
    /// immediate, or a variable's symbol).
    private static func mapTarget(_ symbol: ELFSymbol, named symbolName: String, in targetSection: ELFSection,
                                  instruction: Instruction, maps: [MapSpec], relocation: ELFRelocation,
                                  section name: String) throws(ObjectError) -> Target {
        if let map = maps.first(where: { $0.origin != .globalData && $0.sectionIndex == targetSection.index && $0.symbolOffset == symbol.value }) {
            return .map(name: map.name, kind: .fd)
        }
        guard let map = maps.first(where: { $0.origin == .globalData && $0.sectionIndex == targetSection.index }) else {
            throw .unsupportedRelocation(section: name, offset: relocation.offset, kind: relocation.kind.rawValue, symbol: "\(symbolName) in \(targetSection.name)")
        }
        // st_value is untrusted: check it before it becomes an Int64 (2^63 and up would trap).
        guard symbol.kind == .section || symbol.value <= UInt64(map.valueSize) else {
            throw .badRelocation(section: name, offset: relocation.offset, reason: "symbol \(symbolName) at \(symbol.value) is outside \(map.name)")
        }
        let base = symbol.kind == .section ? 0 : Int64(symbol.value)
        let offset = base + Int64(instruction.immediate)
        guard offset >= 0, offset < Int64(map.valueSize) else {
            throw .badRelocation(section: name, offset: relocation.offset, reason: "offset \(offset) is outside \(map.name)")
        }
        return .map(name: map.name, kind: .value(offset: UInt32(offset)))
    }

    func function(containing instruction: Int, in section: Int) -> Function? {
        functions[section]?.first { instruction >= $0.start && instruction < $0.end }
    }

    /// A linked program: its instructions, its map references, and where each function landed.
    struct Linked {
        var instructions: [Instruction]
        var maps: [MapReference]
        /// Every function of the program with the index of its first instruction, in placement order.
        var placements: [(function: Function, at: Int)]
    }

    /// Links `entry` and every function it calls, transitively, into one instruction stream.
    ///
    /// Subprograms are appended depth first, in the order their first call appears, exactly as
    /// libbpf does (`bpf_object__reloc_code`), so both loaders hand the kernel the same program.
    func link(_ entry: Function) throws(ObjectError) -> Linked {
        var output: [Instruction] = []
        var placed: [Function: Int] = [:]
        var placements: [(function: Function, at: Int)] = []
        var origins: [(section: Int, index: Int)] = []

        func append(_ function: Function) throws(ObjectError) {
            let base = output.count
            placed[function] = base
            placements.append((function, base))
            output += code[function.section]![function.start..<function.end]
            origins += (function.start..<function.end).map { (function.section, $0) }
            for index in function.start..<function.end {
                let instruction = output[base + index - function.start]
                guard instruction.isCallToFunction else { continue }
                let callee = try callTarget(section: function.section, index: index, instruction: instruction)
                if placed[callee.function] == nil { try append(callee.function) }
            }
        }
        try append(entry)

        var references: [MapReference] = []
        for (position, origin) in origins.enumerated() {
            let instruction = output[position]
            if instruction.isCallToFunction {
                let callee = try callTarget(section: origin.section, index: origin.index, instruction: instruction)
                let destination = placed[callee.function]! + (callee.index - callee.function.start)
                output[position].immediate = Int32(destination - position - 1)
            } else if case .map(let name, let kind)? = targets[origin.section]?[origin.index] {
                references.append(MapReference(instruction: position, mapName: name, kind: kind))
            }
        }
        return Linked(instructions: output, maps: references, placements: placements)
    }

    private func callTarget(section: Int, index: Int, instruction: Instruction) throws(ObjectError) -> (function: Function, index: Int) {
        let sectionName = ELFFile.display(elf.sections[section])
        let targetSection: Int, targetIndex: Int
        if case .function(let s, let i)? = targets[section]?[index] {
            (targetSection, targetIndex) = (s, i)
        } else {
            (targetSection, targetIndex) = (section, index + Int(instruction.immediate) + 1)
        }
        guard let function = function(containing: targetIndex, in: targetSection) else {
            throw .badCall(section: sectionName, instruction: index, reason: "target \(targetIndex) is not inside a function symbol")
        }
        return (function, targetIndex)
    }
}
