extension BTFSpec {
    /// The BTF as the kernel accepts it: the bytes as compiled, after `fixedUp(for:)`. Returns nil
    /// while a DATASEC still has the size 0 clang leaves in it (the kernel refuses such BTF).
    public func kernelBytes() -> [UInt8]? {
        for type in types where type.kind == .dataSection && type.sizeOrType == 0 && type.vlen > 0 {
            return nil
        }
        return rawBytes
    }

    /// libbpf's DATASEC fix-ups. clang leaves every DATASEC's size and its variables' offsets at 0
    /// (`.data`, `.rodata`, `.bss`, `.maps`, `license`, …); the linker knows them, so they come from
    /// the ELF: the size from the section of the same name, each offset from the variable's symbol.
    /// Variables are then sorted by offset, as the kernel requires. Type ids and strings are
    /// unchanged, so ids taken from the compiled BTF stay valid.
    public func fixedUp(for elf: ELFFile) throws(BTFError) -> BTFSpec {
        var bytes = rawBytes
        var changed = false
        for datasec in types where datasec.kind == .dataSection {
            var entries = datasec.members
            if datasec.sizeOrType == 0 {
                guard let section = elf.section(named: datasec.name), section.size > 0 else {
                    throw .unfixableDataSection(section: datasec.name, reason: "no ELF section of that name with a size")
                }
                bytes.writeLittleEndian(UInt32(section.size), at: datasec.recordOffset + 8)
                entries = try entries.map { (entry) throws(BTFError) -> BTFType.Member in
                    let variable = try type(entry.type, "DATASEC \(datasec.name) entry")
                    guard variable.kind == .variable else {
                        throw .unfixableDataSection(section: datasec.name, reason: "entry type \(entry.type) is not a VAR")
                    }
                    let candidates = elf.symbols.filter { $0.name == variable.name && $0.kind == .object }
                    guard let symbol = candidates.first(where: { $0.sectionIndex == section.index }) ?? candidates.first else {
                        throw .unfixableDataSection(section: datasec.name, reason: "no symbol for variable \(variable.name)")
                    }
                    guard symbol.value < UInt64(section.size) else {
                        throw .unfixableDataSection(section: datasec.name, reason: "variable \(variable.name) is at \(symbol.value), past the section's end")
                    }
                    return BTFType.Member(name: variable.name, type: entry.type, offset: UInt32(symbol.value), size: entry.size)
                }
                changed = true
            }
            let sorted = entries.sorted { $0.offset < $1.offset }
            guard sorted != datasec.members || changed else { continue }
            for (i, entry) in sorted.enumerated() {
                let base = datasec.recordOffset + 12 + 12 * i
                bytes.writeLittleEndian(UInt32(entry.type), at: base)
                bytes.writeLittleEndian(entry.offset, at: base + 4)
                bytes.writeLittleEndian(entry.size, at: base + 8)
            }
            changed = true
        }
        return changed ? try BTFSpec(bytes: bytes) : self
    }
}
