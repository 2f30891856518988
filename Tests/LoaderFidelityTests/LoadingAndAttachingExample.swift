// docs:begin LoadingAndAttaching
import BPFLoader
import BPFObject
import SystemPackage

/// A part the example expects in the object is missing.
struct MissingPart: Error {
    let name: String
}

/// Loads the sockmap object at `objectPath`, attaches its sk_msg program to its SOCKHASH and its
/// sock_ops program to the cgroup at `cgroupPath`, and pins the SOCKHASH at `pinPath`.
func loadAndAttach(objectPath: String, cgroupPath: String, pinPath: String) throws -> LoadedObject {
    // Bytes → ELF → BTF → maps, programs and relocations: no system call but reading the file.
    var spec = try ObjectSpec(path: objectPath)
    try spec.setGlobal("debug", integer: 1) // a `const volatile` of .rodata, set before loading

    // Creates the maps, loads the BTF and the programs, each map reference patched with its fd.
    let object = try LoadedObject(spec)
    guard let sockhash = object.maps["sock_ops_map"] else { throw MissingPart(name: "sock_ops_map") }
    guard let redirect = object.programs["bpf_redir"] else { throw MissingPart(name: "bpf_redir") }
    guard let sockops = object.programs["bpf_sockops_v4"] else { throw MissingPart(name: "bpf_sockops_v4") }

    // The sk_msg program runs on every send of a socket in the map.
    try redirect.attach(toMap: sockhash, type: .skMsgVerdict)
    // The sock_ops program sees every TCP socket of the cgroup's processes; it adds them to the map.
    let cgroup = try FileDescriptor.open(FilePath(cgroupPath), .readOnly, options: .directory)
    defer { try? cgroup.close() }
    try sockops.attach(toCgroup: cgroup, type: .cgroupSockOps)

    // A pin keeps the map, with the sk_msg program attached to it, for a later process to open.
    try sockhash.pin(at: pinPath)
    return object
}
// docs:end LoadingAndAttaching

import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// The example of the DocC article "Loading an object and attaching a program"
/// (`Sources/BPFLoader/BPFLoader.docc/LoadingAndAttaching.md`, which `tools/docs.sh` checks is
/// this file's code between the `docs:` markers), run against a fixture in a fresh cgroup.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct LoadingAndAttachingExample {
    @Test func attachesBothProgramsAndPinsTheMap() throws {
        let cgroup = Cgroup(path: try Mounts.cgroup2MountPoint() + "/sockmap-test-docs-\(getpid())")
        try cgroup.create()
        defer { cgroup.removeIfEmpty() }
        let pins = try PinDirectory("docs")

        let object = try loadAndAttach(objectPath: PackageLayout.fixture("libbpf_sockmap"), cgroupPath: cgroup.path,
                                       pinPath: pins.path + "/sock_ops_map")

        let sockops = try #require(object.programs["bpf_sockops_v4"])
        let redirect = try #require(object.programs["bpf_redir"])
        let sockhash = try #require(object.maps["sock_ops_map"])
        let cgroupFD = try FileDescriptor.open(FilePath(cgroup.path), .readOnly, options: .directory)
        defer { try? cgroupFD.close() }
        let onCgroup = try CgroupAttachment.query(cgroup: cgroupFD, type: .cgroupSockOps)
        #expect(onCgroup == [try sockops.info().id])
        let onMap = try MapAttachment.query(map: sockhash, type: .skMsgVerdict)
        #expect(onMap == [try redirect.info().id])
        #expect(try BPFMap(pinned: pins.path + "/sock_ops_map").info().id == (try sockhash.info().id))

        try CgroupAttachment(program: sockops, cgroup: cgroupFD, type: .cgroupSockOps).detach()
        #expect(try CgroupAttachment.query(cgroup: cgroupFD, type: .cgroupSockOps).isEmpty)
    }
}
