/// Applies CO-RE relocations to linked programs, as libbpf does (`bpf_core_calc_relo_insn`,
/// `bpf_core_patch_insn`): for each relocation, finds the target types of the same essential
/// name and kind, walks the access string through each, requires every match to agree, and
/// patches the instruction. Pure: no syscalls, no files.
package enum CORERelocator {
    /// The helper id a poisoned instruction calls (libbpf's 0xbad2310, "bad relo"): the verifier
    /// reports `invalid func unknown#195896080` only if the instruction is reachable.
    package static let poisonHelperID: Int32 = 0xBAD_2310

    /// `program` with each of its `coreRelocations` applied against `target`, and none left.
    /// `local` is the object's BTF, which the relocations' type ids and access strings refer to.
    package static func apply(to program: ProgramSpec, local: BTFSpec, target: CORETargetBTF) throws(COREError) -> ProgramSpec {
        try apply(to: program, local: local, target: target, candidates: target.candidates(for: rootTypes(of: [program], in: local)))
    }

    /// The local types `programs`' relocations start from, whose target candidates they need.
    static func rootTypes(of programs: [ProgramSpec], in local: BTFSpec) -> [BTFType] {
        programs.flatMap(\.coreRelocations).compactMap { try? local.type($0.typeID, "CO-RE relocation") }
    }

    /// `apply(to:local:target:)` with the candidates of every root type found already (one pass
    /// over the target for a whole object).
    static func apply(to program: ProgramSpec, local: BTFSpec, target: CORETargetBTF,
                      candidates: [CORETargetBTF.CandidateKey: [Int]]) throws(COREError) -> ProgramSpec {
        var program = program
        for relocation in program.coreRelocations {
            do {
                let resolution = try resolve(relocation, local: local, target: target, candidates: candidates)
                if try patch(&program.instructions, at: relocation.instruction, with: resolution) {
                    program.poisonedCORE.append(relocation)
                }
            } catch {
                let type = relocation.typeID > 0 && relocation.typeID < local.types.count
                    ? describe(local.types[relocation.typeID]) : "type \(relocation.typeID)"
                throw .relocationFailed(COREFailure(program: program.name, instruction: relocation.instruction, kind: relocation.kind,
                                                    type: type, accessString: relocation.accessString, reason: error))
            }
        }
        program.coreRelocations = []
        return program
    }

    /// What `relocation` resolves to against `target`.
    static func resolve(_ relocation: CORERelocation, local: BTFSpec, target: CORETargetBTF,
                        candidates: [CORETargetBTF.CandidateKey: [Int]]? = nil) throws(COREFailure.Reason) -> COREResolution {
        guard relocation.typeID > 0, relocation.typeID < local.types.count else {
            throw .badLocalType("type \(relocation.typeID) does not exist")
        }
        let localType = local.types[relocation.typeID]
        let localSpec = try COREAccessSpec(parsing: relocation.accessString, rootTypeID: relocation.typeID,
                                           kind: relocation.kind, in: local)
        if relocation.kind == .typeIDLocal {
            return COREResolution(original: UInt64(relocation.typeID), value: UInt64(relocation.typeID))
        }
        guard !localType.name.isEmpty else { throw .anonymousType }
        let targetTypes = target.types
        var chosen: (resolution: COREResolution, spec: COREAccessSpec, id: Int)?
        for candidate in candidates?[CORETargetBTF.CandidateKey(localType)] ?? target.candidates(for: localType) {
            let spec: COREAccessSpec?
            do {
                spec = try localSpec.match(local: local, kind: relocation.kind, target: targetTypes, targetID: candidate)
            } catch { throw .badTargetType(error.description) }
            guard let spec else { continue }
            let resolution = try COREResolution(kind: relocation.kind, local: localSpec, localBTF: local, target: spec, targetBTF: targetTypes)
            guard let first = chosen else {
                chosen = (resolution, spec, candidate)
                continue
            }
            if spec.bitOffset != first.spec.bitOffset {
                throw .ambiguousCandidates("bit offset \(first.spec.bitOffset) in type \(first.id), \(spec.bitOffset) in type \(candidate)")
            }
            if resolution.poison != first.resolution.poison || resolution.value != first.resolution.value {
                throw .ambiguousCandidates("value \(first.resolution.value) from type \(first.id), \(resolution.value) from type \(candidate)")
            }
        }
        if let chosen { return chosen.resolution }
        return try COREResolution(kind: relocation.kind, local: localSpec, localBTF: local, target: nil, targetBTF: targetTypes)
    }

    /// Writes `resolution` into the instruction at `index` after checking it holds the local
    /// value: the immediate of an ALU instruction, the offset (and width) of a load or store,
    /// the 64-bit immediate of an ld_imm64; or poisons it (then returns true).
    @discardableResult
    static func patch(_ instructions: inout [Instruction], at index: Int, with resolution: COREResolution) throws(COREFailure.Reason) -> Bool {
        guard index >= 0, index < instructions.count else { throw .instructionOutOfRange(count: instructions.count) }
        var instruction = instructions[index]
        let original = resolution.original, value = resolution.value
        func mismatch(_ what: String, _ got: Int64) -> COREFailure.Reason {
            .instructionMismatch("\(what) is \(got), the object's BTF gives \(original) (target: \(value))")
        }
        if resolution.poison { return poison(&instructions, at: index) }
        switch instruction.opcode & Instruction.classMask {
        case Instruction.classALU, Instruction.classALU64:
            guard instruction.opcode & Instruction.sourceRegisterFlag == 0 else { throw .unpatchableInstruction(opcode: instruction.opcode) }
            if resolution.validate, UInt64(bitPattern: Int64(instruction.immediate)) != original {
                throw mismatch("the ALU immediate", Int64(instruction.immediate))
            }
            instruction.immediate = Int32(truncatingIfNeeded: value)
        case Instruction.classLoadRegister, Instruction.classStore, Instruction.classStoreRegister:
            if resolution.validate, UInt64(bitPattern: Int64(instruction.offset)) != original {
                throw mismatch("the memory offset", Int64(instruction.offset))
            }
            guard value <= UInt64(Int16.max) else { throw .valueOutOfRange(value) }
            if resolution.sizeAdjustmentFails { return poison(&instructions, at: index) }
            instruction.offset = Int16(value)
            if resolution.newSize != resolution.originalSize {
                let width = Instruction.sizeCodes.first { $0.value == instruction.opcode & Instruction.sizeMask }?.key ?? 0
                guard width == resolution.originalSize else {
                    throw .instructionMismatch("the access is \(width) bytes wide, the field \(resolution.originalSize)")
                }
                guard let code = Instruction.sizeCodes[resolution.newSize] else {
                    throw .valueOutOfRange(UInt64(resolution.newSize))
                }
                instruction.opcode = instruction.opcode & ~Instruction.sizeMask | code
            }
        case Instruction.classLoad where instruction.opcode == Instruction.loadImm64:
            guard index + 1 < instructions.count, instruction.sourceRegister == 0, instruction.offset == 0,
                  instructions[index + 1].opcode == 0, instructions[index + 1].registers == 0, instructions[index + 1].offset == 0 else {
                throw .instructionMismatch("the ld_imm64 has an unexpected form")
            }
            let immediate = UInt64(UInt32(bitPattern: instruction.immediate)) | UInt64(UInt32(bitPattern: instructions[index + 1].immediate)) << 32
            if resolution.validate, immediate != original { throw mismatch("the ld_imm64 immediate", Int64(bitPattern: immediate)) }
            instruction.immediate = Int32(truncatingIfNeeded: value)
            instructions[index + 1].immediate = Int32(truncatingIfNeeded: value >> 32)
        default:
            throw .unpatchableInstruction(opcode: instruction.opcode)
        }
        instructions[index] = instruction
        return false
    }

    /// Replaces the instruction (both halves of an ld_imm64) by a call to helper 0xbad2310.
    private static func poison(_ instructions: inout [Instruction], at index: Int) -> Bool {
        let call = Instruction(opcode: Instruction.call, registers: 0, offset: 0, immediate: poisonHelperID)
        if instructions[index].opcode == Instruction.loadImm64, index + 1 < instructions.count { instructions[index + 1] = call }
        instructions[index] = call
        return true
    }

    /// Why the verifier reports `unknown#195896080` for `program`: its poisoned relocations.
    package static func explainPoison(in program: ProgramSpec) -> String {
        program.poisonedCORE.map {
            "instruction \($0.instruction) is a poisoned CO-RE relocation (\($0.kind), access \($0.accessString)): the target BTF has no such field or enumerator, or the access cannot follow its new size; guard it with bpf_core_field_exists"
        }.joined(separator: "; ")
    }

    /// `struct sock`, `enum sk_state`, `typedef u32`, as a message names a type.
    static func describe(_ type: BTFType) -> String {
        let kinds: [BTFRawKind: String] = [.structure: "struct", .union: "union", .enumeration: "enum", .enum64: "enum",
                                             .typedef: "typedef", .int: "int", .pointer: "pointer", .array: "array",
                                             .forward: "forward", .functionProto: "function prototype", .float: "float"]
        let kind = kinds[type.rawKind] ?? "kind \(type.rawKind.rawValue)"
        return type.name.isEmpty ? "anonymous \(kind) [\(type.id)]" : "\(kind) \(type.name)"
    }
}
