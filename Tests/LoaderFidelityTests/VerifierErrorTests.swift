import BPFLoader
import BPFObject
import TestSupport
import Testing

/// A program the verifier rejects: the error must quote the C source line, which the kernel can
/// only do when the program came with BTF and line_info.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct VerifierErrorTests {
    @Test func rejectionQuotesTheSourceLine() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("verifier_reject"))
        let info = try #require(spec.program(named: "unchecked_lookup")?.btfExtInfo)
        #expect(info.funcInfoCount == 1)
        #expect(info.lineInfoCount > 3)
        let error = try #require(try #require(throws: LoadError.self) { try LoadedObject(spec) }.kernelError)
        let log = try #require(error.verifierLog)
        #expect(log.contains("*total += skb->len; /* BUG: total may be NULL */ @ verifier_reject.c:19"), "\(log)")
        #expect(log.contains("invalid mem access 'map_value_or_null'"), "\(log)")
        #expect(error.description.contains("; *total += skb->len;"))
        print(error.description)
    }

    @Test func withoutBTFTheLogHasNoSourceLines() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture("verifier_reject"))
        let error = try #require(try #require(throws: LoadError.self) { try LoadedObject(spec, options: .init(useBTF: false)) }.kernelError)
        #expect(error.verifierLog?.contains("@ verifier_reject.c") == false)
    }
}
