import Foundation
import TestSupport
import Testing
@testable import BPFLoader
@testable import BPFObject

/// The CO-RE resolver without a kernel: small local and target BTFs built here that differ in
/// one way each, and the fixture's relocations against a copy of the kernel's BTF.
@Suite("CO-RE resolver")
struct CORERelocatorTests {
    typealias Kind = CORERelocation.Kind

    static func resolve(_ kind: Kind, _ access: String, type: Int, local: BTFSpec, target: BTFSpec) throws(COREFailure.Reason) -> COREResolution {
        try CORERelocator.resolve(CORERelocation(instruction: 0, typeID: type, accessString: access, kind: kind),
                                  local: local, target: CORETargetBTF(btf: target))
    }

    /// Local `struct sock___v510 { int a; int b; }`; target `struct sock { long x; int b; int a; }`.
    static func flavoured() throws -> (local: BTFSpec, target: BTFSpec, sock: Int) {
        var l = BTFBuilder()
        let lint = l.int("int", size: 4, signed: true)
        let sock = l.structure("sock___v510", size: 8, [("a", lint, 0, 0), ("b", lint, 32, 0)])
        var t = BTFBuilder()
        let tint = t.int("int", size: 4, signed: true), tlong = t.int("long", size: 8, signed: true)
        _ = t.structure("sock", size: 16, [("x", tlong, 0, 0), ("b", tint, 64, 0), ("a", tint, 96, 0)])
        return (try l.spec(), try t.spec(), sock)
    }

    @Test func essentialNames() {
        #expect(CORETargetBTF.essentialName("sock___v510") == "sock")
        #expect(CORETargetBTF.essentialName("task_struct___2") == "task_struct")
        #expect(CORETargetBTF.essentialName("a___b___c") == "a___b")
        #expect(CORETargetBTF.essentialName("sock") == "sock")
        #expect(CORETargetBTF.essentialName("sock___") == "sock___")
        #expect(CORETargetBTF.essentialName("____x") == "____x")
        #expect(CORETargetBTF.essentialName("") == "")
    }

    @Test func flavouredTypeFindsTheKernelsFieldOffsets() throws {
        let (local, target, sock) = try Self.flavoured()
        let b = try Self.resolve(.fieldByteOffset, "0:1", type: sock, local: local, target: target)
        #expect((b.original, b.value, b.poison) == (4, 8, false))
        let a = try Self.resolve(.fieldByteOffset, "0:0", type: sock, local: local, target: target)
        #expect((a.original, a.value) == (0, 12))
        #expect(try Self.resolve(.fieldByteSize, "0:1", type: sock, local: local, target: target).value == 4)
        #expect(try Self.resolve(.fieldSigned, "0:1", type: sock, local: local, target: target).value == 1)
        #expect(try Self.resolve(.fieldExists, "0:1", type: sock, local: local, target: target).value == 1)
        // The root element index scales by the target's size: &s[2].b.
        #expect(try Self.resolve(.fieldByteOffset, "2:1", type: sock, local: local, target: target).value == 2 * 16 + 8)
    }

