internal import CBPF
import SystemPackage

/// The `bpf(2)` commands the loader uses, one function each. This file and the other files in
/// `Kernel/` are the only code that touches `union bpf_attr` or raw pointers; every pointer
/// stays inside the `withUnsafe…` closure around the call.
public enum BPFSyscall {
    /// `BPF_OBJ_NAME_LEN`: names are at most 15 characters plus NUL.
    public static let objectNameLength = 16

    @discardableResult
    static func call(_ command: BPFCommand, _ attr: inout bpf_attr, _ context: @autoclosure () -> String) throws(BPFError) -> Int32 {
        let rc = cbpf_bpf(command.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        guard rc >= 0 else {
            throw BPFError(command: command, errno: Errno(rawValue: Int32(-rc)), context: context())
        }
        return Int32(rc)
    }

    static func address(_ pointer: UnsafeRawPointer?) -> UInt64 {
        UInt64(UInt(bitPattern: pointer))
    }

    /// Kernel object names allow [A-Za-z0-9_.]; anything else becomes '_'.
    static func objectName(_ name: String) -> [CChar] {
        var bytes = name.utf8.prefix(objectNameLength - 1).map { byte -> CChar in
            let c = Character(UnicodeScalar(byte))
            return CChar(bitPattern: c.isLetter || c.isNumber || c == "_" || c == "." ? byte : UInt8(ascii: "_"))
        }
        bytes += [CChar](repeating: 0, count: objectNameLength - bytes.count)
        return bytes
    }

    static func withName<T>(_ name: String, _ body: (inout (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)) -> T) -> T {
        let n = objectName(name)
        var tuple = (n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11], n[12], n[13], n[14], n[15])
        return body(&tuple)
    }

    // MARK: Maps

    /// Parameters of `BPF_MAP_CREATE`.
    public struct MapAttributes: Sendable {
        public var type: UInt32
        public var keySize: UInt32
        public var valueSize: UInt32
        public var maxEntries: UInt32
        public var flags: UInt32
        public var name: String
        public var btfFD: Int32?
        public var btfKeyTypeID: UInt32 = 0
        public var btfValueTypeID: UInt32 = 0

        public init(type: UInt32, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32, flags: UInt32, name: String,
                    btfFD: Int32? = nil, btfKeyTypeID: UInt32 = 0, btfValueTypeID: UInt32 = 0) {
            self.type = type; self.keySize = keySize; self.valueSize = valueSize; self.maxEntries = maxEntries
            self.flags = flags; self.name = name; self.btfFD = btfFD
            self.btfKeyTypeID = btfKeyTypeID; self.btfValueTypeID = btfValueTypeID
        }
    }

    public static func createMap(_ a: MapAttributes) throws(BPFError) -> KernelObject {
        MemlockLimit.raiseOnce()
        var attr = bpf_attr()
        attr.map_type = a.type
        attr.key_size = a.keySize
        attr.value_size = a.valueSize
        attr.max_entries = a.maxEntries
        attr.map_flags = a.flags
        withName(a.name) { attr.map_name = $0 }
        if let btf = a.btfFD, a.btfKeyTypeID != 0 || a.btfValueTypeID != 0 {
            attr.btf_fd = UInt32(bitPattern: btf)
            attr.btf_key_type_id = a.btfKeyTypeID
            attr.btf_value_type_id = a.btfValueTypeID
        }
        return KernelObject(rawFD: try call(.mapCreate, &attr, "create map \(a.name)"))
    }

