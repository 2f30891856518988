import Foundation
import Testing
@testable import SockmapAccelerator

/// `load` writes its date without Foundation's ISO 8601 machinery (which pages in ICU's time-zone
/// data); what it writes must still be what `.iso8601` writes and reads back.
@Suite("load state date")
struct LoadStateDateTests {
    @Test(arguments: [0, 1, 59.999, 951_782_400.5, 1_796_614_435, 4_102_444_799])
    func writesWhatISO8601Writes(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let foundation = String(decoding: try encoder.encode([date]), as: UTF8.self)
        #expect("[\"\(LoadState.iso8601(date))\"]" == foundation)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let back = try decoder.decode([Date].self, from: Data("[\"\(LoadState.iso8601(date))\"]".utf8))
        #expect(back == [Date(timeIntervalSince1970: seconds.rounded(.down))])
    }
}
