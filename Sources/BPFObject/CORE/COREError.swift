/// Why CO-RE relocations could not be applied.
public enum COREError: Error, Equatable, Sendable {
    /// The target BTF (the kernel's `/sys/kernel/btf/vmlinux`, or the file given instead) could
    /// not be read or decoded.
    case targetUnavailable(path: String, reason: String)
    /// One relocation could not be resolved or its instruction could not be patched.
    case relocationFailed(COREFailure)
    /// The target BTF has no function of the name a tracing program attaches to (`bpf_iter_tcp`
    /// for `iter/tcp`): the kernel lacks that iterator or hook.
    case missingAttachFunction(program: String, function: String)
}

/// A relocation that failed: which one (program, instruction, kind, root type, access string)
/// and why.
public struct COREFailure: Equatable, Sendable {
    /// Why a relocation failed.
    public enum Reason: Error, Equatable, Sendable {
        /// A relocation kind this loader does not know.
        case unsupportedKind
        /// The access string does not parse or does not fit the local type (`detail` says where).
        case badAccessString(String)
        /// The root type in the object's BTF is unusable (`detail` says why).
        case badLocalType(String)
        /// The root type has no name, so no target candidate can be looked up (libbpf refuses these too).
        case anonymousType
        /// Two target candidates resolve to different values.
        case ambiguousCandidates(String)
        /// The instruction does not hold what the object's own BTF says it should (`detail`).
        case instructionMismatch(String)
        /// The instruction is not one CO-RE can patch (ALU with an immediate, LDX/ST/STX, ld_imm64).
        case unpatchableInstruction(opcode: UInt8)
        /// The instruction index is outside the program.
        case instructionOutOfRange(count: Int)
        /// The new value does not fit the instruction (a memory offset above 32767).
        case valueOutOfRange(UInt64)
        /// A bitfield that no load of up to 8 bytes covers.
        case bitfieldTooWide
        /// The target BTF is malformed where the relocation looked (`detail`).
        case badTargetType(String)
    }

    /// The program the relocation is in.
    public let program: String
    /// Index of the instruction in the linked program.
    public let instruction: Int
    /// What the instruction holds (`byte_off`, `field_exists`, …).
    package let kind: CORERelocation.Kind
    /// The root type's kind and name in the object's BTF, e.g. `struct sock`.
    public let type: String
    /// The relocation's access string, e.g. `0:1:3`.
    public let accessString: String
    /// Why it failed.
    public let reason: Reason

    /// A failure of the relocation described by the other arguments.
    package init(program: String, instruction: Int, kind: CORERelocation.Kind, type: String, accessString: String, reason: Reason) {
        self.program = program
        self.instruction = instruction
        self.kind = kind
        self.type = type
        self.accessString = accessString
        self.reason = reason
    }
}

extension COREFailure.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unsupportedKind: return "unsupported relocation kind"
        case .badAccessString(let detail): return "bad access string: \(detail)"
        case .badLocalType(let detail): return "bad local type: \(detail)"
        case .anonymousType: return "the root type is anonymous, so it has no target candidates"
        case .ambiguousCandidates(let detail): return "target candidates disagree: \(detail)"
        case .instructionMismatch(let detail): return "unexpected instruction: \(detail)"
        case .unpatchableInstruction(let opcode): return "instruction with opcode 0x\(String(opcode, radix: 16)) cannot be relocated"
        case .instructionOutOfRange(let count): return "the instruction is outside the program (\(count) instructions)"
        case .valueOutOfRange(let value): return "new value \(value) does not fit the instruction"
        case .bitfieldTooWide: return "the bitfield cannot be read with one load of at most 8 bytes"
        case .badTargetType(let detail): return "bad target BTF: \(detail)"
        }
    }
}

extension COREError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .targetUnavailable(let path, let reason):
            return "CO-RE: cannot use target BTF \(path): \(reason) (give another with --btf PATH)"
        case .relocationFailed(let f):
            return "CO-RE: program \(f.program): relocation at instruction \(f.instruction) (\(f.kind) of \(f.type), access \(f.accessString)): \(f.reason)"
        case .missingAttachFunction(let program, let function):
            return "program \(program) attaches to \(function), which the kernel's BTF does not have (the kernel lacks this iterator or hook)"
        }
    }
}
