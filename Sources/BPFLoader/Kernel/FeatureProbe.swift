import SystemPackage

/// Probes the running kernel for `KernelFeature`s the way libbpf's and cilium/ebpf's feature
/// probes do: create a one-entry map of the type, load a two-instruction program of the type, or
/// load a program that calls the helper and read the verifier's answer ("unknown func" or
/// "invalid func" means the helper is not available to that program type; any other verdict,
/// such as an uninitialised argument register, means it is). Every object a probe creates is
/// closed before the probe returns. Needs root, like loading does.
public enum FeatureProbe {
    /// Probes every feature, in catalogue order.
    public static func all() -> [FeatureResult] {
        KernelFeature.allCases.map(probe)
    }

    /// Probes one feature (a map, a program or a helper call the kernel accepts or refuses; for
    /// `BPF_F_REPLACE`, the kernel release). Never throws: a failed probe is an unsupported result.
    public static func probe(_ feature: KernelFeature) -> FeatureResult {
        switch feature {
        case .btf: return btf()
        case .sockhashMap: return map(feature, type: .sockhash, keySize: 4, valueSize: 8)
        case .skStorageMap: return skStorage()
        case .percpuArrayMap: return map(feature, type: .percpuArray, keySize: 4, valueSize: 8)
        case .sockOpsProgram: return program(feature, type: .sockOps, helper: nil)
        case .skMsgProgram: return program(feature, type: .skMsg, helper: nil)
        case .netnsCookieInSockOps: return program(feature, type: .sockOps, helper: .getNetnsCookie)
        case .netnsCookieInSkMsg: return program(feature, type: .skMsg, helper: .getNetnsCookie)
        case .sockHashUpdateInSockOps: return program(feature, type: .sockOps, helper: .sockHashUpdate)
        case .skStorageGetInSockOps: return program(feature, type: .sockOps, helper: .skStorageGet)
        case .skStorageGetInSkMsg: return program(feature, type: .skMsg, helper: .skStorageGet)
        case .msgRedirectHashInSkMsg: return program(feature, type: .skMsg, helper: .msgRedirectHash)
        case .skcToTCPSockInSockOps: return program(feature, type: .sockOps, helper: .skcToTCPSock)
        case .skcToTCPSockInSkMsg: return program(feature, type: .skMsg, helper: .skcToTCPSock)
        case .cgroupAttachReplace: return fromRelease(feature)
        // libbpf's probe: bpf_ktime_get_coarse_ns arrived in the same release (5.11) as memcg accounting.
        case .memcgAccounting: return program(feature, type: .socketFilter, helper: .ktimeGetCoarseNs)
        case .headerOptionsInSockOps: return program(feature, type: .sockOps, helper: .storeHeaderOption)
        case .atomicCompareExchange: return atomicCompareExchange()
        }
    }

    /// Helper function ids (`enum bpf_func_id`) the probes call.
    struct Helper: Sendable {
        let id: Int32
        let name: String
        static let sockHashUpdate = Helper(id: 70, name: "bpf_sock_hash_update")
        static let msgRedirectHash = Helper(id: 71, name: "bpf_msg_redirect_hash")
        static let skStorageGet = Helper(id: 107, name: "bpf_sk_storage_get")
        static let getNetnsCookie = Helper(id: 122, name: "bpf_get_netns_cookie")
        static let skcToTCPSock = Helper(id: 137, name: "bpf_skc_to_tcp_sock")
        static let storeHeaderOption = Helper(id: 143, name: "bpf_store_hdr_opt")
        static let ktimeGetCoarseNs = Helper(id: 160, name: "bpf_ktime_get_coarse_ns")
    }

    // MARK: Probes

    static func map(_ feature: KernelFeature, type: MapType, keySize: UInt32, valueSize: UInt32,
                    flags: MapFlags = [], maxEntries: UInt32 = 1, btf: (fd: Int32, key: Int, value: Int)? = nil) -> FeatureResult {
        let spec = MapSpec(name: "probe", type: type, keySize: keySize, valueSize: valueSize, maxEntries: maxEntries,
                           flags: flags.rawValue, btfKeyTypeID: btf?.key ?? 0, btfValueTypeID: btf?.value ?? 0)
        do {
            _ = try BPFSyscall.createMap(spec, btfFD: btf?.fd)
            return FeatureResult(feature: feature, supported: true, detail: "created a \(type) map")
        } catch {
            return FeatureResult(feature: feature, supported: false, detail: "BPF_MAP_CREATE \(type): \(error.errno)")
        }
    }

