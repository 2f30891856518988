import BPFObject
internal import CBPF
import SystemPackage

extension BPFSyscall {
    /// The BTF log size of the retry after a failed `BPF_BTF_LOAD`.
    static let btfLogSize = 1 << 22

    /// `BPF_BTF_LOAD`. Loaded without a log first (a log too small for large BTF fails the load
    /// with ENOSPC); on failure, retried with the kernel's BTF log, which goes into the error
    /// (with the first attempt's errno).
    static func loadBTF(_ bytes: [UInt8]) throws(BPFError) -> KernelObject {
        MemlockLimit.raiseOnce()
        let first = attemptBTFLoad(bytes, logSize: 0)
        let errno: Errno
        switch first.result {
        case .success(let fd): return KernelObject(rawFD: fd)
        case .failure(let failure): errno = failure
        }
        let retry = attemptBTFLoad(bytes, logSize: btfLogSize)
        if case .success(let fd) = retry.result { return KernelObject(rawFD: fd) }
        throw BPFError(command: .btfLoad, errno: errno, context: "load BTF", verifierLog: retry.log)
    }

    /// One `BPF_BTF_LOAD`, with a log of `logSize` bytes (none when 0).
    private static func attemptBTFLoad(_ bytes: [UInt8], logSize: Int) -> (result: Result<Int32, Errno>, log: String) {
        let data = KernelBuffer(bytes), log = KernelBuffer(count: logSize)
        var attr = bpf_attr()
        attr.btf = data.address
        attr.btf_size = UInt32(bytes.count)
        if logSize > 0 {
            attr.btf_log_level = 1
            attr.btf_log_size = UInt32(logSize)
            attr.btf_log_buf = log.address
        }
        let result = withExtendedLifetime((data, log)) { run(.btfLoad, &attr) }
        return (result, log.text)
    }
}
