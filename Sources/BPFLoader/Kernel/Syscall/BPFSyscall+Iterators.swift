import BPFObject
internal import CBPF
import SystemPackage

/// `BPF_LINK_CREATE` for iterator programs and `BPF_ITER_CREATE`, and reading what one
/// iteration writes.
extension BPFSyscall {
    /// A link of an iterator program (`BPF_TRACE_ITER`, no target: iterators over kernel
    /// objects such as `tcp` need none).
    static func iteratorLink(program: FileDescriptor, context: String) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.link_create.prog_fd = fdField(program.rawValue)
        attr.link_create.attach_type = AttachType.traceIter.rawValue
        return KernelObject(rawFD: try call(.linkCreate, &attr, context))
    }

    /// One iteration of `link`: a descriptor whose reads run the program over every object,
    /// in the network namespace of the calling thread (for network iterators).
    static func iteration(link: FileDescriptor, context: String) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.iter_create.link_fd = fdField(link.rawValue)
        return KernelObject(rawFD: try call(.iterCreate, &attr, context))
    }

    /// Everything an iteration writes, read until the end (at most `limit` bytes). A read error
    /// is thrown (`EINTR` is retried).
    static func readAll(_ fd: FileDescriptor, limit: Int, context: String) throws(BPFError) -> [UInt8] {
        var output: [UInt8] = []
        let chunk = KernelBuffer(count: 64 << 10)
        while output.count < limit {
            let count: Int
            do {
                count = try fd.read(into: chunk.bytes, retryOnInterrupt: true)
            } catch let errno as Errno {
                throw BPFError(command: .iterCreate, errno: errno, context: context + ": reading the iteration")
            } catch {
                throw BPFError(command: .iterCreate, errno: .ioError, context: context + ": reading the iteration")
            }
            if count == 0 { break }
            output += chunk.bytes.prefix(min(count, limit - output.count))
        }
        return output
    }
}