    /// SK_STORAGE maps need BTF for their key and value (the kernel checks the key is an int).
    static func skStorage() -> FeatureResult {
        let btf: KernelObject
        do { btf = try BPFSyscall.loadBTF(intOnlyBTF) } catch {
            return FeatureResult(feature: .skStorageMap, supported: false, detail: "needs BTF, which failed: \(error.errno)")
        }
        return withExtendedLifetime(btf) {
            map(.skStorageMap, type: .skStorage, keySize: 4, valueSize: 4, flags: .noPrealloc, maxEntries: 0,
                btf: (btf.fd.rawValue, 1, 1))
        }
    }

    static func btf() -> FeatureResult {
        do {
            _ = try BPFSyscall.loadBTF(intOnlyBTF)
            return FeatureResult(feature: .btf, supported: true, detail: "loaded a one-type BTF blob")
        } catch {
            return FeatureResult(feature: .btf, supported: false, detail: "BPF_BTF_LOAD: \(error.errno)")
        }
    }

    /// Loads `[call helper;] r0 = 0; exit` as a program of `type`.
    static func program(_ feature: KernelFeature, type: ProgramType, helper: Helper?) -> FeatureResult {
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
            return FeatureResult(feature: feature, supported: true, detail: "the verifier accepted \(what)")
        } catch {
            let log = error.verifierLog ?? ""
            let refusal = log.split(separator: "\n").first {
                $0.contains("unknown func") || $0.contains("invalid func") || $0.contains("cannot use helper")
            }
            if let helper {
                if let refusal { return FeatureResult(feature: feature, supported: false, detail: "the verifier: \(refusal)") }
                if !log.isEmpty {
                    // Rejected past the helper check (the probe leaves the arguments unset): the helper exists.
                    let reason = log.split(separator: "\n").last { !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
                        .map(String.init) ?? ""
                    return FeatureResult(feature: feature, supported: true,
                                         detail: "the verifier allows \(helper.name) here (then rejected the probe's unset arguments: \(reason))")
                }
            }
            return FeatureResult(feature: feature, supported: false, detail: "BPF_PROG_LOAD \(what): \(error.errno)")
        }
    }

    /// A socket filter that compares-and-exchanges a stack slot: `r1 = 0; *(u64 *)(r10 - 8) = r1;
    /// r0 = 0; r0 = cmpxchg_64(r10 - 8, r0, r1); r0 = 0; exit`. Kernels before 5.12 refuse the
    /// atomic instruction ("BPF_XADD uses reserved fields").
    static func atomicCompareExchange() -> FeatureResult {
        let instructions = instruction(code: 0xb7, registers: 0x01, imm: 0)                  // r1 = 0
            + instruction(code: 0x7b, registers: 0x1a, offset: -8, imm: 0)                    // *(u64 *)(r10 - 8) = r1
            + instruction(code: 0xb7, imm: 0)                                                  // r0 = 0
            + instruction(code: 0xdb, registers: 0x1a, offset: -8, imm: 0xf1)                // BPF_STX | BPF_ATOMIC | BPF_DW, BPF_CMPXCHG
            + instruction(code: 0xb7, imm: 0) + instruction(code: 0x95, imm: 0)              // r0 = 0; exit
        let attributes = BPFSyscall.ProgramAttributes(type: .socketFilter, instructions: instructions, license: "GPL",
                                                      kernelVersion: 0, name: "probe", expectedAttachType: nil)
        do {
            _ = try BPFSyscall.loadProgram(attributes)
            return FeatureResult(feature: .atomicCompareExchange, supported: true, detail: "the verifier accepted a cmpxchg on the stack")
        } catch {
            let log = error.verifierLog?.split(separator: "\n").last { !$0.hasPrefix("processed ") }.map(String.init)
            return FeatureResult(feature: .atomicCompareExchange, supported: false,
                                 detail: "BPF_PROG_LOAD: \(error.errno)\(log.map { ", the verifier: \($0)" } ?? "")")
        }
    }

    /// Attach semantics cannot be probed without a cgroup to attach to; the release decides.
    static func fromRelease(_ feature: KernelFeature) -> FeatureResult {
        guard let release = KernelRelease.running, let first = KernelRelease(feature.firstKernel) else {
            return FeatureResult(feature: feature, supported: false, detail: "kernel release unknown")
        }
        return FeatureResult(feature: feature, supported: release >= first,
                             detail: "kernel \(release.major).\(release.minor) (decided by the release)")
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