    @Test func missingFieldPoisonsUnlessAskedWhetherItExists() throws {
        var l = BTFBuilder()
        let lint = l.int("int", size: 4)
        let s = l.structure("s", size: 8, [("here", lint, 0, 0), ("gone", lint, 32, 0)])
        var t = BTFBuilder()
        _ = t.structure("s", size: 4, [("here", t.int("int", size: 4), 0, 0)])
        let (local, target) = (try l.spec(), try t.spec())
        #expect(try Self.resolve(.fieldExists, "0:1", type: s, local: local, target: target).value == 0)
        #expect(try Self.resolve(.fieldByteOffset, "0:1", type: s, local: local, target: target).poison)

        var program = [Instruction(opcode: 0x61, registers: 0x10, offset: 4, immediate: 0), BTFBuilderCode.exit]
        try CORERelocator.patch(&program, at: 0, with: try Self.resolve(.fieldByteOffset, "0:1", type: s, local: local, target: target))
        #expect(program[0] == Instruction(opcode: 0x85, registers: 0, offset: 0, immediate: 0xBAD_2310))
        var load = [Instruction(opcode: 0x18, registers: 1, offset: 0, immediate: 4), Instruction(opcode: 0, registers: 0, offset: 0, immediate: 0)]
        try CORERelocator.patch(&load, at: 0, with: try Self.resolve(.fieldByteOffset, "0:1", type: s, local: local, target: target))
        #expect(load.allSatisfy { $0.opcode == 0x85 && $0.immediate == CORERelocator.poisonHelperID })

        // The program remembers which relocations it poisoned, to explain a verifier rejection.
        let relocation = CORERelocation(instruction: 0, typeID: s, accessString: "0:1", kind: .fieldByteOffset)
        let spec = ProgramSpec(name: "p", sectionName: "socket", type: .socketFilter,
                               instructions: [Instruction(opcode: 0x61, registers: 0x10, offset: 4, immediate: 0), BTFBuilderCode.exit],
                               mapReferences: [], license: "GPL", kernelVersion: 0, coreRelocations: [relocation])
        let applied = try CORERelocator.apply(to: spec, local: local, target: CORETargetBTF(btf: target))
        #expect(applied.poisonedCORE == [relocation])
        #expect(CORERelocator.explainPoison(in: applied).contains("instruction 0 is a poisoned CO-RE relocation (byte_off, access 0:1)"))
    }

    @Test func bitfields() throws {
        var l = BTFBuilder()
        let lu = l.int("unsigned int", size: 4)
        let s = l.structure("flags", size: 4, [("a", lu, 0, 1), ("b", lu, 1, 2)])
        var t = BTFBuilder()
        let tu = t.int("unsigned int", size: 4)
        _ = t.structure("flags", size: 8, [("pad", tu, 0, 30), ("b", tu, 30, 4), ("a", tu, 34, 1)])
        let (local, target) = (try l.spec(), try t.spec())
        func value(_ kind: Kind, _ access: String) throws -> UInt64 { try Self.resolve(kind, access, type: s, local: local, target: target).value }
        // b: bits 30..33 straddle the first u32, so the load widens to 8 bytes at offset 0.
        #expect(try value(.fieldByteSize, "0:1") == 8)
        #expect(try value(.fieldByteOffset, "0:1") == 0)
        #expect(try value(.fieldLShiftU64, "0:1") == 64 - 34)
        #expect(try value(.fieldRShiftU64, "0:1") == 60)
        // a: bit 34 of a u32 at offset 4.
        #expect(try value(.fieldByteOffset, "0:0") == 4)
        #expect(try value(.fieldLShiftU64, "0:0") == 64 - (34 + 1 - 32))
        #expect(try value(.fieldRShiftU64, "0:0") == 63)
        // Bitfield offsets are not validated against the instruction (clang may choose another load).
        #expect(try Self.resolve(.fieldByteOffset, "0:1", type: s, local: local, target: target).validate == false)
    }

    @Test func anonymousMembersAreSearchedAndArraysIndexed() throws {
        var l = BTFBuilder()
        let lint = l.int("int", size: 4)
        let larr = l.array(of: lint, count: 4, index: lint)
        let s = l.structure("outer", size: 16, [("items", larr, 0, 0)])
        var t = BTFBuilder()
        let tint = t.int("int", size: 4)
        let tarr = t.array(of: tint, count: 8, index: tint)
        let inner = t.structure("", size: 32, union: true, [("items", tarr, 0, 0)])
        _ = t.structure("outer", size: 40, [("x", tint, 0, 0), ("", inner, 64, 0)])
        let (local, target) = (try l.spec(), try t.spec())
        #expect(try Self.resolve(.fieldByteOffset, "0:0:3", type: s, local: local, target: target).value == 8 + 12)
        #expect(try Self.resolve(.fieldByteSize, "0:0:3", type: s, local: local, target: target).value == 4)
        #expect(try Self.resolve(.fieldByteSize, "0:0", type: s, local: local, target: target).value == 32)
    }

