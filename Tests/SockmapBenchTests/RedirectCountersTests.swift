import Foundation
import SockmapAccelerator
import Testing
@testable import sockmap_bench

/// The bench reads the counters through the library (`Accelerator.counters()`), and reports them
/// under the names `swift-sockmap status --json` gives them.
@Suite("redirect counters")
struct RedirectCountersTests {
    @Test func namedAsStatusNamesThem() throws {
        var counters = Counters()
        for slot in Counters.Slot.allCases { counters[slot] = UInt64(slot.rawValue) + 1 }
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(counters)) as? [String: Any]
        let values = RedirectCounters(counters).values
        #expect(Set(values.keys) == Set(try #require(json).keys))
        #expect(values["messagesRedirected"] == Double(counters.messagesRedirected))
    }
}
