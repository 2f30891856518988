/// Reads map definitions: BTF-defined maps in `.maps`, legacy `struct bpf_map_def`s in `maps`,
/// and one array map per global-data section.
enum MapDefinitions {
    /// BTF-defined maps: each variable of the `.maps` DATASEC is a struct whose members encode the
    /// definition (`__uint(name, n)` is `int (*name)[n]`, `__type(name, T)` is `T *name`).
    static func btfMaps(_ elf: ELFFile, section: ELFSection, btf: BTFSpec) throws(ObjectError) -> [MapSpec] {
        let symbols = elf.symbols.filter { $0.sectionIndex == section.index && $0.kind == .object && !$0.name.isEmpty }
        let variables: [String: BTFType]
        do {
            var byName: [String: BTFType] = [:]
            for entry in btf.dataSection(named: ".maps")?.variables ?? [] {
                let variable = try btf.type(entry.type, ".maps entry")
                byName[variable.name] = variable
            }
            variables = byName
        } catch { throw .btf(error) }

        var maps: [MapSpec] = []
        for symbol in symbols.sorted(by: { $0.value < $1.value }) {
            guard let variable = variables[symbol.name], case .variable(let type, _) = variable.kind else {
                throw .btf(.badMapDefinition(map: symbol.name, reason: "no BTF variable describes it"))
            }
            do {
                maps.append(try btfMap(named: symbol.name, type: type, btf: btf, section: section, offset: symbol.value))
            } catch { throw .btf(error) }
        }
        return maps
    }

    private static func btfMap(named name: String, type: Int, btf: BTFSpec, section: ELFSection, offset: UInt64) throws(BTFError) -> MapSpec {
        let definition = try btf.skipModifiers(type)
        guard definition.rawKind == .structure else {
            throw .badMapDefinition(map: name, reason: "its type is not a struct")
        }
        var spec = MapSpec(name: name, type: .init(rawValue: 0), keySize: 0, valueSize: 0, maxEntries: 0, flags: 0,
                           pinning: .none, origin: .btf, btfKeyTypeID: 0, btfValueTypeID: 0,
                           sectionIndex: section.index, symbolOffset: offset, initialValue: nil, freeze: false)
        var sawType = false
        for member in definition.members {
            guard case .pointer(let pointee) = try btf.skipModifiers(member.type).kind else {
                throw .badMapDefinition(map: name, reason: "member \(member.name) is not declared with __uint or __type")
            }
            func number() throws(BTFError) -> UInt32 {
                guard case .array(_, _, let count) = try btf.skipModifiers(pointee).kind, let number = UInt32(exactly: count) else {
                    throw .badMapDefinition(map: name, reason: "member \(member.name) must be __uint(\(member.name), N)")
                }
                return number
            }
            /// `sizeof` the pointee; BTF sizes reach 2^64, a map's key and value size is a u32.
            func pointeeSize() throws(BTFError) -> UInt32 {
                let size = try btf.size(of: pointee)
                guard let size32 = UInt32(exactly: size) else {
                    throw .badMapDefinition(map: name, reason: "member \(member.name) is \(size) bytes, more than a u32")
                }
                return size32
            }
            switch member.name {
            case "type": spec.type = MapType(rawValue: try number()); sawType = true
            case "max_entries": spec.maxEntries = try number()
            case "map_flags": spec.flags = try number()
            case "key_size": spec.keySize = try number()
            case "value_size": spec.valueSize = try number()
            case "pinning":
                let value = try number()
                guard let pinning = MapPinning(rawValue: value) else {
                    throw .badMapDefinition(map: name, reason: "pinning \(value) is not 0 (none) or 1 (by name)")
                }
                spec.pinning = pinning
            case "key":
                spec.btfKeyTypeID = pointee
                spec.keySize = try pointeeSize()
            case "value":
                spec.btfValueTypeID = pointee
                spec.valueSize = try pointeeSize()
            case "numa_node", "map_extra":
                _ = try number()
            default:
                throw .badMapDefinition(map: name, reason: "member \(member.name) is not supported")
            }
        }
        guard sawType else { throw .badMapDefinition(map: name, reason: "no type given") }
        return spec
    }

