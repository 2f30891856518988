/// The steps of `ObjectSpec.init(elf:)` that read one part of the object each.
extension ObjectSpec {
    /// The bytes of `section`, or the ELF error that says why they cannot be read.
    static func data(of section: ELFSection, in elf: ELFFile) throws(ObjectError) -> ArraySlice<UInt8> {
        do { return try elf.data(of: section) } catch { throw .elf(error) }
    }

    /// The NUL-terminated `license` section; empty without one.
    static func readLicense(_ elf: ELFFile) throws(ObjectError) -> String {
        guard let section = elf.section(named: "license") else { return "" }
        let data = try data(of: section, in: elf)
        guard let end = data.firstIndex(of: 0) else { throw .badLicense("not NUL-terminated") }
        return String(decoding: data[data.startIndex..<end], as: UTF8.self)
    }

    /// The 4-byte `version` section; 0 without one.
    static func readVersion(_ elf: ELFFile) throws(ObjectError) -> UInt32 {
        guard let section = elf.section(named: "version") else { return 0 }
        let data = try data(of: section, in: elf)
        guard data.count == 4 else { throw .badProgram(section: "version", symbol: "", reason: "must be 4 bytes, is \(data.count)") }
        return data.littleEndian(UInt32.self, at: 0)
    }

    /// `.BTF`, which must decode; with the DATASEC fix-ups applied, or as compiled (and why, in
    /// `problems`) when they cannot be made.
    static func readBTF(_ elf: ELFFile, problems: inout [String]) throws(ObjectError) -> BTFSpec? {
        guard let section = elf.section(named: ".BTF") else { return nil }
        let data = try data(of: section, in: elf)
        let btf: BTFSpec
        do { btf = try BTFSpec(bytes: data) } catch { throw .btf(error) }
        do { return try btf.fixedUp(for: elf) } catch {
            problems.append(error.description)
            return btf
        }
    }

    /// `.BTF.ext`'s func_info and line_info, when present and readable (why not goes in `problems`:
    /// loading then goes on without them).
    static func readBTFExt(_ elf: ELFFile, btf: BTFSpec?, problems: inout [String]) -> BTFExt? {
        guard let btf, let section = elf.section(named: ".BTF.ext") else { return nil }
        let data: ArraySlice<UInt8>
        do { data = try elf.data(of: section) } catch {
            problems.append(error.description)
            return nil
        }
        do { return try BTFExt(bytes: data, btf: btf) } catch {
            problems.append(error.description)
            return nil
        }
    }

    /// CO-RE relocations are read on their own: a program must not load with offsets that were
    /// meant to be relocated, so unreadable ones fail the object instead of being skipped.
    static func readCORERelocations(_ elf: ELFFile, btf: BTFSpec?) throws(ObjectError) -> [String: [CORERelocation]] {
        guard let btf, let section = elf.section(named: ".BTF.ext") else { return [:] }
        let data = try data(of: section, in: elf)
        guard BTFExt.declaresCoreRelocations(data) else { return [:] }
        do { return try BTFExt.coreRelocations(bytes: data, btf: btf) } catch { throw .btf(error) }
    }

    /// BTF-defined maps (`.maps`), legacy ones (`maps`), then one per global-data section; names
    /// must be unique.
    static func readMaps(_ elf: ELFFile, btf: BTFSpec?) throws(ObjectError) -> [MapSpec] {
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
        var seen = Set<String>()
        for map in maps where !seen.insert(map.name).inserted { throw .duplicateMapName(map.name) }
        return maps
    }
}

/// Makes a `ProgramSpec` of every global function in a program section (any executable section
/// but `.text`, which holds subprograms only): linked, with its share of `.BTF.ext` and of the
/// CO-RE relocations, rebased to where the linker placed each function.
struct ProgramReader {
    let elf: ELFFile
    let linker: Linker
    let btfExt: BTFExt?
    let coreRelocations: [String: [CORERelocation]]
    let license: String
    let kernelVersion: UInt32

    func programs() throws(ObjectError) -> [ProgramSpec] {
        var programs: [ProgramSpec] = []
        for section in elf.sections where linker.code[section.index] != nil && section.name != ".text" {
            guard let kind = ProgramSection.match(section.name) else { throw .unknownProgramSection(section.name) }
            for function in linker.functions[section.index] ?? [] {
                programs.append(try program(function, in: section, kind: kind))
            }
        }
        return programs
    }

    private func program(_ function: Linker.Function, in section: ELFSection, kind: ProgramSection) throws(ObjectError) -> ProgramSpec {
        let symbol = elf.symbols.first { $0.sectionIndex == section.index && $0.kind == .function && $0.name == function.name }
        if symbol?.binding == .local {
            throw .badProgram(section: section.name, symbol: function.name, reason: "static functions cannot be programs; move it to .text or make it global")
        }
        let linked = try linker.link(function)
        return ProgramSpec(
            name: function.name, sectionName: section.name, type: kind.type,
            expectedAttachType: kind.expectedAttachType, defaultAttachType: kind.attachType,
            attachFunction: kind.attachFunction(section: section.name),
            instructions: linked.instructions, mapReferences: linked.maps,
            license: license, kernelVersion: kernelVersion, btfExtInfo: btfExtInfo(linked),
            coreRelocations: relocations(linked))
    }

    /// The func_info and line_info of the placed functions.
    private func btfExtInfo(_ linked: Linker.Linked) -> BTFExtInfo? {
        btfExt?.programInfo(linked.placements.map {
            .init(sectionName: elf.sections[$0.function.section].name, start: $0.function.start,
                  end: $0.function.end, linkedAt: $0.at)
        })
    }

    /// The CO-RE relocations of the placed functions, their instruction indexes rebased.
    private func relocations(_ linked: Linker.Linked) -> [CORERelocation] {
        var relocations: [CORERelocation] = []
        for placement in linked.placements {
            let function = placement.function
            for var relocation in coreRelocations[elf.sections[function.section].name] ?? []
            where relocation.instruction >= function.start && relocation.instruction < function.end {
                relocation.instruction += placement.at - function.start
                relocations.append(relocation)
            }
        }
        return relocations
    }
}