    @Test func typeRelocations() throws {
        let (local, target, sock) = try Self.flavoured()
        func value(_ kind: Kind, _ type: Int = sock) throws -> UInt64 { try Self.resolve(kind, "0", type: type, local: local, target: target).value }
        #expect(try value(.typeExists) == 1)
        #expect(try value(.typeSize) == 16)
        #expect(try value(.typeIDLocal) == UInt64(sock))
        #expect(try value(.typeIDTarget) == 3)
        #expect(try Self.resolve(.typeIDTarget, "0", type: sock, local: local, target: target).validate == false)
        // Every local member has a namesake of the same type in the target: it matches.
        #expect(try value(.typeMatches) == 1)

        var l = BTFBuilder()
        let lid = l.structure("absent", size: 4, [("x", l.int("int", size: 4), 0, 0)])
        let strict = l.structure("sock", size: 4, [("b", l.int("short", size: 2, signed: true), 0, 0)])
        let other = try l.spec()
        #expect(try Self.resolve(.typeExists, "0", type: lid, local: other, target: target).value == 0)
        #expect(try Self.resolve(.typeSize, "0", type: lid, local: other, target: target).value == 0)
        #expect(try Self.resolve(.typeIDTarget, "0", type: lid, local: other, target: target).value == 0)
        #expect(try Self.resolve(.typeExists, "0", type: strict, local: other, target: target).value == 1)
        #expect(try Self.resolve(.typeMatches, "0", type: strict, local: other, target: target).value == 0, "int sizes differ")
    }

    @Test func enumValues() throws {
        var l = BTFBuilder()
        let e = l.enumeration("color___local", [("RED___local", 1), ("MAUVE___local", 2)])
        let big = l.enumeration("wide", [("HUGE", 1)])
        var t = BTFBuilder()
        _ = t.enumeration("color", [("GREEN", 5), ("RED", -7)])
        _ = t.enum64("wide", [("HUGE", 1 << 40)])
        let (local, target) = (try l.spec(), try t.spec())
        #expect(try Self.resolve(.enumValueExists, "0", type: e, local: local, target: target).value == 1)
        #expect(try Self.resolve(.enumValue, "0", type: e, local: local, target: target).value == UInt64(bitPattern: -7))
        #expect(try Self.resolve(.enumValueExists, "1", type: e, local: local, target: target).value == 0)
        #expect(try Self.resolve(.enumValue, "1", type: e, local: local, target: target).poison)
        // ENUM and ENUM64 stand for each other; a 64-bit value fills both halves of an ld_imm64.
        var load = [Instruction(opcode: 0x18, registers: 1, offset: 0, immediate: 1), Instruction(opcode: 0, registers: 0, offset: 0, immediate: 0)]
        try CORERelocator.patch(&load, at: 0, with: try Self.resolve(.enumValue, "0", type: big, local: local, target: target))
        #expect((load[0].immediate, load[1].immediate) == (0, 1 << 8))
    }

