@testable import BPFLoader
import BPFObject
import Foundation
import TestSupport
import Testing

/// The CO-RE fixtures loaded by this loader and by libbpf: translated alike (as OracleTests
/// compares the other fixtures), both runs of each program, in this thread, must write the same
/// values, and the values the kernel knows about this process must be the ones user space sees. Tests/Fixtures/bpf/libbpf_core.c reads the task as socket
/// filters do on newer kernels (bpf_get_current_task_btf, direct loads);
/// libbpf_core_probe_read.c reads it as raw tracepoints do on every kernel from 5.10 on
/// (bpf_get_current_task, BPF_CORE_READ through bpf_probe_read_kernel), into the same slots.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct CORETests {
    /// Result slots of libbpf_core.h (its `enum { R_TGID, … }`).
    enum Slot: Int, CaseIterable {
        case tgid, netnsInum, nsID, comm0, comm8, inExecve, resetOnFork, missing
        case offRcvbuf, sizeRcvbuf, existsRcvbuf, existsMissing, signedRcvbuf, signedType
        case sizeKernSock, offKernSock, lshiftKernSock, rshiftKernSock, rshiftNoCheckTX
        case localID, targetID, typeExists, typeMissing, typeSize, typeMatches
        case enumExists, enumMissing, enumValue
        case sockRcvbuf, sockRmemAlloc // core_sockops, not run here
        case nsMatches
    }

    /// The programs both fixtures run, in this order.
    static let programs = ["core_task", "core_kinds"]
    static let packet = [UInt8](repeating: 0, count: 64)

    /// Whether this kernel's socket filters may call bpf_get_current_task_btf (helper 158), as
    /// libbpf_core.c's core_task does: asked the way the accelerator asks about its helpers
    /// (KernelProbe). 5.10's may not.
    static let socketFiltersGetTaskBTF = KernelProbe.program(
        type: .socketFilter, helper: .init(id: 158, name: "bpf_get_current_task_btf")).supported

    /// The running kernel's BTF, decoded once for the loads here (decoding it is most of a
    /// load's time, under the kernel matrix's emulation above all).
    static let kernelTarget = Result { try CORETargetBTF() }

    /// Runs both programs in this thread (a socket filter on a packet, a raw tracepoint on
    /// nothing) and reads every slot of `results`.
    static func run(_ programs: [String: BPFProgram], results: BPFMap) throws -> [Slot: UInt64] {
        for name in Self.programs {
            let program = try #require(programs[name])
            _ = program.type == .rawTracepoint ? try program.testRun() : try program.testRun(packet: packet)
        }
        var values: [Slot: UInt64] = [:]
        for slot in Slot.allCases {
            let key = UInt32(slot.rawValue).littleEndianBytes
            let bytes = try #require(try results.lookup(key))
            values[slot] = bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        return values
    }

    /// This thread's name as the kernel keeps it (`task->comm`), padded with NULs to 16 bytes.
    static func threadComm() throws -> [UInt8] {
        var name = Array(try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8).utf8.dropLast())
        name += [UInt8](repeating: 0, count: 16 - name.count)
        return name
    }

    /// On kernels whose socket filters cannot call bpf_get_current_task_btf (the probe says so),
    /// both loaders must refuse the object, ours with the verifier's words naming the helper.
    @Test func programsReadTheKernelAsLibbpfsDo() throws {
        guard Self.socketFiltersGetTaskBTF else {
            let object = PackageLayout.fixture("libbpf_core")
            let spec = try ObjectSpec(path: object)
            #expect {
                _ = try LoadedObject(spec, options: .init(coreTarget: try Self.kernelTarget.get()))
            } throws: { error in
                "\(error)".contains("bpf_get_current_task_btf")
            }
            let pins = try PinDirectory("libbpf_core-refused")
            let libbpf = try CommandRunner.run(Environment.bpftool, ["prog", "loadall", object, try pins.sub("programs"), "pinmaps", try pins.sub("maps")])
            #expect(libbpf.status != 0, "libbpf loaded what the probe says this kernel refuses")
            return
        }
        try readsTheKernelAsLibbpfDoes("libbpf_core")
    }

    @Test func probeReadProgramsReadTheKernelAsLibbpfsDo() throws {
        try readsTheKernelAsLibbpfDoes("libbpf_core_probe_read")
    }

    func readsTheKernelAsLibbpfDoes(_ fixture: String) throws {
        let object = PackageLayout.fixture(fixture)
        let spec = try ObjectSpec(path: object)
        #expect(spec.needsCORE)
        let ours = try LoadedObject(spec, options: .init(coreTarget: try Self.kernelTarget.get()))
        let comm = try Self.threadComm()
        let mine = try Self.run(ours.programs, results: try #require(ours.maps["results"]))

        let pins = try PinDirectory(fixture)
        let programDirectory = try pins.sub("programs"), mapDirectory = try pins.sub("maps")
        _ = try Bpftool.run(["prog", "loadall", object, programDirectory, "pinmaps", mapDirectory])
        // Loaded identically: what OracleTests checks for the other fixtures.
        #expect(ours.btfFallbacks.isEmpty, "\(ours.btfFallbacks)")
        let ourDirectory = try pins.sub("ours")
        for (name, program) in ours.programs { try program.pin(at: ourDirectory + "/" + name) }
        try OracleTests.samePinnedPrograms(fixture, ours: ourDirectory, theirs: programDirectory)
        var theirPrograms: [String: BPFProgram] = [:]
        for name in Self.programs { theirPrograms[name] = try BPFProgram(pinned: programDirectory + "/" + name) }
        let theirs = try Self.run(theirPrograms, results: try BPFMap(pinned: mapDirectory + "/results"))
        for slot in Slot.allCases {
            #expect(mine[slot] == theirs[slot], "\(slot): ours \(mine[slot] ?? 0), libbpf \(theirs[slot] ?? 0)")
        }

        // What user space knows.
        var status = stat()
        #expect(stat("/proc/self/ns/net", &status) == 0)
        #expect(mine[.tgid] == UInt64(getpid()))
        #expect(mine[.netnsInum] == UInt64(status.st_ino))
        let commBytes = (0..<16).map { UInt8(truncatingIfNeeded: (($0 < 8 ? mine[.comm0]! : mine[.comm8]!) >> (8 * UInt64($0 % 8)))) }
        #expect(commBytes == comm, "comm \(String(decoding: commBytes, as: UTF8.self))")
        #expect(mine[.inExecve] == 0)
        #expect(mine[.missing] == 0xDEAD, "the guarded read of a missing field must be dead code")
        #expect(mine[.existsRcvbuf] == 1)
        #expect(mine[.existsMissing] == 0)
        #expect(mine[.sizeRcvbuf] == 4)
        #expect(mine[.signedRcvbuf] == 1)
        #expect(mine[.signedType] == 0)
        #expect(mine[.sizeKernSock] == 1)
        #expect(mine[.rshiftKernSock] == 63)
        #expect(mine[.localID] != 0)
        #expect(mine[.typeExists] == 1)
        #expect(mine[.typeMissing] == 0)
        #expect(mine[.enumExists] == 1)
        #expect(mine[.enumMissing] == 0)
        #expect(mine[.enumValue] == 18, "BPF_MAP_TYPE_SOCKHASH")
        if mine[.typeMatches] != 2 { // 2: built by clang 14, which cannot emit TYPE_MATCHES
            #expect(mine[.typeMatches] == 0, "clang and the kernel name struct sock's u16 differently")
            #expect(mine[.nsMatches] == 1)
        }

        // Offsets, sizes and ids as the kernel's BTF gives them.
        let vmlinux = try Self.kernelTarget.get()
        let sock = try #require(vmlinux.btf.types.first { $0.rawKind == .structure && $0.name == "sock" })
        let rcvbuf = try #require(sock.members.firstIndex { $0.name == "sk_rcvbuf" })
        #expect(mine[.offRcvbuf] == UInt64(sock.members[rcvbuf].bitOffset / 8))
        #expect(mine[.targetID] == UInt64(sock.id))
        #expect(mine[.typeSize] == UInt64(sock.size ?? 0))
        // ns_common.ns_id (an anonymous union's anonymous struct) exists from 6.18 on.
        let hasNamespaceID = vmlinux.btf.types.contains { $0.isComposite && $0.members.contains { $0.name == "ns_id" } }
        #expect((mine[.nsID] != 0) == hasNamespaceID)
    }

    /// An unguarded read of a field the kernel lacks is poisoned, not refused by the loader: the
    /// verifier rejects the program at that instruction, with the message libbpf's load gets.
    @Test func unguardedMissingFieldIsRejectedByTheVerifier() throws {
        let object = PackageLayout.fixture("libbpf_core_unguarded")
        let error = try #require(try #require(throws: LoadError.self) {
            try LoadedObject(try ObjectSpec(path: object), options: .init(coreTarget: try Self.kernelTarget.get()))
        }.kernelError)
        #expect(error.verifierLog?.contains("invalid func unknown#195896080") == true, "\(error)")
        #expect(error.context.contains("instruction 1 is a poisoned CO-RE relocation (byte_off, access 0:0)"), "\(error.context)")
        let pins = try PinDirectory("core-unguarded")
        let libbpf = try CommandRunner.run(Environment.bpftool, ["prog", "loadall", object, try pins.sub("libbpf")])
        #expect(libbpf.status != 0)
        // libbpf rewrites the verifier's line into this one.
        #expect(libbpf.stderr.contains("failed to resolve CO-RE relocation <byte_off>"), "\(libbpf.stderr)")
    }

    /// `coreBTFPath` (the CLI's `--btf`) with a copy of the kernel's BTF resolves as the kernel's
    /// own; a path that does not exist fails the load and names the path.
    @Test func explicitBTFFile() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("swift-sockmap-core-\(getpid()).btf").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: CORETargetBTF.kernelPath, toPath: copy)
        let spec = try ObjectSpec(path: PackageLayout.fixture("libbpf_core_probe_read"))
        let fromKernel = try LoadedObject(spec)
        let fromFile = try LoadedObject(spec, options: .init(coreBTFPath: copy))
        #expect(try Self.run(fromFile.programs, results: #require(fromFile.maps["results"]))[.offRcvbuf]
            == (try Self.run(fromKernel.programs, results: #require(fromKernel.maps["results"])))[.offRcvbuf])

        // Refused as a CO-RE error of its own, before any system call, naming the path.
        let error = try #require(throws: LoadError.self) {
            try LoadedObject(spec, options: .init(coreBTFPath: "/nonexistent/vmlinux"))
        }
        guard case .core(.targetUnavailable(let path, _)) = error else {
            Issue.record("expected a CO-RE target error, got \(error)")
            return
        }
        #expect(path == "/nonexistent/vmlinux")
        #expect(error.kernelError == nil)
        #expect(error.description.contains("/nonexistent/vmlinux"), "\(error)")
    }
}
