import SystemPackage

/// A program loaded into the kernel.
public final class BPFProgram: Sendable {
    public let object: KernelObject
    public let name: String
    public let type: ProgramType

    public var fd: FileDescriptor { object.fd }

    public init(object: KernelObject, name: String, type: ProgramType) {
        self.object = object
        self.name = name
        self.type = type
    }

    /// Loads `spec`, replacing each map reference with the fd of the map of that name. With `btf`
    /// (the object's BTF in the kernel), the program's func_info and line_info go along
    /// (`funcInfo`, or the spec's own), so the verifier log shows source lines.
    public convenience init(loading spec: ProgramSpec, maps: [String: BPFMap], btf: KernelObject? = nil,
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
            type: spec.type.rawValue, instructions: instructions.flatMap(\.bytes), license: spec.license,
            kernelVersion: spec.kernelVersion, name: spec.name,
            expectedAttachType: spec.expectedAttachType?.rawValue ?? 0, btfFD: btf?.fd.rawValue)
        if let funcInfo, btf != nil {
            attributes.funcInfo = funcInfo.funcInfo
            attributes.funcInfoRecordSize = funcInfo.funcInfoRecordSize
            attributes.lineInfo = funcInfo.lineInfo
            attributes.lineInfoRecordSize = funcInfo.lineInfoRecordSize
        }
        self.init(object: try BPFSyscall.loadProgram(attributes), name: spec.name, type: spec.type)
    }

    public convenience init(pinned path: String) throws(BPFError) {
        let object = try BPFSyscall.openPinned(path)
        let info = try BPFSyscall.programInfo(object.fd)
        self.init(object: object, name: info.name, type: ProgramType(rawValue: info.type))
    }

    public func info() throws(BPFError) -> ProgramInfo { try BPFSyscall.programInfo(fd) }

    public func pin(at path: String) throws(BPFError) { try BPFSyscall.pin(fd, at: path) }

    /// Runs the program once on `packet` (`BPF_PROG_TEST_RUN`, for socket filter, tc and XDP
    /// programs) in the calling thread; returns its return value.
    public func testRun(packet: [UInt8]) throws(BPFError) -> UInt32 {
        try BPFSyscall.testRun(program: fd, input: packet, name: name)
    }
}
