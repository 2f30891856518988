import BPFObject

/// Asks the running kernel whether it has a map type, a program type, a helper for a program type
/// or an instruction, the way libbpf's and cilium/ebpf's feature probes do: create a one-entry map
/// of the type, load a two-instruction program of the type, or load a program that calls the
/// helper and read the verifier's answer ("unknown func" or "invalid func" means the helper is not
/// available to that program type; any other verdict, such as an uninitialised argument register,
/// means it is). Every object a probe creates is closed before the probe returns. Needs root, like
/// loading does. Which features matter, and why, is the caller's catalogue (the accelerator's
/// `KernelFeature`).
package enum KernelProbe {
    /// What a probe found: whether the kernel has it, and how that was decided (the verifier's
    /// line, the errno of the call).
    package struct Outcome: Sendable, Equatable {
        package let supported: Bool
        package let detail: String
    }

    /// A helper function id (`enum bpf_func_id`) and its name, for the probe's answer.
    package struct Helper: Sendable {
        package let id: Int32
        package let name: String

        package init(id: Int32, name: String) {
            self.id = id
            self.name = name
        }
    }

    /// Creates a map of `type`; with `intBTF`, its key and value are described by a one-type BTF
    /// blob (`int`), which SK_STORAGE maps require.
    package static func map(type: MapType, keySize: UInt32, valueSize: UInt32, flags: MapFlags = [],
                            maxEntries: UInt32 = 1, intBTF: Bool = false) -> Outcome {
        guard intBTF else { return createMap(type: type, keySize: keySize, valueSize: valueSize, flags: flags, maxEntries: maxEntries, btf: nil) }
        let btf: KernelObject
        do { btf = try BPFSyscall.loadBTF(intOnlyBTF) } catch {
            return Outcome(supported: false, detail: "needs BTF, which failed: \(error.errno)")
        }
        return withExtendedLifetime(btf) {
            createMap(type: type, keySize: keySize, valueSize: valueSize, flags: flags, maxEntries: maxEntries,
                      btf: (btf.fd.rawValue, 1, 1))
        }
    }

    private static func createMap(type: MapType, keySize: UInt32, valueSize: UInt32, flags: MapFlags,
                                  maxEntries: UInt32, btf: (fd: Int32, key: Int, value: Int)?) -> Outcome {
        let spec = MapSpec(name: "probe", type: type, keySize: keySize, valueSize: valueSize, maxEntries: maxEntries,
                           flags: flags.rawValue, btfKeyTypeID: btf?.key ?? 0, btfValueTypeID: btf?.value ?? 0)
        do {
            _ = try BPFSyscall.createMap(spec, btfFD: btf?.fd)
            return Outcome(supported: true, detail: "created a \(type) map")
        } catch {
            return Outcome(supported: false, detail: "BPF_MAP_CREATE \(type): \(error.errno)")
        }
    }

    /// Loads a one-type BTF blob (BPF_BTF_LOAD).
    package static func btf() -> Outcome {
        do {
            _ = try BPFSyscall.loadBTF(intOnlyBTF)
            return Outcome(supported: true, detail: "loaded a one-type BTF blob")
        } catch {
            return Outcome(supported: false, detail: "BPF_BTF_LOAD: \(error.errno)")
        }
    }

    /// Loads `[call helper;] r0 = 0; exit` as a program of `type`.
    package static func program(type: ProgramType, helper: Helper?) -> Outcome {
        var instructions: [UInt8] = []
        if let helper { instructions += instruction(code: 0x85, imm: helper.id) } // BPF_JMP | BPF_CALL
        instructions += instruction(code: 0xb7, imm: 0)                           // BPF_ALU64 | BPF_MOV | BPF_K: r0 = 0
        instructions += instruction(code: 0x95, imm: 0)                           // BPF_JMP | BPF_EXIT
        let attributes = BPFSyscall.ProgramAttributes(type: type, instructions: instructions, license: "GPL",
                                                      kernelVersion: 0, name: "probe", expectedAttachType: nil)
        let what = helper.map { "\($0.name) in \(type)" } ?? "\(type) program"
        do {
            // Its log is a few lines: a 1 MiB buffer zeroed for each refused probe cost a load
            // 2 ms and 1 MiB of peak memory.
            _ = try BPFSyscall.loadProgram(attributes, firstLogSize: 1 << 14)
            return Outcome(supported: true, detail: "the verifier accepted \(what)")
        } catch {
            let log = error.verifierLog ?? ""
            let refusal = log.split(separator: "\n").first {
                $0.contains("unknown func") || $0.contains("invalid func") || $0.contains("cannot use helper")
            }
            if let helper {
                if let refusal { return Outcome(supported: false, detail: "the verifier: \(refusal)") }
                if !log.isEmpty {
                    // Rejected past the helper check (the probe leaves the arguments unset): the helper exists.
                    let reason = log.split(separator: "\n").last { !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
                        .map(String.init) ?? ""
                    return Outcome(supported: true,
                                   detail: "the verifier allows \(helper.name) here (then rejected the probe's unset arguments: \(reason))")
                }
            }
            return Outcome(supported: false, detail: "BPF_PROG_LOAD \(what): \(error.errno)")
        }
    }

    /// A socket filter that compares-and-exchanges a stack slot: `r1 = 0; *(u64 *)(r10 - 8) = r1;
    /// r0 = 0; r0 = cmpxchg_64(r10 - 8, r0, r1); r0 = 0; exit`. Kernels before 5.12 refuse the
    /// atomic instruction ("BPF_XADD uses reserved fields").
    package static func atomicCompareExchange() -> Outcome {
        let instructions = instruction(code: 0xb7, registers: 0x01, imm: 0)                  // r1 = 0
            + instruction(code: 0x7b, registers: 0x1a, offset: -8, imm: 0)                    // *(u64 *)(r10 - 8) = r1
            + instruction(code: 0xb7, imm: 0)                                                  // r0 = 0
            + instruction(code: 0xdb, registers: 0x1a, offset: -8, imm: 0xf1)                // BPF_STX | BPF_ATOMIC | BPF_DW, BPF_CMPXCHG
            + instruction(code: 0xb7, imm: 0) + instruction(code: 0x95, imm: 0)              // r0 = 0; exit
        let attributes = BPFSyscall.ProgramAttributes(type: .socketFilter, instructions: instructions, license: "GPL",
                                                      kernelVersion: 0, name: "probe", expectedAttachType: nil)
        do {
            _ = try BPFSyscall.loadProgram(attributes)
            return Outcome(supported: true, detail: "the verifier accepted a cmpxchg on the stack")
        } catch {
            let log = error.verifierLog?.split(separator: "\n").last { !$0.hasPrefix("processed ") }.map(String.init)
            return Outcome(supported: false, detail: "BPF_PROG_LOAD: \(error.errno)\(log.map { ", the verifier: \($0)" } ?? "")")
        }
    }

    /// One instruction: opcode, registers (source in the high nibble, destination in the low),
    /// 16-bit offset and 32-bit immediate, little-endian.
    static func instruction(code: UInt8, registers: UInt8 = 0, offset: Int16 = 0, imm: Int32) -> [UInt8] {
        let off = UInt16(bitPattern: offset)
        return [code, registers, UInt8(off & 0xFF), UInt8(off >> 8)] + le32(UInt32(bitPattern: imm))
    }

    static func le32(_ v: UInt32) -> [UInt8] { v.littleEndianBytes }

    /// A BTF blob with one type, `int` (id 1): header, one BTF_KIND_INT, strings "\0int\0".
    static let intOnlyBTF: [UInt8] = {
        let types = le32(1) + le32(1 << 24) + le32(4) + le32(1 << 24 | 32) // name "int", KIND_INT, 4 bytes, signed 32 bits
        let strings: [UInt8] = [0] + Array("int".utf8) + [0]
        let header: [UInt8] = [0x9f, 0xeb, 1, 0] + le32(24) + le32(0) + le32(UInt32(types.count))
            + le32(UInt32(types.count)) + le32(UInt32(strings.count))
        return header + types + strings
    }()
}
