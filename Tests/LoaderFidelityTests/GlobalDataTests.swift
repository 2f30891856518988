import BPFLoader
import BPFObject
import Foundation
import TestSupport
import Testing

/// Global data really works in the kernel: a socket filter on a UDP socket counts into .data and
/// .bss and drops by a .rodata setting patched before loading.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct GlobalDataTests {
    @Test func socketFilterUpdatesDataAndBssAndReadsRodata() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("global_data"))
        let object = try LoadedObject(spec)
        let rodata = try #require(object.maps[".rodata"])
        let info = try rodata.info()
        #expect(info.flags == MapFlags(rawValue: MapSpec.flagReadOnlyProgram | MapSpec.flagMmapable))
        #expect(info.btfID != 0 && info.btfValueTypeID != 0)
        #expect(throws: BPFMapError.self) { try rodata.update(key: [0, 0, 0, 0], value: [UInt8](repeating: 1, count: 64)) } // frozen

        let pair = try UDPPair()
        try pair.attach(object.programs["count_packets"]!)
        for _ in 0..<3 { try pair.send(bytes: 10) }
        #expect(pair.receivedCount(expected: 3) == 3)

        let data = try #require(try object.maps[".data"]!.lookup([0, 0, 0, 0]))
        #expect(data.littleEndianU64(at: 0) == 7 + 3)
        let bss = try #require(try object.maps[".bss"]!.lookup([0, 0, 0, 0]))
        let length = bss.littleEndianU32(at: 8)
        #expect(length >= 10)
        #expect(bss.littleEndianU64(at: 0) == 3 * UInt64(length))
    }

    @Test func rodataSetBeforeLoadingChangesTheVerdict() throws {
        var spec = try ObjectSpec(path: PackageLayout.fixture("global_data"))
        try spec.setGlobal("threshold", integer: 1) // every packet is longer: dropped
        let object = try LoadedObject(spec)
        let pair = try UDPPair()
        try pair.attach(object.programs["count_packets"]!)
        for _ in 0..<2 { try pair.send(bytes: 10) }
        #expect(pair.receivedCount(expected: 2) == 0)
        let data = try #require(try object.maps[".data"]!.lookup([0, 0, 0, 0]))
        #expect(data.littleEndianU64(at: 0) == 7 + 2) // the program ran, and dropped
    }

    @Test func legacyMapsLoadAndWork() throws {
        let object = try LoadedObject(try ObjectSpec(path: PackageLayout.fixture("legacy_maps")))
        let counts = try #require(object.maps["legacy_counts"])
        let info = try counts.info()
        #expect(info.type == .array && info.keySize == 4 && info.valueSize == 8 && info.maxEntries == 4)
        let flows = try #require(object.maps["legacy_flows"]).info()
        #expect(flows.type == .hash && flows.flags == .noPrealloc && flows.maxEntries == 128)
        let pair = try UDPPair()
        try pair.attach(object.programs["legacy_prog"]!)
        try pair.send(bytes: 10)
        _ = pair.receivedCount(expected: 1)
        var total: UInt64 = 0
        for index in 0..<4 {
            total += try counts.lookup(UInt32(index).bytes)?.littleEndianU64(at: 0) ?? 0
        }
        #expect(total == 1)
    }
}

/// Two UDP sockets on loopback; the receiver can carry a socket filter.
final class UDPPair {
    let receiver: Int32
    let sender: Int32
    var address = sockaddr_in()

    init() throws {
        receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(receiver, pointer, length) == 0 && getsockname(receiver, pointer, &length) == 0
            }
        }
        guard receiver >= 0, sender >= 0, bound else { throw POSIXError(.EIO) }
    }

    deinit {
        close(receiver)
        close(sender)
    }

    /// `SO_ATTACH_BPF`.
    func attach(_ program: BPFProgram) throws {
        var fd = program.fd.rawValue
        guard setsockopt(receiver, SOL_SOCKET, 50, &fd, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    func send(bytes: Int) throws {
        let payload = [UInt8](repeating: 0x61, count: bytes)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(sender, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == bytes else { throw POSIXError(.EIO) }
    }

    /// Datagrams that made it through the filter, waiting up to a second for `expected`.
    func receivedCount(expected: Int) -> Int {
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 2048)
        _ = waitUntil(timeout: 1) {
            while count < expected, recv(receiver, &buffer, buffer.count, Int32(MSG_DONTWAIT)) >= 0 { count += 1 }
            return count >= expected
        }
        return count
    }
}

extension [UInt8] {
    func littleEndianU64(at offset: Int) -> UInt64 { littleEndian(at: offset) }

    func littleEndianU32(at offset: Int) -> UInt32 { littleEndian(at: offset) }
}

extension UInt32 {
    var bytes: [UInt8] { littleEndianBytes }
}
