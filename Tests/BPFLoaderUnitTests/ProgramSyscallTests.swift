import CBPF
import SystemPackage
import Testing
@testable import BPFLoader
@testable import BPFObject

/// `BPF_PROG_LOAD` with its verifier-log retries, and `BPF_PROG_TEST_RUN`, through the seam.
@Suite("program syscalls (mock kernel)")
struct ProgramSyscallTests {
    static let exit: [UInt8] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0] // r0 = 0; exit

    static func attributes(btf: Int32? = nil) -> BPFSyscall.ProgramAttributes {
        BPFSyscall.ProgramAttributes(type: .skMsg, instructions: exit, license: "Dual BSD/GPL", kernelVersion: 0x050f00,
                                     name: "sockmap_redirect", expectedAttachType: .skMsgVerdict, btfFD: btf)
    }

    @Test func loadEncodesTheProgramWithoutALogFirst() throws {
        let kernel = MockKernel { _, attr, _ in
            #expect(MockKernel.bytes(at: attr.insns, count: 16) == Self.exit)
            #expect(MockKernel.string(at: attr.license) == "Dual BSD/GPL")
            return .success(MockKernel.newFD())
        }
        _ = try kernel.run { try BPFSyscall.loadProgram(Self.attributes()) }
        let attr = try #require(kernel.calls.first).attr
        #expect(kernel.commands == [.progLoad])
        #expect(attr.prog_type == ProgramType.skMsg.rawValue && attr.insn_cnt == 2)
        #expect(attr.expected_attach_type == AttachType.skMsgVerdict.rawValue && attr.kern_version == 0x050f00)
        #expect(nameString(attr.prog_name) == "sockmap_redirec")
        #expect(attr.log_level == 0 && attr.log_size == 0 && attr.log_buf == 0)
        #expect(attr.prog_btf_fd == 0 && attr.func_info == 0 && attr.line_info == 0)
    }

    @Test func aRejectionIsRetriedWithAGrowingLogThatEndsInTheError() throws {
        let kernel = MockKernel { _, attr, call in
            switch call {
            case 0: return .failure(.invalidArgument)
            case 1: return .failure(.noSpace) // log too small
            default:
                MockKernel.write(Array("0: R1 invalid mem access 'scalar'\n".utf8) + [0], at: attr.log_buf)
                return .failure(.permissionDenied)
            }
        }
        let error = #expect(throws: BPFError.self) { try kernel.run { try BPFSyscall.loadProgram(Self.attributes()) } }
        let sizes: [UInt32] = [0, 1 << 20, 4 << 20]
        #expect(kernel.calls.map(\.attr.log_size) == sizes)
        #expect(kernel.calls.map(\.attr.log_level) == [0, 1, 1])
        #expect(error?.command == .progLoad && error?.errno == .permissionDenied)
        #expect(error?.context == "load program sockmap_redirect")
        #expect(error?.verifierLog == "0: R1 invalid mem access 'scalar'\n")
        #expect(error?.description.contains("verifier log (last lines):\n0: R1 invalid mem access 'scalar'") == true)
    }

    @Test func theLogStopsGrowingAtItsLimit() {
        let kernel = MockKernel { _, _, call in .failure(call == 0 ? .invalidArgument : .noSpace) }
        let error = #expect(throws: BPFError.self) { try kernel.run { try BPFSyscall.loadProgram(Self.attributes()) } }
        let sizes: [UInt32] = [0, 1 << 20, 1 << 22, 1 << 24, 1 << 26, 1 << 28]
        #expect(kernel.calls.map(\.attr.log_size) == sizes)
        #expect(error?.errno == .noSpace)
    }

    @Test func aLoadThatSucceedsWithALogReturnsTheProgram() throws {
        let kernel = MockKernel { _, _, call in call == 0 ? .failure(.invalidArgument) : .success(MockKernel.newFD()) }
        _ = try kernel.run { try BPFSyscall.loadProgram(Self.attributes()) }
        #expect(kernel.commands.count == 2)
    }

    @Test func EPERMIsNotRetried() {
        let kernel = MockKernel { _, _, _ in .failure(.notPermitted) }
        let error = #expect(throws: BPFError.self) { try kernel.run { try BPFSyscall.loadProgram(Self.attributes()) } }
        #expect(kernel.commands == [.progLoad])
        #expect(error?.errno == .notPermitted && error?.verifierLog == nil)
    }

    @Test func funcAndLineInfoGoAlongOnlyWithBTF() throws {
        var withoutBTF = Self.attributes()
        withoutBTF.funcInfo = [UInt8](repeating: 0, count: 8)
        withoutBTF.funcInfoRecordSize = 8
        var withBTF = Self.attributes(btf: MockKernel.newFD())
        withBTF.funcInfo = [UInt8](repeating: 0, count: 16)
        withBTF.funcInfoRecordSize = 8
        withBTF.lineInfo = [UInt8](repeating: 0, count: 48)
        withBTF.lineInfoRecordSize = 16
        let kernel = MockKernel()
        _ = try kernel.run { try BPFSyscall.loadProgram(withoutBTF) }
        _ = try kernel.run { try BPFSyscall.loadProgram(withBTF) }
        let (plain, annotated) = (kernel.calls[0].attr, kernel.calls[1].attr)
        #expect(plain.func_info == 0 && plain.func_info_cnt == 0)
        #expect(annotated.prog_btf_fd == UInt32(withBTF.btfFD!))
        #expect(annotated.func_info != 0 && annotated.func_info_cnt == 2 && annotated.func_info_rec_size == 8)
        #expect(annotated.line_info != 0 && annotated.line_info_cnt == 3 && annotated.line_info_rec_size == 16)
    }

    @Test func mapReferencesArePatchedWithTheMapsFDs() throws {
        let instructions = [Instruction(opcode: Instruction.loadImm64, registers: 1, offset: 0, immediate: 0),
                            Instruction(opcode: 0, registers: 0, offset: 0, immediate: 0),
                            Instruction(opcode: 0xb7, registers: 0, offset: 0, immediate: 0),
                            Instruction(opcode: 0x95, registers: 0, offset: 0, immediate: 0)]
        let spec = ProgramSpec(name: "prog", sectionName: "sk_msg", type: .skMsg, expectedAttachType: nil,
                               defaultAttachType: nil, instructions: instructions,
                               mapReferences: [MapReference(instruction: 0, mapName: "sock_hash", kind: .fd)],
                               license: "GPL", kernelVersion: 0)
        let map = testMap(.sockhash)
        let kernel = MockKernel { _, attr, _ in
            let first = MockKernel.bytes(at: attr.insns, count: 8)
            #expect(first[1] >> 4 == Instruction.pseudoMapFD)
            #expect(Int32(first[4]) | Int32(first[5]) << 8 == map.fd.rawValue)
            return .success(MockKernel.newFD())
        }
        let program = try kernel.run { try BPFProgram(loading: spec, maps: ["sock_hash": map]) }
        #expect(program.name == "prog" && program.type == .skMsg)
        let missing = #expect(throws: BPFError.self) { try kernel.run { try BPFProgram(loading: spec, maps: [:]) } }
        #expect(missing?.context.contains("map sock_hash was not created") == true)
        #expect(kernel.commands == [.progLoad]) // the second load never reached the kernel
    }

    @Test func testRunPassesThePacketAndReturnsTheRetval() throws {
        let program = testProgram(type: .socketFilter)
        let kernel = MockKernel { _, attr, _ in
            #expect(MockKernel.bytes(at: attr.test.data_in, count: Int(attr.test.data_size_in)) == [1, 2, 3])
            attr.test.retval = 42
            return .success(0)
        }
        #expect(try kernel.run { try program.testRun(packet: [1, 2, 3]) } == 42)
        let attr = kernel.calls[0].attr
        #expect(kernel.commands == [.progTestRun])
        #expect(attr.test.prog_fd == field(program.fd) && attr.test.repeat == 1 && attr.test.data_size_out == 3 + 256)
    }
}
