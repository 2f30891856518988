// libFuzzer entry point for the ELF, BTF and object readers of BPFObject.
//
// Built by tools/fuzz.sh together with Sources/BPFObject/{ELF,BTF,Object,CORE}/*.swift (one module, so
// internal API is reachable). The contract under test: every input either parses or throws a
// typed error; nothing may trap, read out of bounds or allocate without limit.

/// One fuzz iteration. An input that starts with the ELF magic goes through the whole object
/// pipeline (ELF → BTF → maps → linked programs); anything else is read as a raw `.BTF` blob.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Copied out at once: the pointer does not escape this call.
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
        fuzzObject(bytes)
    } else {
        if let btf = try? BTFSpec(bytes: bytes) { walk(btf) }
    }
    return 0
}

private func fuzzObject(_ bytes: [UInt8]) {
    guard let elf = try? ELFFile(bytes: bytes) else { return }
    // Every section's data and every relocation table, whether or not the object layer wants them.
    for section in elf.sections {
        _ = try? elf.data(of: section)
        if section.kind == .rel { _ = try? elf.relocations(in: section) }
    }
    if let section = elf.section(named: ".BTF"), let data = try? elf.data(of: section),
       let btf = try? BTFSpec(bytes: data) {
        walk(btf)
    }
    if let btfSection = elf.section(named: ".BTF"), let data = try? elf.data(of: btfSection), let btf = try? BTFSpec(bytes: data),
       let ext = elf.section(named: ".BTF.ext"), let extData = try? elf.data(of: ext) {
        _ = try? BTFExt.coreRelocations(bytes: extData, btf: btf)
    }
    // Global-data sections over 4 MiB (a 12-byte header edit can declare a gigabyte .bss) are
    // refused by ObjectSpec before anything is allocated, so every input goes through it.
    guard let spec = try? ObjectSpec(elf: elf), let btf = spec.btf else { return }
    // CO-RE relocations resolved against the object's own BTF, a target that has every type.
    _ = try? spec.relocatingCORE(against: CORETargetBTF(btf: btf))
}

/// Resolves every type the ways the loader does, so loops and huge sizes are exercised.
private func walk(_ btf: BTFSpec) {
    for id in btf.types.indices.dropFirst() {
        _ = try? btf.skipModifiers(id)
        _ = try? btf.size(of: id)
    }
    _ = btf.kernelBytes()
    // Every named type as a CO-RE candidate of itself: the matching rules walk loops and depth.
    let target = CORETargetBTF(btf: btf)
    for type in btf.types.dropFirst().prefix(256) where !type.name.isEmpty {
        _ = target.candidates(for: type)
        _ = try? COREMatching.typesMatch(btf, type.id, btf, type.id)
        _ = try? COREMatching.typesCompatible(btf, type.id, btf, type.id)
        _ = try? COREMatching.fieldsCompatible(btf, type.id, btf, type.id)
    }
}