    /// Legacy maps: the `maps` section holds `struct bpf_map_def { type, key_size, value_size,
    /// max_entries, map_flags }` (20 bytes, optionally followed by more fields), one per symbol.
    static func legacyMaps(_ elf: ELFFile, section: ELFSection) throws(ObjectError) -> [MapSpec] {
        let data: ArraySlice<UInt8>
        do { data = try elf.data(of: section) } catch { throw .elf(error) }
        let symbols = elf.symbols.filter { $0.sectionIndex == section.index && !$0.name.isEmpty && $0.kind != .section }
        return try symbols.sorted(by: { $0.value < $1.value }).map { (symbol) throws(ObjectError) -> MapSpec in
            let size = symbol.size == 0 && symbols.count > 0 ? UInt64(data.count / symbols.count) : symbol.size
            guard size >= 20 else { throw .badLegacyMap(symbol: symbol.name, reason: "definition is \(size) bytes, need at least 20") }
            guard symbol.value <= UInt64(data.count), size <= UInt64(data.count) - symbol.value else {
                throw .badLegacyMap(symbol: symbol.name, reason: "definition at \(symbol.value) runs past the section")
            }
            let o = Int(symbol.value)
            return MapSpec(name: symbol.name, type: .init(rawValue: data.littleEndian(UInt32.self, at: o)), keySize: data.littleEndian(UInt32.self, at: o + 4),
                           valueSize: data.littleEndian(UInt32.self, at: o + 8), maxEntries: data.littleEndian(UInt32.self, at: o + 12), flags: data.littleEndian(UInt32.self, at: o + 16),
                           pinning: .none, origin: .legacy, btfKeyTypeID: 0, btfValueTypeID: 0,
                           sectionIndex: section.index, symbolOffset: symbol.value, initialValue: nil, freeze: false)
        }
    }

    /// Whether a section holds global variables that become an array map.
    static func isGlobalData(_ section: ELFSection) -> Bool {
        guard section.flags.contains(.alloc), !section.flags.contains(.execinstr), section.size > 0 else { return false }
        return [".data", ".rodata", ".bss"].contains { section.name == $0 || section.name.hasPrefix($0 + ".") }
    }

    /// The array map behind a global-data section, as libbpf makes it: one entry holding the whole
    /// section, mmap-able, `.rodata*` read-only for programs and frozen after initialisation, and the
    /// section's DATASEC as the value type so tools can print the variables by name.
    /// The largest value an array map may have (`KMALLOC_MAX_SIZE` on x86-64): larger global-data
    /// sections are refused before anything is allocated for them.
    static let globalDataLimit = 4 << 20

    static func globalDataMap(_ elf: ELFFile, section: ELFSection, btf: BTFSpec?) throws(ObjectError) -> MapSpec {
        guard section.size <= globalDataLimit else {
            throw .globalDataTooLarge(section: section.name, size: section.size, limit: globalDataLimit)
        }
        let contents: [UInt8]
        if section.kind == .nobits {
            contents = [UInt8](repeating: 0, count: section.size)
        } else {
            do { contents = Array(try elf.data(of: section)) } catch { throw .elf(error) }
        }
        let readOnly = section.name.hasPrefix(".rodata")
        return MapSpec(name: section.name, type: .array, keySize: 4, valueSize: UInt32(section.size), maxEntries: 1,
                       flags: (readOnly ? MapSpec.flagReadOnlyProgram : 0) | MapSpec.flagMmapable, pinning: .none, origin: .globalData,
                       btfKeyTypeID: 0, btfValueTypeID: btf?.dataSection(named: section.name)?.id ?? 0, sectionIndex: section.index, symbolOffset: 0,
                       initialValue: contents, freeze: readOnly)
    }
}
