import BPFObject
internal import CBPF
import SystemPackage

/// Pins in bpffs and objects opened by id.
extension BPFSyscall {
    static func pin(_ fd: FileDescriptor, at path: String) throws(BPFError) {
        let pathBuffer = KernelBuffer(cString: path)
        var attr = bpf_attr()
        attr.pathname = pathBuffer.address
        attr.bpf_fd = fdField(fd.rawValue)
        _ = try withExtendedLifetime(pathBuffer) { () throws(BPFError) in try call(.objPin, &attr, "pin \(path)") }
    }

    static func openPinned(_ path: String) throws(BPFError) -> KernelObject {
        let pathBuffer = KernelBuffer(cString: path)
        var attr = bpf_attr()
        attr.pathname = pathBuffer.address
        return KernelObject(rawFD: try withExtendedLifetime(pathBuffer) { () throws(BPFError) in
            try call(.objGet, &attr, "open pinned \(path)")
        })
    }

    static func programFD(id: ProgramID) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.prog_id = id.rawValue
        return KernelObject(rawFD: try call(.progGetFDByID, &attr, "open program id \(id)"))
    }

    static func mapFD(id: MapID) throws(BPFError) -> KernelObject {
        var attr = bpf_attr()
        attr.map_id = id.rawValue
        return KernelObject(rawFD: try call(.mapGetFDByID, &attr, "open map id \(id)"))
    }
}