    @Test func candidatesMustAgree() throws {
        var l = BTFBuilder()
        let s = l.structure("s", size: 4, [("f", l.int("int", size: 4), 0, 0)])
        var t = BTFBuilder()
        let tint = t.int("int", size: 4)
        _ = t.structure("s", size: 4, [("f", tint, 0, 0)])
        _ = t.structure("s___other", size: 8, [("g", tint, 0, 0), ("f", tint, 32, 0)])
        let (local, target) = (try l.spec(), try t.spec())
        #expect(throws: COREFailure.Reason.ambiguousCandidates("bit offset 0 in type 2, 32 in type 3")) {
            try Self.resolve(.fieldByteOffset, "0:0", type: s, local: local, target: target)
        }
        // Candidates that agree are fine.
        var same = BTFBuilder()
        let sint = same.int("int", size: 4)
        _ = same.structure("s", size: 4, [("f", sint, 0, 0)])
        _ = same.structure("s___other", size: 8, [("f", sint, 0, 0), ("g", sint, 32, 0)])
        #expect(try Self.resolve(.fieldByteOffset, "0:0", type: s, local: local, target: try same.spec()).value == 0)
    }

    @Test func loadWidthFollowsUnsignedFields() throws {
        var l = BTFBuilder()
        let s = l.structure("s", size: 8, [("n", l.int("unsigned long", size: 8), 0, 0), ("m", l.int("long", size: 8, signed: true), 64, 0)])
        var t = BTFBuilder()
        _ = t.structure("s", size: 8, [("n", t.int("unsigned int", size: 4), 0, 0), ("m", t.int("int", size: 4, signed: true), 32, 0)])
        let (local, target) = (try l.spec(), try t.spec())
        var program = [Instruction(opcode: 0x79, registers: 0x21, offset: 0, immediate: 0), Instruction(opcode: 0x79, registers: 0x21, offset: 8, immediate: 0)]
        try CORERelocator.patch(&program, at: 0, with: try Self.resolve(.fieldByteOffset, "0:0", type: s, local: local, target: target))
        #expect(program[0] == Instruction(opcode: 0x61, registers: 0x21, offset: 0, immediate: 0), "u64 load narrowed to u32")
        // A signed field cannot be narrowed: poisoned.
        try CORERelocator.patch(&program, at: 1, with: try Self.resolve(.fieldByteOffset, "0:1", type: s, local: local, target: target))
        #expect(program[1].immediate == CORERelocator.poisonHelperID)
    }

    @Test func errorsNameTheRelocation() throws {
        let (local, target, sock) = try Self.flavoured()
        let instructions = [Instruction(opcode: 0x61, registers: 0x10, offset: 12, immediate: 0), BTFBuilderCode.exit]
        let program = ProgramSpec(name: "prog", sectionName: "socket", type: .socketFilter, instructions: instructions,
                                  mapReferences: [], license: "GPL", kernelVersion: 0,
                                  coreRelocations: [CORERelocation(instruction: 0, typeID: sock, accessString: "0:1", kind: .fieldByteOffset)])
        let error = try #require(throws: COREError.self) { try CORERelocator.apply(to: program, local: local, target: CORETargetBTF(btf: target)) }
        guard case .relocationFailed(let failure) = error else { Issue.record("\(error)"); return }
        #expect(failure.reason == .instructionMismatch("the memory offset is 12, the object's BTF gives 4 (target: 8)"))
        for fragment in ["program prog", "instruction 0", "byte_off", "struct sock___v510", "access 0:1", "memory offset is 12"] {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
        var fixed = program
        fixed.instructions[0].offset = 4
        let applied = try CORERelocator.apply(to: fixed, local: local, target: CORETargetBTF(btf: target))
        #expect(applied.instructions[0].offset == 8)
        #expect(applied.coreRelocations.isEmpty)
    }

    @Test func malformedRelocations() throws {
        let (local, target, sock) = try Self.flavoured()
        func reason(_ kind: Kind, _ access: String, type: Int = sock) -> COREFailure.Reason? {
            do { _ = try Self.resolve(kind, access, type: type, local: local, target: target); return nil } catch { return error }
        }
        #expect(reason(.fieldByteOffset, "0:x") == .badAccessString("\"x\" is not an index"))
        #expect(reason(.fieldByteOffset, "0::1") == .badAccessString("\"\" is not an index"))
        #expect(reason(.fieldByteOffset, "-1") == .badAccessString("\"-1\" is not an index"))
        #expect(reason(.fieldByteOffset, "0:2") == .badAccessString("level 1: member 2 of 2 in type \(sock)"))
        #expect(reason(.fieldByteOffset, "0:0:0") == .badAccessString("level 2: type 1 is neither a struct, a union nor an array"))
        #expect(reason(.fieldByteOffset, Array(repeating: "0", count: 65).joined(separator: ":")) == .badAccessString("more than 64 levels"))
        #expect(reason(.fieldByteOffset, "99999999999999999999") == .badAccessString("\"99999999999999999999\" is not an index"))
        #expect(reason(.typeSize, "1") == .badAccessString("a type relocation's access string must be \"0\""))
        #expect(reason(.enumValue, "0") == .badLocalType("type \(sock) is not an enum"))
        #expect(reason(.init(rawValue: 99), "0:0") == .unsupportedKind)
        #expect(reason(.fieldByteOffset, "0", type: 0) == .badLocalType("type 0 does not exist"))
        #expect(reason(.fieldByteOffset, "0", type: 1000) == .badLocalType("type 1000 does not exist"))
        #expect(reason(.fieldLShiftU64, "0") == .badAccessString("lshift_u64 cannot be applied to an array element"))

        var l = BTFBuilder()
        let anonymous = l.structure("", size: 4, [("x", l.int("int", size: 4), 0, 0)])
        let anonymousSpec = try l.spec()
        #expect(throws: COREFailure.Reason.anonymousType) {
            try Self.resolve(.fieldByteOffset, "0:0", type: anonymous, local: anonymousSpec, target: target)
        }

        var program = [Instruction(opcode: 0x0F, registers: 0x21, offset: 0, immediate: 0)] // r1 += r2
        let resolution = try Self.resolve(.fieldByteOffset, "0:0", type: sock, local: local, target: target)
        #expect(throws: COREFailure.Reason.unpatchableInstruction(opcode: 0x0F)) { try CORERelocator.patch(&program, at: 0, with: resolution) }
        #expect(throws: COREFailure.Reason.instructionOutOfRange(count: 1)) { try CORERelocator.patch(&program, at: 5, with: resolution) }
        var halfLoad = [Instruction(opcode: 0x18, registers: 1, offset: 0, immediate: 0)]
        #expect(throws: COREFailure.Reason.instructionMismatch("the ld_imm64 has an unexpected form")) {
            try CORERelocator.patch(&halfLoad, at: 0, with: resolution)
        }
        var far = COREResolution(original: 0, value: 40000)
        far.validate = false
        var store = [Instruction(opcode: 0x63, registers: 0x21, offset: 0, immediate: 0)]
        #expect(throws: COREFailure.Reason.valueOutOfRange(40000)) { try CORERelocator.patch(&store, at: 0, with: far) }
    }

    /// Every relocation of the CO-RE fixture against a copy of this machine's kernel BTF (no
    /// bpf(2) needed): all resolve, and the flavoured `struct sock___core` lands on the kernel's
    /// `struct sock`.
    @Test(.enabled(if: FileManager.default.isReadableFile(atPath: CORETargetBTF.kernelPath) || ProcessInfo.processInfo.environment["CI"] == "true", "needs /sys/kernel/btf/vmlinux to copy (always runs in CI)"))
    func fixtureAgainstACopyOfTheKernelsBTF() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("swift-sockmap-vmlinux-\(getpid()).btf").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: CORETargetBTF.kernelPath, toPath: copy)
        let target = try CORETargetBTF(path: copy)
        let spec = try ObjectSpec(path: PackageLayout.fixture("libbpf_core"))
        let local = try #require(spec.btf)
        let kinds = try #require(spec.program(named: "core_kinds"))
        #expect(Set(kinds.coreRelocations.map(\.kind)).isSuperset(of: [.fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned,
                                                                       .fieldLShiftU64, .fieldRShiftU64, .typeIDLocal, .typeIDTarget,
                                                                       .typeExists, .typeSize, .enumValueExists, .enumValue]))
        let sock = try #require(target.btf.types.first { $0.rawKind == .structure && $0.name == "sock" })
        let rcvbuf = try #require(sock.members.firstIndex { $0.name == "sk_rcvbuf" })
        for relocation in kinds.coreRelocations {
            let resolution = try CORERelocator.resolve(relocation, local: local, target: target)
            let root = local.types[relocation.typeID]
            if root.name == "sock___core", relocation.kind == .fieldByteOffset, relocation.accessString == "0:0" {
                #expect(resolution.value == UInt64(sock.members[rcvbuf].bitOffset / 8))
            }
            if relocation.kind == .typeIDTarget { #expect(resolution.value == UInt64(sock.id)) }
        }
        let relocated = try spec.relocatingCORE(against: target)
        #expect(!relocated.needsCORE)
        #expect(relocated.programs.map(\.name) == spec.programs.map(\.name))
    }
}

enum BTFBuilderCode {
    static let exit = Instruction(opcode: 0x95, registers: 0, offset: 0, immediate: 0)
}
