import Glibc

/// Pinning the calling process to one CPU with sched_setaffinity(2).
///
/// Glibc declares sched_{get,set}affinity only under _GNU_SOURCE, which the Swift Glibc module is
/// not built with, and this target has no C shim: look the two functions up once with dlsym.
enum CPUAffinity {
    private typealias AffinityCall = @convention(c) (pid_t, Int, UnsafeMutablePointer<cpu_set_t>) -> Int32

    private static func function(_ name: String) throws -> AffinityCall {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else {
            throw BenchError("\(name) not found in the C library")
        }
        return unsafeBitCast(symbol, to: AffinityCall.self)
    }

    /// CPUs this process may run on now (the set the pins are chosen from).
    static func allowedCPUs() -> [Int] {
        var set = cpu_set_t()
        guard let call = try? function("sched_getaffinity"), call(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else {
            return [0]
        }
        return withUnsafeBytes(of: &set) { bytes in
            (0..<(bytes.count * 8)).filter { bytes[$0 / 8] & (1 << ($0 % 8)) != 0 }
        }
    }

    /// Restricts the calling process to `cpu`. (CPU_SET is a macro Swift cannot see: set the bit
    /// by hand; cpu_set_t is an array of unsigned longs, bit n of the little-endian bytes.)
    static func pinSelf(to cpu: Int) throws {
        var set = cpu_set_t()
        let size = MemoryLayout<cpu_set_t>.size
        guard cpu >= 0, cpu < size * 8 else { throw BenchError("CPU \(cpu) out of range") }
        withUnsafeMutableBytes(of: &set) { bytes in
            bytes[cpu / 8] |= UInt8(1 << (cpu % 8))
        }
        guard try function("sched_setaffinity")(0, size, &set) == 0 else {
            throw BenchError.system("sched_setaffinity CPU \(cpu)")
        }
    }
}
