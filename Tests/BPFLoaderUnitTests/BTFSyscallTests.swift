import CBPF
import SystemPackage
import Testing
@testable import BPFLoader

/// `BPF_BTF_LOAD` and its retry with the kernel's BTF log, through the seam.
@Suite("BTF syscalls (mock kernel)")
struct BTFSyscallTests {
    static let blob: [UInt8] = [0x9f, 0xeb, 1, 0, 24, 0, 0, 0] + [UInt8](repeating: 0, count: 16)

    @Test func loadPassesTheBlobWithoutALog() throws {
        let kernel = MockKernel { _, attr, _ in
            #expect(MockKernel.bytes(at: attr.btf, count: Int(attr.btf_size)) == Self.blob)
            return .success(MockKernel.newFD())
        }
        _ = try kernel.run { try BPFSyscall.loadBTF(Self.blob) }
        #expect(kernel.commands == [.btfLoad])
        #expect(kernel.calls[0].attr.btf_log_size == 0 && kernel.calls[0].attr.btf_log_buf == 0)
    }

    @Test func aRefusalIsRetriedWithALogAndReportsTheFirstErrno() {
        let kernel = MockKernel { _, attr, call in
            if call == 0 { return .failure(.invalidArgument) }
            MockKernel.write(Array("[1] INT int size=4\nInvalid btf_info kind_flag\n".utf8) + [0], at: attr.btf_log_buf)
            return .failure(.noSpace)
        }
        let error = #expect(throws: BPFError.self) { try kernel.run { try BPFSyscall.loadBTF(Self.blob) } }
        let sizes: [UInt32] = [0, 1 << 22]
        #expect(kernel.calls.map(\.attr.btf_log_size) == sizes)
        #expect(kernel.calls.map(\.attr.btf_log_level) == [0, 1])
        #expect(error?.command == .btfLoad && error?.errno == .invalidArgument)
        #expect(error?.verifierLog?.hasSuffix("Invalid btf_info kind_flag\n") == true)
    }

    @Test func aLoadThatSucceedsWithALogReturnsTheBTF() throws {
        let kernel = MockKernel { _, _, call in call == 0 ? .failure(.noSpace) : .success(MockKernel.newFD()) }
        _ = try kernel.run { try BPFSyscall.loadBTF(Self.blob) }
        #expect(kernel.commands == [.btfLoad, .btfLoad])
    }
}
