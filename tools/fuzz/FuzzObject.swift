// libFuzzer entry point for the ELF, BTF and object readers of BPFObject, and for the view the
// kernel's BTF is read through (BTFView), checked against the full decoder on every BTF input.
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
        let btf = try? BTFSpec(bytes: bytes)
        compareView(bytes, btf)
        if let btf { walk(btf) }
    }
    return 0
}

/// The view CO-RE reads a kernel's BTF through must accept exactly what the full decoder
/// accepts and read the same types and candidates from it; any difference is a crash here.
private func compareView(_ bytes: [UInt8], _ spec: BTFSpec?) {
    let viewResult = Result { () throws(BTFError) in try BTFView(bytes: BTFBytes(copying: bytes)) }
    guard case .success(let view) = viewResult, let spec else {
        if case .success = viewResult { preconditionFailure("BTFView accepts BTF that BTFSpec refuses") }
        if case .failure(let error) = viewResult, spec != nil { preconditionFailure("BTFView refuses BTF that BTFSpec decodes: \(error)") }
        return
    }
    precondition(view.typeCount == spec.types.count, "BTFView counts \(view.typeCount) types, BTFSpec \(spec.types.count)")
    for id in spec.types.indices.dropFirst() {
        precondition((try? view.type(id, "fuzz")) == spec.types[id], "BTFView decodes type \(id) differently")
        precondition((try? view.size(of: id)) == (try? spec.size(of: id)), "BTFView sizes type \(id) differently")
    }
    let read = CORETargetBTF(view: view), decoded = CORETargetBTF(btf: spec)
    let named = spec.types.dropFirst().prefix(256).filter { !$0.name.isEmpty }
    // The view compares names as bytes (as libbpf does); decoded names are Strings, in which
    // bytes that are not UTF-8 read as U+FFFD. Only where no name has one do the two agree.
    if !spec.types.contains(where: { $0.name.unicodeScalars.contains("\u{FFFD}") }) {
        precondition(read.candidates(for: Array(named)) == decoded.candidates(for: Array(named)), "BTFView finds other candidates")
        for type in named where type.rawKind == .function {
            precondition(read.function(named: type.name) == decoded.function(named: type.name), "BTFView finds another function")
        }
    }
    for type in named {
        _ = try? COREMatching.typesMatch(spec, type.id, view, type.id)
        _ = try? COREMatching.typesCompatible(spec, type.id, view, type.id)
    }
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
    // CO-RE relocations resolved against the object's own BTF, a target that has every type:
    // decoded, and read in place, with the same outcome.
    let decoded = Result { () throws(COREError) in try spec.relocatingCORE(against: CORETargetBTF(btf: btf)) }
    if let view = try? BTFView(bytes: BTFBytes(copying: btf.rawBytes)) {
        let read = Result { () throws(COREError) in try spec.relocatingCORE(against: CORETargetBTF(view: view)) }
        // Names that are not UTF-8 compare as bytes in the view, as U+FFFD in Strings (see compareView).
        if !btf.types.contains(where: { $0.name.unicodeScalars.contains("\u{FFFD}") }) {
            precondition(read.map(\.programs) == decoded.map(\.programs), "CO-RE against BTFView differs from against BTFSpec")
        }
    } else {
        preconditionFailure("BTFView refuses BTF that BTFSpec decoded")
    }
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
