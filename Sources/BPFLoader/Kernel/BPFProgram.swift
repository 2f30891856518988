import BPFObject
import SystemPackage

/// A program loaded into the kernel.
public final class BPFProgram: Sendable {
    /// The program's descriptor, closed with the last reference.
    public let object: KernelObject
    /// The program's name (as the object names it, or as the kernel reports it when opened).
    public let name: String
    /// The program's type.
    public let type: ProgramType

    /// The program's file descriptor.
    public var fd: FileDescriptor { object.fd }

    /// A program around an open descriptor.
    package init(object: KernelObject, name: String, type: ProgramType) {
        self.object = object
        self.name = name
        self.type = type
    }

    /// Loads `spec`, replacing each map reference with the fd of the map of that name. With `btf`
    /// (the object's BTF in the kernel), the program's func_info and line_info go along
    /// (`funcInfo`, or the spec's own), so the verifier log shows source lines.
    package convenience init(loading spec: ProgramSpec, maps: [String: BPFMap], btf: KernelObject? = nil,
                            funcInfo: BTFExtInfo? = nil) throws(BPFError) {
        let funcInfo = funcInfo ?? spec.btfExtInfo
        var instructions = spec.instructions
        for reference in spec.mapReferences {
            guard let map = maps[reference.mapName] else {
                throw BPFError(command: .progLoad, errno: .noSuchFileOrDirectory,
                               context: "load program \(spec.name): map \(reference.mapName) was not created")
            }
            instructions[reference.instruction].immediate = map.fd.rawValue
            switch reference.kind {
            case .fd:
                instructions[reference.instruction].sourceRegister = Instruction.pseudoMapFD
            case .value(let offset):
                instructions[reference.instruction].sourceRegister = Instruction.pseudoMapValue
                instructions[reference.instruction + 1].immediate = Int32(bitPattern: offset)
            }
        }
        var attributes = BPFSyscall.ProgramAttributes(
            type: spec.type, instructions: instructions.flatMap(\.bytes), license: spec.license,
            kernelVersion: spec.kernelVersion, name: spec.name, expectedAttachType: spec.expectedAttachType,
            btfFD: btf?.fd.rawValue, attachBTFID: spec.attachBTFID)
        if let funcInfo, btf != nil {
            attributes.funcInfo = funcInfo.funcInfo
            attributes.funcInfoRecordSize = funcInfo.funcInfoRecordSize
            attributes.lineInfo = funcInfo.lineInfo
            attributes.lineInfoRecordSize = funcInfo.lineInfoRecordSize
        }
        self.init(object: try BPFSyscall.loadProgram(attributes), name: spec.name, type: spec.type)
    }

    /// Opens the program pinned at `path`; its name and type come from the kernel.
    public convenience init(pinned path: String) throws(BPFError) {
        try self.init(opened: BPFSyscall.openPinned(path))
    }

    /// Opens the program with id `id` (`BPF_PROG_GET_FD_BY_ID`); `ENOENT` when there is none.
    public convenience init(id: ProgramID) throws(BPFError) {
        try self.init(opened: BPFSyscall.programFD(id: id))
    }

    private convenience init(opened object: KernelObject) throws(BPFError) {
        let info = try BPFSyscall.programInfo(object.fd)
        self.init(object: object, name: info.name, type: info.type)
    }

    /// `name` as the kernel stores a program name: at most 15 characters, each outside
    /// [A-Za-z0-9_.] replaced by '_' (what `info().name` returns for a program loaded as `name`).
    package static func kernelName(_ name: String) -> String {
        String(decoding: BPFSyscall.objectName(name).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What the kernel reports about the program.
    public func info() throws(BPFError) -> ProgramInfo { try BPFSyscall.programInfo(fd) }

    /// Pins the program at `path` in bpffs.
    public func pin(at path: String) throws(BPFError) { try BPFSyscall.pin(fd, at: path) }

    /// Runs the program once on `packet` (`BPF_PROG_TEST_RUN`, for socket filter, tc and XDP
    /// programs) in the calling thread; returns its return value.
    public func testRun(packet: [UInt8]) throws(BPFError) -> UInt32 {
        try BPFSyscall.testRun(program: fd, input: packet, name: name)
    }

    /// Runs the program once without input (`BPF_PROG_TEST_RUN` for raw tracepoint programs,
    /// which take neither a packet nor a repeat count) in the calling thread; returns its return
    /// value.
    public func testRun() throws(BPFError) -> UInt32 {
        try BPFSyscall.testRun(program: fd, input: [], name: name)
    }

    /// Turns on run-time statistics (`BPF_ENABLE_STATS`), so `info()` reports run time and
    /// count, for as long as the returned descriptor is open.
    public static func enableRunTimeStatistics() throws(BPFError) -> KernelObject {
        try BPFSyscall.enableRunTimeStats()
    }
}
