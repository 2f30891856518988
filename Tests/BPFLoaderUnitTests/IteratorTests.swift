import CBPF
import SystemPackage
import Testing
@testable import BPFLoader
@testable import BPFObject

/// Iterator programs: the attach function's BTF id in the load, the link and each run's iteration.
@Suite("iterators (mock kernel)")
struct IteratorTests {
    @Test func aTracingProgramIsLoadedWithItsAttachBTFID() throws {
        var spec = ProgramSpec(name: "sweep", sectionName: "iter/tcp", type: .tracing, expectedAttachType: .traceIter,
                               defaultAttachType: nil,
                               instructions: [Instruction(opcode: 0xB7, registers: 0, offset: 0, immediate: 0),
                                              Instruction(opcode: 0x95, registers: 0, offset: 0, immediate: 0)],
                               mapReferences: [], license: "GPL", kernelVersion: 0)
        spec.attachFunction = "bpf_iter_tcp"
        spec.attachBTFID = 4321
        let kernel = MockKernel()
        _ = try kernel.run { try BPFProgram(loading: spec, maps: [:]) }
        let attr = kernel.calls[0].attr
        #expect(kernel.commands == [.progLoad])
        #expect(attr.prog_type == ProgramType.tracing.rawValue && attr.prog_type == 26)
        #expect(attr.expected_attach_type == AttachType.traceIter.rawValue && attr.expected_attach_type == 28)
        #expect(attr.attach_btf_id == 4321)
    }

    @Test func theLinkNamesTheProgramAndEachRunCreatesAnIterationOfIt() throws {
        let program = testProgram("sweep", type: .tracing)
        let kernel = MockKernel() // every call: a new descriptor of /dev/null, which reads as empty
        let link = try kernel.run { try IteratorLink(program: program) }
        #expect(kernel.commands == [.linkCreate])
        #expect(kernel.calls[0].attr.link_create.prog_fd == field(program.fd))
        #expect(kernel.calls[0].attr.link_create.attach_type == AttachType.traceIter.rawValue)
        #expect(kernel.calls[0].attr.link_create.target_fd == 0)

        let output = try kernel.run { try link.run() }
        #expect(output.isEmpty)
        #expect(kernel.commands == [.linkCreate, .iterCreate])
        #expect(kernel.calls[1].attr.iter_create.link_fd == field(link.object.fd))
    }

    @Test func aRefusedLinkIsABPFErrorNamingTheProgram() {
        let kernel = MockKernel { _, _, _ in .failure(.notPermitted) }
        let error = #expect(throws: BPFError.self) { try kernel.run { try IteratorLink(program: testProgram("sweep", type: .tracing)) } }
        #expect(error?.command == .linkCreate && error?.errno == .notPermitted)
        #expect(error?.context == "link iterator sweep")
    }
}
