import BPFObject
internal import CBPF
import SystemPackage

/// `BPF_OBJ_GET_INFO_BY_FD` and `BPF_ENABLE_STATS`.
extension BPFSyscall {
    static func mapInfo(_ fd: FileDescriptor) throws(BPFError) -> MapInfo {
        let info = try objectInfo(fd, KernelBuffer(of: bpf_map_info()), "map info").load(as: bpf_map_info.self)
        return MapInfo(id: MapID(rawValue: info.id), type: MapType(rawValue: info.type), keySize: info.key_size,
                       valueSize: info.value_size, maxEntries: info.max_entries, flags: MapFlags(rawValue: info.map_flags),
                       name: nameString(info.name), btfID: info.btf_id, btfKeyTypeID: info.btf_key_type_id,
                       btfValueTypeID: info.btf_value_type_id)
    }

    /// The most map ids `programInfo` reads.
    static let programMapCapacity = 64

    static func programInfo(_ fd: FileDescriptor) throws(BPFError) -> ProgramInfo {
        let mapIDs = KernelBuffer(count: programMapCapacity * 4)
        var request = bpf_prog_info()
        request.nr_map_ids = UInt32(programMapCapacity)
        request.map_ids = mapIDs.address
        let info = try withExtendedLifetime(mapIDs) { () throws(BPFError) in
            try objectInfo(fd, KernelBuffer(of: request), "program info").load(as: bpf_prog_info.self)
        }
        let tag = withUnsafeBytes(of: info.tag) { Array($0) }
        let mapCount = min(Int(info.nr_map_ids), programMapCapacity)
        return ProgramInfo(id: ProgramID(rawValue: info.id), type: ProgramType(rawValue: info.type), name: nameString(info.name),
                           tag: tag.map { String($0, radix: 16).leftPadded(2) }.joined(),
                           mapIDs: (0..<mapCount).map { MapID(rawValue: mapIDs.bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) },
                           runTimeNanoseconds: info.run_time_ns, runCount: info.run_cnt,
                           translatedLength: info.xlated_prog_len, btfID: info.btf_id)
    }

    /// Fills `info` (a `bpf_map_info` or `bpf_prog_info`, possibly with addresses set) for `fd`.
    private static func objectInfo(_ fd: FileDescriptor, _ info: KernelBuffer, _ what: String) throws(BPFError) -> KernelBuffer {
        var attr = bpf_attr()
        attr.info.bpf_fd = fdField(fd.rawValue)
        attr.info.info_len = UInt32(info.count)
        attr.info.info = info.address
        _ = try withExtendedLifetime(info) { () throws(BPFError) in try call(.objGetInfoByFD, &attr, what) }
        return info
    }

    /// `BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)`: run-time accounting while the returned fd is open.
    static func enableRunTimeStats() throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.enable_stats.type = StatsType.runTime.rawValue
        return KernelObject(rawFD: try call(.enableStats, &attr, "enable run-time statistics"))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
