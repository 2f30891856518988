import BPFObject
internal import CBPF
import SystemPackage

extension BPFSyscall {
    /// Parameters of `BPF_PROG_LOAD`.
    struct ProgramAttributes: Sendable {
        var type: ProgramType
        var instructions: [UInt8]
        var license: String
        var kernelVersion: UInt32
        var name: String
        var expectedAttachType: AttachType?
        var btfFD: Int32?
        /// `attach_btf_id`: the kernel BTF function a tracing program attaches to (0: none).
        var attachBTFID: UInt32 = 0
        var funcInfo: [UInt8] = []
        var funcInfoRecordSize: UInt32 = 0
        var lineInfo: [UInt8] = []
        var lineInfoRecordSize: UInt32 = 0
    }

    /// The first verifier log size tried after a failed load, and the largest (the kernel's
    /// limit is `UINT_MAX >> 2`); the log grows fourfold while the kernel says `ENOSPC`.
    static let programLogSizes = (first: 1 << 20, limit: 1 << 28)

    /// Loads a program. On failure the load is retried with the verifier log enabled (from
    /// `firstLogSize` bytes, growing while the log does not fit) and the log is returned inside
    /// the error; `EPERM` is not retried, as no log would explain it. A feature probe's
    /// three-instruction program needs a small first log, not the 1 MiB a real program may.
    static func loadProgram(_ p: ProgramAttributes, firstLogSize: Int = programLogSizes.first) throws(BPFError) -> KernelObject {
        MemlockLimit.raiseOnce()
        var size = 0
        while true {
            let attempt = attemptLoad(p, logSize: size)
            switch attempt.result {
            case .success(let fd):
                return KernelObject(rawFD: fd)
            case .failure(let errno) where size == 0:
                guard errno != .notPermitted else {
                    throw BPFError(command: .progLoad, errno: errno, context: "load program \(p.name)")
                }
                size = max(firstLogSize, 1)
            case .failure(.noSpace) where size < programLogSizes.limit:
                size *= 4
            case .failure(let errno):
                throw BPFError(command: .progLoad, errno: errno, context: "load program \(p.name)", verifierLog: attempt.log)
            }
        }
    }

    /// One `BPF_PROG_LOAD`, with a verifier log of `logSize` bytes (none when 0).
    private static func attemptLoad(_ p: ProgramAttributes, logSize: Int) -> (result: Result<Int32, Errno>, log: String) {
        let hasBTFInfo = p.btfFD != nil
        let insns = KernelBuffer(p.instructions), license = KernelBuffer(cString: p.license)
        let log = KernelBuffer(count: logSize)
        let funcInfo = KernelBuffer(p.funcInfo), lineInfo = KernelBuffer(p.lineInfo)
        var attr = bpf_attr()
        attr.prog_type = p.type.rawValue
        attr.insns = insns.address
        attr.insn_cnt = UInt32(p.instructions.count / 8)
        attr.license = license.address
        attr.kern_version = p.kernelVersion
        attr.expected_attach_type = p.expectedAttachType?.rawValue ?? 0
        attr.attach_btf_id = p.attachBTFID
        attr.prog_name = nameTuple(p.name)
        if let btf = p.btfFD { attr.prog_btf_fd = fdField(btf) }
        if logSize > 0 {
            attr.log_level = 1
            attr.log_size = UInt32(logSize)
            attr.log_buf = log.address
        }
        if !p.funcInfo.isEmpty, hasBTFInfo {
            attr.func_info_rec_size = p.funcInfoRecordSize
            attr.func_info = funcInfo.address
            attr.func_info_cnt = UInt32(p.funcInfo.count) / p.funcInfoRecordSize
        }
        if !p.lineInfo.isEmpty, hasBTFInfo {
            attr.line_info_rec_size = p.lineInfoRecordSize
            attr.line_info = lineInfo.address
            attr.line_info_cnt = UInt32(p.lineInfo.count) / p.lineInfoRecordSize
        }
        let result = withExtendedLifetime((insns, license, log, funcInfo, lineInfo)) { run(.progLoad, &attr) }
        return (result, log.text)
    }

    /// `BPF_PROG_TEST_RUN` once with `input` as the packet (socket filters, tc, XDP), or with
    /// no data at all when `input` is empty (raw tracepoints, which refuse data and a repeat
    /// count): the program's return value. Runs in the calling thread, so helpers such as
    /// `bpf_get_current_task_btf` see the caller.
    static func testRun(program: FileDescriptor, input: [UInt8], name: String) throws(BPFError) -> UInt32 {
        let inputBuffer = KernelBuffer(input), output = KernelBuffer(count: input.count + 256)
        var attr = bpf_attr()
        attr.test.prog_fd = fdField(program.rawValue)
        if !input.isEmpty {
            attr.test.data_in = inputBuffer.address
            attr.test.data_size_in = UInt32(input.count)
            attr.test.data_out = output.address
            attr.test.data_size_out = UInt32(output.count)
            attr.test.repeat = 1
        }
        _ = try withExtendedLifetime((inputBuffer, output)) { () throws(BPFError) in
            try call(.progTestRun, &attr, "test-run program \(name)")
        }
        return attr.test.retval
    }
}
