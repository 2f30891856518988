import Foundation
import CBPF
import SystemPackage
import Testing
@testable import BPFLoader
import BPFObject

/// Pins, objects opened by id and the info the kernel reports, through the seam.
@Suite("pins, ids and info (mock kernel)")
struct ObjectSyscallTests {
    /// Answers `BPF_OBJ_GET_INFO_BY_FD` with `info` (copied into the loader's buffer, at most
    /// `info_len` bytes) and every other command with a new descriptor, after `onOpen` has seen
    /// its attribute (memory it points to lives only as long as the call).
    static func kernel<T>(
        info: T, alsoWrite: @escaping (bpf_attr) -> Void = { _ in }, onOpen: @escaping (bpf_attr) -> Void = { _ in }
    ) -> MockKernel {
        MockKernel { command, attr, _ in
            guard command == .objGetInfoByFD else {
                onOpen(attr)
                return .success(MockKernel.newFD())
            }
            #expect(Int(attr.info.info_len) == MemoryLayout<T>.size)
            alsoWrite(attr)
            MockKernel.write(value: info, at: attr.info.info)
            return .success(0)
        }
    }

    @Test func pinPassesThePathAndTheFD() throws {
        let map = testMap()
        let kernel = MockKernel { _, attr, _ in
            #expect(MockKernel.string(at: attr.pathname) == "/sys/fs/bpf/test/maps/sock_hash")
            return .success(0)
        }
        try kernel.run { try map.pin(at: "/sys/fs/bpf/test/maps/sock_hash") }
        #expect(kernel.commands == [.objPin] && kernel.calls[0].attr.bpf_fd == field(map.fd))
    }

    @Test func aPinnedMapIsOpenedAndItsLayoutRead() throws {
        var info = bpf_map_info()
        (info.type, info.id, info.map_flags) = (MapType.sockhash.rawValue, 31, 0)
        (info.key_size, info.value_size, info.max_entries) = (36, 8, 65_535)
        withUnsafeMutableBytes(of: &info.name) { $0.copyBytes(from: Array("sock_hash".utf8)) }
        // The path is read during the call: the loader's copy of it is freed once the call returns.
        let kernel = Self.kernel(info: info, onOpen: { attr in
            #expect(MockKernel.string(at: attr.pathname) == "/sys/fs/bpf/x/sock_hash")
        })
        let map = try kernel.run { try BPFMap(pinned: "/sys/fs/bpf/x/sock_hash") }
        #expect(kernel.commands == [.objGet, .objGetInfoByFD])
        #expect(kernel.calls[1].attr.info.bpf_fd == field(map.fd))
        #expect(map.name == "sock_hash" && map.type == .sockhash && map.keySize == 36 && map.valueSize == 8)
        #expect(map.maxEntries == 65_535 && map.flags == [])
        let reported = try kernel.run { try map.info() }
        #expect(reported.id == MapID(rawValue: 31) && reported.type == .sockhash)
    }

    @Test func aProgramOpenedByIDReportsItsMapsAndTag() throws {
        var info = bpf_prog_info()
        (info.type, info.id, info.nr_map_ids) = (ProgramType.sockOps.rawValue, 12, 2)
        (info.run_cnt, info.run_time_ns) = (3, 4_000)
        withUnsafeMutableBytes(of: &info.tag) { $0.copyBytes(from: [0x0a, 0xb0, 0, 1, 2, 3, 4, 0xff]) }
        withUnsafeMutableBytes(of: &info.name) { $0.copyBytes(from: Array("sockmap_sockops".utf8)) }
        let kernel = Self.kernel(info: info) { attr in
            let request = MockKernel.bytes(at: attr.info.info, count: MemoryLayout<bpf_prog_info>.size)
                .withUnsafeBytes { $0.loadUnaligned(as: bpf_prog_info.self) }
            #expect(request.nr_map_ids == 64 && request.map_ids != 0)
            MockKernel.write([5, 0, 0, 0, 9, 0, 0, 0], at: request.map_ids)
        }
        let program = try kernel.run { try BPFProgram(id: ProgramID(rawValue: 12)) }
        #expect(kernel.commands == [.progGetFDByID, .objGetInfoByFD])
        #expect(kernel.calls[0].attr.prog_id == 12)
        #expect(program.name == "sockmap_sockops" && program.type == .sockOps)
        let reported = try kernel.run { try program.info() }
        #expect(reported.id == ProgramID(rawValue: 12) && reported.mapIDs == [MapID(rawValue: 5), MapID(rawValue: 9)])
        #expect(reported.tag == "0ab00001020304ff" && reported.runCount == 3 && reported.runTimeNanoseconds == 4_000)
    }

    @Test func aMissingIDIsENOENTFromTheOpen() {
        let kernel = MockKernel { _, _, _ in .failure(.noSuchFileOrDirectory) }
        let error = #expect(throws: BPFError.self) { try kernel.run { try BPFMap(id: MapID(rawValue: 77)) } }
        #expect(error?.command == .mapGetFDByID && error?.errno == .noSuchFileOrDirectory)
        #expect(error?.context == "open map id 77")
        #expect(kernel.calls[0].attr.map_id == 77)
    }

    @Test func runTimeStatisticsAskForBPF_STATS_RUN_TIME() throws {
        let kernel = MockKernel()
        _ = try kernel.run { try BPFProgram.enableRunTimeStatistics() }
        #expect(kernel.commands == [.enableStats] && kernel.calls[0].attr.enable_stats.type == 0)
    }

    @Test func kernelNamesAreCutAndSanitised() {
        #expect(BPFProgram.kernelName("sockmap_sockops_v2") == "sockmap_sockops")
        #expect(BPFProgram.kernelName("a-b") == "a_b")
    }

    @Test func idsEncodeAsPlainNumbers() throws {
        let encoded = try JSONEncoder().encode([ProgramID(rawValue: 5)])
        #expect(String(decoding: encoded, as: UTF8.self) == "[5]")
    }
}

