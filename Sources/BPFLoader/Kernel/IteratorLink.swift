import BPFObject

/// An iterator program (an `iter/…` section, such as `iter/tcp`) linked for running
/// (`BPF_LINK_CREATE` with `BPF_TRACE_ITER`). Each `run` is one pass of the program over the
/// kernel's objects; what the program writes (`bpf_seq_write`) is the result. The link goes away
/// with this value.
public final class IteratorLink: Sendable {
    /// The program that runs.
    public let program: BPFProgram
    /// The link's descriptor.
    public let object: KernelObject

    /// Links `program`, which must have been loaded as an iterator (its section `iter/TARGET`
    /// and the kernel's `bpf_iter_TARGET` as attach function).
    public init(program: BPFProgram) throws(BPFError) {
        self.program = program
        object = try BPFSyscall.iteratorLink(program: program.fd, context: "link iterator \(program.name)")
    }

    /// One pass (`BPF_ITER_CREATE`, then reads until the end): the bytes the program wrote, at
    /// most `limit`. Network iterators see the network namespace of the calling thread.
    public func run(limit: Int = 64 << 20) throws(BPFError) -> [UInt8] {
        let context = "run iterator \(program.name)"
        let iteration = try BPFSyscall.iteration(link: object.fd, context: context)
        return try BPFSyscall.readAll(iteration.fd, limit: limit, context: context)
    }
}
