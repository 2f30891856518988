import CBPF
import SystemPackage
import Testing
@testable import BPFLoader
import BPFObject

/// Typed attachments: attach, detach and query encode target, type, flags and replace fd.
@Suite("attachments (mock kernel)")
struct AttachmentTests {
    @Test func cgroupAttachEncodesTargetTypeAndFlags() throws {
        let program = testProgram(), cgroup = FileDescriptor(rawValue: MockKernel.newFD())
        defer { try? cgroup.close() }
        let kernel = MockKernel { _, _, _ in .success(0) }
        let attachment = try kernel.run { try program.attach(toCgroup: cgroup, type: .cgroupSockOps, flags: .allowMulti) }
        let attr = kernel.calls[0].attr
        #expect(kernel.commands == [.progAttach])
        #expect(attr.target_fd == field(cgroup) && attr.attach_bpf_fd == field(program.fd))
        #expect(attr.attach_type == AttachType.cgroupSockOps.rawValue && attr.attach_flags == 2)
        #expect(attr.replace_bpf_fd == 0)
        #expect(attachment.type == .cgroupSockOps && attachment.target == cgroup)

        try kernel.run { try attachment.detach() }
        let detach = kernel.calls[1].attr
        #expect(kernel.commands == [.progAttach, .progDetach])
        #expect(detach.target_fd == field(cgroup) && detach.attach_bpf_fd == field(program.fd))
        #expect(detach.attach_type == AttachType.cgroupSockOps.rawValue)
    }

    @Test func replacingPassesTheOldProgramAndTheReplaceFlag() throws {
        let old = testProgram("old"), new = testProgram("new"), cgroup = FileDescriptor(rawValue: MockKernel.newFD())
        defer { try? cgroup.close() }
        let kernel = MockKernel { _, _, _ in .success(0) }
        try kernel.run {
            _ = try new.attach(toCgroup: cgroup, type: .cgroupSockOps, flags: [.allowMulti, .replace], replacing: old)
        }
        let attr = kernel.calls[0].attr
        #expect(attr.attach_flags == AttachFlags([.allowMulti, .replace]).rawValue && attr.attach_flags == 6)
        #expect(attr.replace_bpf_fd == field(old.fd) && attr.attach_bpf_fd == field(new.fd))
    }

    @Test func mapAttachAndDetach() throws {
        let program = testProgram(type: .skMsg), map = testMap(.sockhash)
        let kernel = MockKernel { _, _, _ in .success(0) }
        let attachment = try kernel.run { try program.attach(toMap: map, type: .skMsgVerdict) }
        try kernel.run { try attachment.detach() }
        for call in kernel.calls {
            #expect(call.attr.target_fd == field(map.fd) && call.attr.attach_bpf_fd == field(program.fd))
            #expect(call.attr.attach_type == AttachType.skMsgVerdict.rawValue && call.attr.attach_flags == 0)
        }
        #expect(kernel.commands == [.progAttach, .progDetach])
    }

    @Test func aRejectedAttachmentSaysSo() {
        let kernel = MockKernel { _, _, _ in .failure(.invalidArgument) }
        let error = #expect(throws: BPFError.self) {
            try kernel.run { _ = try testProgram().attach(toMap: testMap(.sockhash), type: .skMsgVerdict, context: "attach it") }
        }
        #expect(error?.description == "attach it: BPF_PROG_ATTACH failed: \(Errno.invalidArgument) (errno 22) — the kernel rejected the attachment")
    }

    @Test(arguments: [false, true])
    func cgroupQueryDecodesTheIDsTheKernelWrote(effective: Bool) throws {
        let cgroup = FileDescriptor(rawValue: MockKernel.newFD())
        defer { try? cgroup.close() }
        let kernel = MockKernel { _, attr, _ in
            MockKernel.write([7, 0, 0, 0, 0x10, 0x27, 0, 0], at: attr.query.prog_ids)
            attr.query.prog_cnt = 2
            return .success(0)
        }
        let ids = try kernel.run { try CgroupAttachment.query(cgroup: cgroup, type: .cgroupSockOps, effective: effective) }
        #expect(ids == [ProgramID(rawValue: 7), ProgramID(rawValue: 10_000)])
        let attr = kernel.calls[0].attr
        #expect(kernel.commands == [.progQuery])
        #expect(attr.query.target_fd == field(cgroup) && attr.query.attach_type == AttachType.cgroupSockOps.rawValue)
        #expect(attr.query.query_flags == (effective ? 1 : 0) && attr.query.prog_cnt == 64)
    }

    @Test func mapQueryWithNothingAttachedIsEmpty() throws {
        let map = testMap(.sockhash)
        let kernel = MockKernel { _, attr, _ in
            attr.query.prog_cnt = 0
            return .success(0)
        }
        #expect(try kernel.run { try MapAttachment.query(map: map, type: .skSkbStreamParser) }.isEmpty)
        #expect(kernel.calls[0].attr.query.target_fd == field(map.fd))
        #expect(kernel.calls[0].attr.query.attach_type == AttachType.skSkbStreamParser.rawValue)
    }
}