    public static func lookup(map: FileDescriptor, key: [UInt8], valueSize: Int) throws(BPFError) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: valueSize)
        var attr = bpf_attr()
        attr.map_fd = UInt32(bitPattern: map.rawValue)
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeMutableBytes { v in
                attr.key = address(k.baseAddress)
                attr.value = address(v.baseAddress)
                return cbpf_bpf(BPFCommand.mapLookupElem.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
            }
        }
        if rc == -Int(Errno.noSuchFileOrDirectory.rawValue) { return nil }
        guard rc >= 0 else { throw BPFError(command: .mapLookupElem, errno: Errno(rawValue: Int32(-rc)), context: "look up map element") }
        return value
    }

    /// `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`.
    public enum UpdateFlag: UInt64, Sendable { case any = 0, noExist = 1, exist = 2 }

    public static func update(map: FileDescriptor, key: [UInt8], value: [UInt8], flag: UpdateFlag = .any) throws(BPFError) {
        var attr = bpf_attr()
        attr.map_fd = UInt32(bitPattern: map.rawValue)
        attr.flags = flag.rawValue
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                attr.key = address(k.baseAddress)
                attr.value = address(v.baseAddress)
                return cbpf_bpf(BPFCommand.mapUpdateElem.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
            }
        }
        guard rc >= 0 else { throw BPFError(command: .mapUpdateElem, errno: Errno(rawValue: Int32(-rc)), context: "update map element") }
    }

    /// Returns false when the key was not there.
    @discardableResult
    public static func delete(map: FileDescriptor, key: [UInt8]) throws(BPFError) -> Bool {
        var attr = bpf_attr()
        attr.map_fd = UInt32(bitPattern: map.rawValue)
        let rc = key.withUnsafeBytes { k in
            attr.key = address(k.baseAddress)
            return cbpf_bpf(BPFCommand.mapDeleteElem.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        }
        if rc == -Int(Errno.noSuchFileOrDirectory.rawValue) { return false }
        guard rc >= 0 else { throw BPFError(command: .mapDeleteElem, errno: Errno(rawValue: Int32(-rc)), context: "delete map element") }
        return true
    }

    /// The key after `key` (or the first key when `key` is nil); nil at the end of the map.
    public static func nextKey(map: FileDescriptor, after key: [UInt8]?, keySize: Int) throws(BPFError) -> [UInt8]? {
        var next = [UInt8](repeating: 0, count: keySize)
        var attr = bpf_attr()
        attr.map_fd = UInt32(bitPattern: map.rawValue)
        let rc: Int = next.withUnsafeMutableBytes { n in
            attr.next_key = address(n.baseAddress)
            if let key {
                return key.withUnsafeBytes { k in
                    attr.key = address(k.baseAddress)
                    return cbpf_bpf(BPFCommand.mapGetNextKey.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
                }
            }
            attr.key = 0
            return cbpf_bpf(BPFCommand.mapGetNextKey.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        }
        if rc == -Int(Errno.noSuchFileOrDirectory.rawValue) { return nil }
        guard rc >= 0 else { throw BPFError(command: .mapGetNextKey, errno: Errno(rawValue: Int32(-rc)), context: "iterate map keys") }
        return next
    }

    public static func freeze(map: FileDescriptor, name: String) throws(BPFError) {
        var attr = bpf_attr()
        attr.map_fd = UInt32(bitPattern: map.rawValue)
        try call(.mapFreeze, &attr, "freeze map \(name)")
    }

    // MARK: Programs

    /// Parameters of `BPF_PROG_LOAD`.
    public struct ProgramAttributes: Sendable {
        public var type: UInt32
        public var instructions: [UInt8]
        public var license: String
        public var kernelVersion: UInt32
        public var name: String
        public var expectedAttachType: UInt32
        public var btfFD: Int32?
        public var funcInfo: [UInt8] = []
        public var funcInfoRecordSize: UInt32 = 0
        public var lineInfo: [UInt8] = []
        public var lineInfoRecordSize: UInt32 = 0

        public init(type: UInt32, instructions: [UInt8], license: String, kernelVersion: UInt32, name: String,
                    expectedAttachType: UInt32, btfFD: Int32? = nil) {
            self.type = type; self.instructions = instructions; self.license = license
            self.kernelVersion = kernelVersion; self.name = name; self.expectedAttachType = expectedAttachType
            self.btfFD = btfFD
        }
    }

    /// Loads a program. On failure the load is retried with the verifier log enabled and the
    /// log is returned inside the error.
    public static func loadProgram(_ p: ProgramAttributes) throws(BPFError) -> KernelObject {
        MemlockLimit.raiseOnce()
        do {
            return KernelObject(rawFD: try loadProgram(p, logSize: 0).fd)
        } catch let first {
            guard first.errno != .notPermitted else { throw first }
            var size = 1 << 20
            while true {
                let result = try? loadProgram(p, logSize: size)
                if let fd = result?.fd, fd >= 0 { return KernelObject(rawFD: fd) }
                if let result, result.errno == .noSpace, size < 1 << 28 { size *= 4; continue }
                throw BPFError(command: .progLoad, errno: result?.errno ?? first.errno,
                               context: "load program \(p.name)", verifierLog: result?.log)
            }
        }
    }

    private static func loadProgram(_ p: ProgramAttributes, logSize: Int) throws(BPFError) -> (fd: Int32, errno: Errno, log: String) {
        var log = [UInt8](repeating: 0, count: logSize)
        var attr = bpf_attr()
        attr.prog_type = p.type
        attr.insn_cnt = UInt32(p.instructions.count / 8)
        attr.kern_version = p.kernelVersion
        attr.expected_attach_type = p.expectedAttachType
        withName(p.name) { attr.prog_name = $0 }
        if let btf = p.btfFD {
            attr.prog_btf_fd = UInt32(bitPattern: btf)
        }
        let license = Array(p.license.utf8CString)
        let rc = p.instructions.withUnsafeBytes { insns in
            license.withUnsafeBytes { lic in
                log.withUnsafeMutableBytes { buffer in
                    p.funcInfo.withUnsafeBytes { funcInfo in
                        p.lineInfo.withUnsafeBytes { lineInfo in
                            attr.insns = address(insns.baseAddress)
                            attr.license = address(lic.baseAddress)
                            if logSize > 0 {
                                attr.log_level = 1
                                attr.log_size = UInt32(logSize)
                                attr.log_buf = address(buffer.baseAddress)
                            }
                            if !p.funcInfo.isEmpty, p.btfFD != nil {
                                attr.func_info_rec_size = p.funcInfoRecordSize
                                attr.func_info = address(funcInfo.baseAddress)
                                attr.func_info_cnt = UInt32(p.funcInfo.count) / p.funcInfoRecordSize
                            }
                            if !p.lineInfo.isEmpty, p.btfFD != nil {
                                attr.line_info_rec_size = p.lineInfoRecordSize
                                attr.line_info = address(lineInfo.baseAddress)
                                attr.line_info_cnt = UInt32(p.lineInfo.count) / p.lineInfoRecordSize
                            }
                            return cbpf_bpf(BPFCommand.progLoad.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
                        }
                    }
                }
            }
        }
        if rc >= 0 { return (Int32(rc), Errno(rawValue: 0), "") }
        let text = String(decoding: log.prefix { $0 != 0 }, as: UTF8.self)
        let errno = Errno(rawValue: Int32(-rc))
        if logSize == 0 { throw BPFError(command: .progLoad, errno: errno, context: "load program \(p.name)") }
        return (-1, errno, text)
    }

    /// `BPF_PROG_TEST_RUN` once with `input` as the packet (socket filters, tc, XDP): the
    /// program's return value. Runs in the calling thread, so helpers such as
    /// `bpf_get_current_task_btf` see the caller.
    public static func testRun(program: FileDescriptor, input: [UInt8], name: String) throws(BPFError) -> UInt32 {
        var attr = bpf_attr()
        var output = [UInt8](repeating: 0, count: input.count + 256)
        let rc = input.withUnsafeBytes { inputBytes in
            output.withUnsafeMutableBytes { outputBytes in
                attr.test.prog_fd = UInt32(bitPattern: program.rawValue)
                attr.test.data_in = address(inputBytes.baseAddress)
                attr.test.data_size_in = UInt32(inputBytes.count)
                attr.test.data_out = address(outputBytes.baseAddress)
                attr.test.data_size_out = UInt32(outputBytes.count)
                attr.test.repeat = 1
                return cbpf_bpf(BPFCommand.progTestRun.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
            }
        }
        guard rc >= 0 else { throw BPFError(command: .progTestRun, errno: Errno(rawValue: Int32(-rc)), context: "test-run program \(name)") }
        return attr.test.retval
    }

    /// `BPF_BTF_LOAD`. Loaded without a log first (a log too small for large BTF fails the load
    /// with ENOSPC); on failure, retried with the kernel's BTF log, which goes into the error.
    public static func loadBTF(_ bytes: [UInt8]) throws(BPFError) -> KernelObject {
        MemlockLimit.raiseOnce()
        let first = loadBTF(bytes, logSize: 0)
        if first.rc >= 0 { return KernelObject(rawFD: Int32(first.rc)) }
        let retry = loadBTF(bytes, logSize: 1 << 22)
        if retry.rc >= 0 { return KernelObject(rawFD: Int32(retry.rc)) }
        throw BPFError(command: .btfLoad, errno: Errno(rawValue: Int32(-first.rc)), context: "load BTF", verifierLog: retry.log)
    }

    private static func loadBTF(_ bytes: [UInt8], logSize: Int) -> (rc: Int, log: String) {
        var log = [UInt8](repeating: 0, count: logSize)
        var attr = bpf_attr()
        let rc = bytes.withUnsafeBytes { data in
            log.withUnsafeMutableBytes { buffer in
                attr.btf = address(data.baseAddress)
                attr.btf_size = UInt32(bytes.count)
                if logSize > 0 {
                    attr.btf_log_level = 1
                    attr.btf_log_size = UInt32(buffer.count)
                    attr.btf_log_buf = address(buffer.baseAddress)
                }
                return cbpf_bpf(BPFCommand.btfLoad.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
            }
        }
        return (rc, String(decoding: log.prefix { $0 != 0 }, as: UTF8.self))
    }

    // MARK: Pins and ids

    public static func pin(_ fd: FileDescriptor, at path: String) throws(BPFError) {
        var attr = bpf_attr()
        let rc = path.withCString { p in
            attr.pathname = address(p)
            attr.bpf_fd = UInt32(bitPattern: fd.rawValue)
            return cbpf_bpf(BPFCommand.objPin.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        }
        guard rc >= 0 else { throw BPFError(command: .objPin, errno: Errno(rawValue: Int32(-rc)), context: "pin \(path)") }
    }

    public static func openPinned(_ path: String) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        let rc = path.withCString { p in
            attr.pathname = address(p)
            return cbpf_bpf(BPFCommand.objGet.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        }
        guard rc >= 0 else { throw BPFError(command: .objGet, errno: Errno(rawValue: Int32(-rc)), context: "open pinned \(path)") }
        return KernelObject(rawFD: Int32(rc))
    }

    public static func programFD(id: UInt32) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.prog_id = id
        return KernelObject(rawFD: try call(.progGetFDByID, &attr, "open program id \(id)"))
    }

    public static func mapFD(id: UInt32) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.map_id = id
        return KernelObject(rawFD: try call(.mapGetFDByID, &attr, "open map id \(id)"))
    }

    // MARK: Attachments

    /// `BPF_F_ALLOW_MULTI` and `BPF_F_REPLACE` for `BPF_PROG_ATTACH`.
    public struct AttachFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let allowOverride = AttachFlags(rawValue: 1 << 0)
        public static let allowMulti = AttachFlags(rawValue: 1 << 1)
        public static let replace = AttachFlags(rawValue: 1 << 2)
    }

    public static func attach(program: FileDescriptor, to target: FileDescriptor, type: UInt32,
                              flags: AttachFlags = [], replacing: FileDescriptor? = nil, context: String) throws(BPFError) {
        var attr = bpf_attr()
        attr.target_fd = UInt32(bitPattern: target.rawValue)
        attr.attach_bpf_fd = UInt32(bitPattern: program.rawValue)
        attr.attach_type = type
        attr.attach_flags = flags.rawValue
        if let replacing { attr.replace_bpf_fd = UInt32(bitPattern: replacing.rawValue) }
        try call(.progAttach, &attr, context)
    }

    /// Detaches `program` from `target` (a cgroup or a map) for attach type `type`.
    public static func detach(program: FileDescriptor, from target: FileDescriptor, type: UInt32, context: String) throws(BPFError) {
        var attr = bpf_attr()
        attr.target_fd = UInt32(bitPattern: target.rawValue)
        attr.attach_bpf_fd = UInt32(bitPattern: program.rawValue)
        attr.attach_type = type
        try call(.progDetach, &attr, context)
    }

    /// Ids of the programs attached to `target` (a cgroup or a map) for `type`. With `effective`
    /// (`BPF_F_QUERY_EFFECTIVE`, cgroups only) also those inherited from its ancestors: every
    /// program that runs for the cgroup's sockets.
    public static func queryPrograms(target: FileDescriptor, type: UInt32, effective: Bool = false) throws(BPFError) -> [UInt32] {
        var ids = [UInt32](repeating: 0, count: 64)
        var attr = bpf_attr()
        attr.query.target_fd = UInt32(bitPattern: target.rawValue)
        attr.query.attach_type = type
        attr.query.query_flags = effective ? 1 : 0 // BPF_F_QUERY_EFFECTIVE
        attr.query.prog_cnt = UInt32(ids.count)
        let rc = ids.withUnsafeMutableBytes { buffer in
            attr.query.prog_ids = address(buffer.baseAddress)
            return cbpf_bpf(BPFCommand.progQuery.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        }
        guard rc >= 0 else { throw BPFError(command: .progQuery, errno: Errno(rawValue: Int32(-rc)), context: "query attached programs") }
        return Array(ids.prefix(Int(attr.query.prog_cnt)))
    }

    // MARK: Info

    public static func mapInfo(_ fd: FileDescriptor) throws(BPFError) -> MapInfo {
        var info = bpf_map_info()
        try objectInfo(fd, &info, "map info")
        return MapInfo(id: info.id, type: info.type, keySize: info.key_size, valueSize: info.value_size,
                       maxEntries: info.max_entries, flags: info.map_flags, name: nameString(info.name),
                       btfID: info.btf_id, btfKeyTypeID: info.btf_key_type_id, btfValueTypeID: info.btf_value_type_id)
    }

    public static func programInfo(_ fd: FileDescriptor) throws(BPFError) -> ProgramInfo {
        var mapIDs = [UInt32](repeating: 0, count: 64)
        var info = bpf_prog_info()
        let rc = mapIDs.withUnsafeMutableBytes { buffer in
            info.nr_map_ids = UInt32(64)
            info.map_ids = address(buffer.baseAddress)
            var attr = bpf_attr()
            return withUnsafeMutableBytes(of: &info) { infoBytes in
                attr.info.bpf_fd = UInt32(bitPattern: fd.rawValue)
                attr.info.info_len = UInt32(infoBytes.count)
                attr.info.info = address(infoBytes.baseAddress)
                return cbpf_bpf(BPFCommand.objGetInfoByFD.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
            }
        }
        guard rc >= 0 else { throw BPFError(command: .objGetInfoByFD, errno: Errno(rawValue: Int32(-rc)), context: "program info") }
        let tag = withUnsafeBytes(of: info.tag) { Array($0) }
        return ProgramInfo(id: info.id, type: info.type, name: nameString(info.name),
                           tag: tag.map { String($0, radix: 16).leftPadded(2) }.joined(),
                           mapIDs: Array(mapIDs.prefix(Int(min(info.nr_map_ids, 64)))),
                           runTimeNanoseconds: info.run_time_ns, runCount: info.run_cnt,
                           translatedLength: info.xlated_prog_len, btfID: info.btf_id)
    }

    private static func objectInfo<T>(_ fd: FileDescriptor, _ info: inout T, _ what: String) throws(BPFError) {
        var attr = bpf_attr()
        let rc = withUnsafeMutableBytes(of: &info) { bytes in
            attr.info.bpf_fd = UInt32(bitPattern: fd.rawValue)
            attr.info.info_len = UInt32(bytes.count)
            attr.info.info = address(bytes.baseAddress)
            return cbpf_bpf(BPFCommand.objGetInfoByFD.rawValue, &attr, UInt32(MemoryLayout<bpf_attr>.size))
        }
        guard rc >= 0 else { throw BPFError(command: .objGetInfoByFD, errno: Errno(rawValue: Int32(-rc)), context: what) }
    }

    private static func nameString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// `BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)`: run-time accounting while the returned fd is open.
    public static func enableRunTimeStats() throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.enable_stats.type = 0 // BPF_STATS_RUN_TIME
        return KernelObject(rawFD: try call(.enableStats, &attr, "enable run-time statistics"))
    }
}

/// What the kernel reports about a map (`struct bpf_map_info`).
public struct MapInfo: Sendable, Equatable {
    public let id: UInt32
    public let type: UInt32
    public let keySize: UInt32
    public let valueSize: UInt32
    public let maxEntries: UInt32
    public let flags: UInt32
    public let name: String
    public let btfID: UInt32
    public let btfKeyTypeID: UInt32
    public let btfValueTypeID: UInt32
}

/// What the kernel reports about a program (`struct bpf_prog_info`).
public struct ProgramInfo: Sendable, Equatable {
    public let id: UInt32
    public let type: UInt32
    public let name: String
    public let tag: String
    public let mapIDs: [UInt32]
    /// Cumulative run time and count; non-zero only while run-time statistics are enabled.
    public let runTimeNanoseconds: UInt64
    public let runCount: UInt64
    public let translatedLength: UInt32
    public let btfID: UInt32
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
