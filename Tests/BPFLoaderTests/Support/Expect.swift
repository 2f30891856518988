import Testing
@testable import BPFLoader
@testable import BPFObject

/// Parses `bytes` and expects exactly `expected`, whose description must mention every fragment.
func expectObjectError(_ bytes: [UInt8], _ expected: ObjectError, mentions fragments: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try ObjectSpec(bytes: bytes)
        Issue.record("expected \(expected), but the object parsed", sourceLocation: sourceLocation)
    } catch {
        #expect(error == expected, sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.description.contains(fragment), "\"\(error.description)\" should mention \(fragment)", sourceLocation: sourceLocation)
        }
    }
}

/// Parses `bytes` and returns the error, recording an issue if it parsed.
func objectError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> ObjectError? {
    do {
        _ = try ObjectSpec(bytes: bytes)
        Issue.record("expected an error, but the object parsed", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(!error.description.isEmpty, sourceLocation: sourceLocation)
        return error
    }
}
