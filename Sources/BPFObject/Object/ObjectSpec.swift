/// Everything an object file defines, ready to be created in the kernel: maps, programs
/// (linked, with map references recorded), license and kernel version.
public struct ObjectSpec: Sendable {
    /// Global-data maps carry their initial bytes, which `setGlobal` patches before loading.
    public internal(set) var maps: [MapSpec]
    /// The programs; `relocatingCORE(against:)` patches their instructions.
    public internal(set) var programs: [ProgramSpec]
    public let license: String
    public let kernelVersion: UInt32
    /// The object's BTF, when it has a `.BTF` section, with libbpf's DATASEC fix-ups applied
    /// (as compiled when they could not be made: then `btfProblems` says why).
    public let btf: BTFSpec?
    /// The object's `.BTF.ext`, when present and readable; programs carry their share of it.
    public let btfExt: BTFExt?
    /// Why the BTF or `.BTF.ext` cannot be used as compiled; loading then goes on without them.
    public let btfProblems: [String]
    /// Variables of the global-data sections (`.rodata`, `.data`, `.bss`), settable before loading.
    public let globals: [GlobalVariable]

    /// Reads an object from disk.
    public init(path: String) throws {
        try self.init(bytes: try FileBytes.read(path))
    }

    public init(bytes: [UInt8]) throws(ObjectError) {
        let elf: ELFFile
        do { elf = try ELFFile(bytes: bytes) } catch { throw .elf(error) }
        try self.init(elf: elf)
    }

    public init(elf: ELFFile) throws(ObjectError) {
        license = try Self.readLicense(elf)
        kernelVersion = try Self.readVersion(elf)

        var btf: BTFSpec?
        var problems: [String] = []
        if let section = elf.section(named: ".BTF") {
            do { btf = try BTFSpec(bytes: try elf.data(of: section)) } catch let error as ELFError {
                throw .elf(error)
            } catch let error as BTFError {
                throw .btf(error)
            } catch { fatalError("unreachable: \(error)") }
            do { btf = try btf?.fixedUp(for: elf) } catch { problems.append(error.description) }
        }
        var btfExt: BTFExt?
        if let btf, let section = elf.section(named: ".BTF.ext") {
            do { btfExt = try BTFExt(bytes: try elf.data(of: section), btf: btf) } catch let error as ELFError {
                problems.append(error.description)
            } catch let error as BTFError {
                problems.append(error.description)
            } catch { fatalError("unreachable: \(error)") }
        }
        // CO-RE relocations are read on their own: a program must not load with offsets that were
        // meant to be relocated, so unreadable ones fail the object instead of being skipped.
        var coreRelocations: [String: [CORERelocation]] = [:]
        if let btf, let section = elf.section(named: ".BTF.ext") {
            do {
                let data = try elf.data(of: section)
                if BTFExt.declaresCoreRelocations(data) { coreRelocations = try BTFExt.coreRelocations(bytes: data, btf: btf) }
            } catch let error as ELFError {
                throw .elf(error)
            } catch let error as BTFError {
                throw .btf(error)
            } catch { fatalError("unreachable: \(error)") }
        }
        self.btf = btf
        self.btfExt = btfExt
        self.btfProblems = problems

        var maps: [MapSpec] = []
        if let section = elf.section(named: ".maps") {
            guard let btf else { throw .mapsWithoutBTF }
            maps += try MapDefinitions.btfMaps(elf, section: section, btf: btf)
        }
        if let section = elf.section(named: "maps") {
            maps += try MapDefinitions.legacyMaps(elf, section: section)
        }
        for section in elf.sections where MapDefinitions.isGlobalData(section) {
            maps.append(try MapDefinitions.globalDataMap(elf, section: section, btf: btf))
        }
        globals = GlobalVariable.all(in: elf, maps: maps)
        var seen = Set<String>()
        for map in maps where !seen.insert(map.name).inserted { throw .duplicateMapName(map.name) }
        self.maps = maps

        let linker = try Linker(elf: elf, maps: maps)
        var programs: [ProgramSpec] = []
        for section in elf.sections where linker.code[section.index] != nil && section.name != ".text" {
            guard let kind = ProgramSection.match(section.name) else { throw .unknownProgramSection(section.name) }
            for function in linker.functions[section.index] ?? [] {
                let symbol = elf.symbols.first { $0.sectionIndex == section.index && $0.kind == .function && $0.name == function.name }
                if symbol?.binding == .local {
                    throw .badProgram(section: section.name, symbol: function.name, reason: "static functions cannot be programs; move it to .text or make it global")
                }
                let linked = try linker.link(function)
                let ext = btfExt?.programInfo(linked.placements.map {
                    .init(sectionName: elf.sections[$0.function.section].name, start: $0.function.start,
                          end: $0.function.end, linkedAt: $0.at)
                })
                var relocations: [CORERelocation] = []
                for placement in linked.placements {
                    let function = placement.function
                    for var relocation in coreRelocations[elf.sections[function.section].name] ?? []
                    where relocation.instruction >= function.start && relocation.instruction < function.end {
                        relocation.instruction += placement.at - function.start
                        relocations.append(relocation)
                    }
                }
                programs.append(ProgramSpec(
                    name: function.name, sectionName: section.name, type: kind.type,
                    expectedAttachType: kind.expectedAttachType, defaultAttachType: kind.attachType,
                    instructions: linked.instructions, mapReferences: linked.maps,
                    license: license, kernelVersion: kernelVersion, btfExtInfo: ext, coreRelocations: relocations))
            }
        }
        guard !programs.isEmpty else { throw .noPrograms }
        self.programs = programs
    }

    /// Whether some program has CO-RE relocations still to apply.
    public var needsCORE: Bool { programs.contains { !$0.coreRelocations.isEmpty } }

    /// The object with every program's CO-RE relocations applied against `target` (the running
    /// kernel's BTF, or a BTF file standing for another kernel's), as libbpf does at load time.
    public func relocatingCORE(against target: CORETargetBTF) throws(COREError) -> ObjectSpec {
        guard let btf, needsCORE else { return self }
        var copy = self
        copy.programs = try programs.map { (program) throws(COREError) in try CORERelocator.apply(to: program, local: btf, target: target) }
        return copy
    }

    public func map(named name: String) -> MapSpec? { maps.first { $0.name == name } }
    public func program(named name: String) -> ProgramSpec? { programs.first { $0.name == name } }

    private static func readLicense(_ elf: ELFFile) throws(ObjectError) -> String {
        guard let section = elf.section(named: "license") else { return "" }
        let data: ArraySlice<UInt8>
        do { data = try elf.data(of: section) } catch { throw .elf(error) }
        guard let end = data.firstIndex(of: 0) else { throw .badLicense("not NUL-terminated") }
        return String(decoding: data[data.startIndex..<end], as: UTF8.self)
    }

    private static func readVersion(_ elf: ELFFile) throws(ObjectError) -> UInt32 {
        guard let section = elf.section(named: "version") else { return 0 }
        let data: ArraySlice<UInt8>
        do { data = try elf.data(of: section) } catch { throw .elf(error) }
        guard data.count == 4 else { throw .badProgram(section: "version", symbol: "", reason: "must be 4 bytes, is \(data.count)") }
        return data.littleEndian(UInt32.self, at: 0)
    }
}
