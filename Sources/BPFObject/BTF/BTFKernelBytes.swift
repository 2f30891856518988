extension BTFSpec {
    /// The BTF as the kernel accepts it: the bytes as compiled, after `fixedUp(for:)`. Returns nil
    /// while a DATASEC still has the size 0 clang leaves in it (the kernel refuses such BTF).
    package func kernelBytes() -> [UInt8]? {
        for type in types {
            if case .dataSection(0, let variables) = type.kind, !variables.isEmpty { return nil }
        }
        return rawBytes
    }

    /// libbpf's DATASEC fix-ups. clang leaves every DATASEC's size and its variables' offsets at 0
    /// (`.data`, `.rodata`, `.bss`, `.maps`, `license`, …); the linker knows them, so they come from
    /// the ELF: the size from the section of the same name, each offset from the variable's symbol.
    /// Variables are then sorted by offset, as the kernel requires. Type ids and strings are
    /// unchanged, so ids taken from the compiled BTF stay valid.
    package func fixedUp(for elf: ELFFile) throws(BTFError) -> BTFSpec {
        var bytes = rawBytes
        var changed = false
        for datasec in types {
            guard case .dataSection(let size, let variables) = datasec.kind else { continue }
            var entries = variables
            if size == 0 {
                guard let section = elf.section(named: datasec.name), section.size > 0 else {
                    throw .unfixableDataSection(section: datasec.name, reason: "no ELF section of that name with a size")
                }
                bytes.writeLittleEndian(UInt32(section.size), at: datasec.recordOffset + 8)
                entries = try entries.map { (entry) throws(BTFError) in try placed(entry, in: datasec.name, section, elf) }
                changed = true
            }
            let sorted = entries.sorted { $0.offset < $1.offset }
            guard sorted != variables || changed else { continue }
            for (i, entry) in sorted.enumerated() {
                let base = datasec.recordOffset + 12 + 12 * i
                bytes.writeLittleEndian(UInt32(entry.type), at: base)
                bytes.writeLittleEndian(UInt32(entry.offset), at: base + 4)
                bytes.writeLittleEndian(UInt32(entry.size), at: base + 8)
            }
            changed = true
        }
        return changed ? try BTFSpec(bytes: bytes) : self
    }

    /// `entry` of the DATASEC `name` at the offset of its variable's symbol in `section`.
    private func placed(_ entry: BTFDataSectionVariable, in name: String, _ section: ELFSection,
                        _ elf: ELFFile) throws(BTFError) -> BTFDataSectionVariable {
        let variable = try type(entry.type, "DATASEC \(name) entry")
        guard variable.rawKind == .variable else {
            throw .unfixableDataSection(section: name, reason: "entry type \(entry.type) is not a VAR")
        }
        let candidates = elf.symbols.filter { $0.name == variable.name && $0.kind == .object }
        guard let symbol = candidates.first(where: { $0.sectionIndex == section.index }) ?? candidates.first else {
            throw .unfixableDataSection(section: name, reason: "no symbol for variable \(variable.name)")
        }
        guard symbol.value < UInt64(section.size) else {
            throw .unfixableDataSection(section: name, reason: "variable \(variable.name) is at \(symbol.value), past the section's end")
        }
        return BTFDataSectionVariable(type: entry.type, offset: Int(symbol.value), size: entry.size)
    }
}
