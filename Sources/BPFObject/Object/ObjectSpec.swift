/// Everything an object file defines, ready to be created in the kernel: maps, programs
/// (linked, with map references recorded), license and kernel version.
public struct ObjectSpec: Sendable {
    /// Global-data maps carry their initial bytes, which `setGlobal` patches before loading.
    public internal(set) var maps: [MapSpec]
    /// The programs; `relocatingCORE(against:)` patches their instructions.
    public internal(set) var programs: [ProgramSpec]
    /// The `license` section (`GPL`, …), which decides the helpers the programs may call.
    public let license: String
    /// The `version` section; 0 without one (only old kernels check it).
    public let kernelVersion: UInt32
    /// The object's BTF, when it has a `.BTF` section, with libbpf's DATASEC fix-ups applied
    /// (as compiled when they could not be made: then `btfProblems` says why).
    package let btf: BTFSpec?
    /// The object's `.BTF.ext`, when present and readable; programs carry their share of it.
    package let btfExt: BTFExt?
    /// Why the BTF or `.BTF.ext` cannot be used as compiled; loading then goes on without them.
    package let btfProblems: [String]
    /// Variables of the global-data sections (`.rodata`, `.data`, `.bss`), settable before loading.
    public let globals: [GlobalVariable]

    /// Reads an object from its bytes (an ELF64 little-endian BPF relocatable object).
    public init(bytes: [UInt8]) throws(ObjectError) {
        let elf: ELFFile
        do { elf = try ELFFile(bytes: bytes) } catch { throw .elf(error) }
        try self.init(elf: elf)
    }

    /// Reads an object from its ELF sections, in named steps: license and version, `.BTF` (with
    /// the DATASEC fix-ups), `.BTF.ext` and its CO-RE relocations, the maps, then the programs,
    /// each linked with its subprograms.
    package init(elf: ELFFile) throws(ObjectError) {
        license = try Self.readLicense(elf)
        kernelVersion = try Self.readVersion(elf)
        var problems: [String] = []
        let btf = try Self.readBTF(elf, problems: &problems)
        let btfExt = Self.readBTFExt(elf, btf: btf, problems: &problems)
        let coreRelocations = try Self.readCORERelocations(elf, btf: btf)
        self.btf = btf
        self.btfExt = btfExt
        self.btfProblems = problems
        let maps = try Self.readMaps(elf, btf: btf)
        self.maps = maps
        globals = GlobalVariable.all(in: elf, maps: maps)
        let reader = ProgramReader(elf: elf, linker: try Linker(elf: elf, maps: maps), btfExt: btfExt,
                                   coreRelocations: coreRelocations, license: license, kernelVersion: kernelVersion)
        programs = try reader.programs()
        guard !programs.isEmpty else { throw .noPrograms }
    }

    /// Whether some program has CO-RE relocations still to apply, or an attach function still to
    /// look up in the target's BTF.
    package var needsCORE: Bool {
        programs.contains { !$0.coreRelocations.isEmpty || ($0.attachFunction != nil && $0.attachBTFID == 0) }
    }

    /// The object with every program's CO-RE relocations applied against `target` (the running
    /// kernel's BTF, or a BTF file standing for another kernel's), as libbpf does at load time,
    /// and each tracing program's attach function looked up there (`attachBTFID`).
    package func relocatingCORE(against target: CORETargetBTF) throws(COREError) -> ObjectSpec {
        guard needsCORE else { return self }
        var copy = self
        let candidates = btf.map { target.candidates(for: CORERelocator.rootTypes(of: programs, in: $0)) } ?? [:]
        copy.programs = try programs.map { (program) throws(COREError) in
            var program = program
            if let btf { program = try CORERelocator.apply(to: program, local: btf, target: target, candidates: candidates) }
            if let function = program.attachFunction, program.attachBTFID == 0 {
                guard let id = target.function(named: function) else {
                    throw .missingAttachFunction(program: program.name, function: function)
                }
                program.attachBTFID = id
            }
            return program
        }
        return copy
    }

    /// The object without the programs `leaveOut` selects (a load that does without them).
    public func removingPrograms(where leaveOut: (ProgramSpec) -> Bool) -> ObjectSpec {
        var copy = self
        copy.programs.removeAll(where: leaveOut)
        return copy
    }

    /// The map named `name`, if the object defines one.
    public func map(named name: String) -> MapSpec? { maps.first { $0.name == name } }
    /// The program whose function is named `name`, if the object has one.
    public func program(named name: String) -> ProgramSpec? { programs.first { $0.name == name } }
}
