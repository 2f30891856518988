import Foundation
import BPFLoader
import Testing
@testable import BPFObject

/// The kernel-BTF view (`BTFView`, what `CORETargetBTF(path:)` reads): the same types, the same
/// candidates and the same errors as decoding everything (`BTFSpec`), without decoding everything,
/// and no allocation a malformed header can size.
@Suite("BTF view")
struct BTFViewTests {
    static func view(_ bytes: [UInt8]) throws(BTFError) -> BTFView { try BTFView(bytes: BTFBytes(copying: bytes)) }

    /// A little of every kind, with a flavoured struct, two enums of one name and a function.
    static func sample() -> BTFBuilder {
        var b = BTFBuilder()
        let int = b.int("int", size: 4, signed: true), u64 = b.int("unsigned long long", size: 8)
        let sock = b.structure("sock", size: 16, [("a", int, 0, 0), ("b", u64, 64, 0)])
        _ = b.structure("sock___v510", size: 8, [("a", int, 0, 0)])
        _ = b.structure("sock", size: 4, union: true, [("a", int, 0, 0)])
        let pointer = b.pointer(to: sock)
        _ = b.array(of: int, count: 4, index: int)
        _ = b.enumeration("state", [("ONE", 1), ("TWO", -2)])
        _ = b.enum64("state___new", [("ONE", 1 << 40)])
        let proto = b.functionProto(returns: int, [("s", pointer), ("n", u64)])
        _ = b.function("bpf_iter_tcp", proto: proto)
        _ = b.typedef("u32", to: int)
        _ = b.const(of: b.volatile(of: int))
        _ = b.forward("task_struct")
        _ = b.float("double", size: 8)
        let variable = b.variable("counter", type: int)
        _ = b.dataSection(".data", size: 4, [(variable, 0, 4)])
        _ = b.declTag("tag", of: sock, component: 0)
        _ = b.typeTag("user", of: int)
        return b
    }

    @Test func decodesWhatTheSpecDecodes() throws {
        let bytes = Self.sample().bytes()
        let spec = try BTFSpec(bytes: bytes), view = try Self.view(bytes)
        #expect(view.typeCount == spec.types.count)
        for id in 1..<spec.types.count {
            #expect(try view.type(id, "test") == spec.types[id])
            #expect((try? view.size(of: id)) == (try? spec.size(of: id)))
        }
        #expect(throws: BTFError.badTypeID(what: "test", typeID: spec.types.count)) { try view.type(spec.types.count, "test") }
        #expect(throws: BTFError.badTypeID(what: "test", typeID: 0)) { try view.type(0, "test") }
    }

    /// Candidates and function lookups read in place agree with the ones over decoded types.
    @Test func candidatesAndFunctionsMatchTheDecodedOnes() throws {
        let bytes = Self.sample().bytes()
        let spec = try BTFSpec(bytes: bytes)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swift-sockmap-view-\(getpid()).btf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let read = try CORETargetBTF(path: path), decoded = CORETargetBTF(btf: spec)
        for type in spec.types.dropFirst() where !type.name.isEmpty {
            #expect(read.candidates(for: type) == decoded.candidates(for: type), "\(type.name)")
        }
        let sock = try #require(spec.types.first { $0.name == "sock___v510" })
        #expect(read.candidates(for: sock).map { spec.types[$0].name } == ["sock", "sock___v510"])
        let state = try #require(spec.types.first { $0.name == "state" })
        #expect(read.candidates(for: state).map { spec.types[$0].name } == ["state", "state___new"])
        #expect(read.function(named: "bpf_iter_tcp") == decoded.function(named: "bpf_iter_tcp"))
        #expect(read.function(named: "bpf_iter_tcp") != nil)
        #expect(read.function(named: "sock") == nil)
        #expect(read.btf.types == spec.types)
    }

    /// Every single-byte change of the sample's records and header: the view accepts exactly what
    /// the full decoder accepts, and refuses the rest with the same error.
    @Test func refusesWhatTheSpecRefuses() throws {
        let bytes = Self.sample().bytes()
        var refused = 0
        for offset in 0..<bytes.count {
            for value: UInt8 in [0x00, 0x7F, 0xFF] where bytes[offset] != value {
                var mutated = bytes
                mutated[offset] = value
                let expected: BTFError?
                do { _ = try BTFSpec(bytes: mutated); expected = nil } catch { expected = error }
                let got: BTFError?
                do { _ = try Self.view(mutated); got = nil } catch { got = error }
                if expected != nil { refused += 1 }
                if case .badTypeID? = expected {
                    // Both name a bad reference; which one first may differ (the spec reports the
                    // first type with one, the view the highest id referred to).
                    guard case .badTypeID? = got else { Issue.record("offset \(offset) = \(value): \(String(describing: got))"); continue }
                } else {
                    #expect(got == expected, "offset \(offset) = \(value)")
                }
            }
        }
        #expect(refused > 100)
    }

    /// A header claiming a type section of 4 GiB (some 360 million records) is refused by its
    /// size, and records claiming 65535 members each are refused as truncated: nothing is
    /// allocated from a count the input only claims.
    @Test func hugeClaimsAllocateNothing() throws {
        let bytes = Self.sample().bytes()
        var huge = bytes
        huge.replaceSubrange(12..<16, with: UInt32.max.littleEndianBytes)
        #expect(throws: BTFError.badHeader(reason: "type section (0+4294967295) runs past the end")) { try Self.view(huge) }
        var b = BTFBuilder()
        let int = b.int("int", size: 4)
        _ = b.structure("s", size: 4, [("a", int, 0, 0)])
        var members = b.bytes()
        let record = 24 + 16 // header, then INT's 12 + 4 bytes
        members[record + 4] = 0xFF; members[record + 5] = 0xFF // vlen 65535
        #expect(throws: BTFError.truncated(what: "type 2", offset: 28)) { try Self.view(members) }
        var reference = b.bytes()
        reference.replaceSubrange((record + 16)..<(record + 20), with: UInt32.max.littleEndianBytes) // member a's type
        guard case .badTypeID(_, let id)? = Result(catching: { () throws(BTFError) in try Self.view(reference) }).failure else {
            Issue.record("a reference to type 2^32-1 is accepted"); return
        }
        #expect(id == Int(UInt32.max))
    }

    /// The running kernel's BTF, read in place and decoded whole: the same types, the same
    /// candidates for the types the data path relocates against, the same iterator function.
    @Test(.enabled(if: FileManager.default.isReadableFile(atPath: CORETargetBTF.kernelPath) || ProcessInfo.processInfo.environment["CI"] == "true", "needs /sys/kernel/btf/vmlinux (always runs in CI)"))
    func kernelBTF() throws {
        let read = try CORETargetBTF.runningKernel()
        let spec = try BTFSpec(bytes: FileBytes.read(CORETargetBTF.kernelPath))
        let decoded = CORETargetBTF(btf: spec)
        #expect(read.types.typeCount == spec.types.count)
        for id in stride(from: 1, to: spec.types.count, by: 97) { #expect(try read.types.type(id, "test") == spec.types[id]) }
        for name in ["sock", "sock_common", "tcp_sock", "task_struct", "bpf_sock_ops_kern", "sk_msg"] {
            let type = try #require(spec.types.first { $0.name == name && $0.isComposite })
            #expect(read.candidates(for: type) == decoded.candidates(for: type), "\(name)")
        }
        #expect(read.function(named: "bpf_iter_tcp") == decoded.function(named: "bpf_iter_tcp"))
        #expect(try CORETargetBTF.runningKernel().types.typeCount == read.types.typeCount)
    }
}

extension Result {
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
