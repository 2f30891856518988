import Foundation
import TestSupport
import Testing
@testable import BPFLoader
@testable import BPFObject

/// Replays every input tools/fuzz.sh saved under Fixtures/crashers/ (hidden files, e.g.
/// `.crash-<sha1>`, so SwiftPM does not treat them as unhandled target files). Each once
/// crashed the loader; now each must parse or throw.
@Suite("fuzzer crashers")
struct CrasherReplayTests {
    static let directory = PackageLayout.root + "/Tests/BPFLoaderTests/Fixtures/crashers"

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0 != ".gitkeep" && $0 != "README" }.sorted()
    }()

    @Test func directoryIsNotEmpty() {
        #expect(!Self.files.isEmpty, "\(Self.directory) should hold the fuzzer's regression inputs")
    }

    @Test("replay", arguments: files)
    func replay(_ name: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: Self.directory + "/" + name).map { [UInt8]($0) })
        do {
            let spec = try ObjectSpec(bytes: bytes)
            #expect(!spec.programs.isEmpty)
        } catch {
            #expect(!error.description.isEmpty)
        }
        // The readers on their own, as the fuzz harness drives them.
        if let elf = try? ELFFile(bytes: bytes), let section = elf.section(named: ".BTF"),
           let data = try? elf.data(of: section), let btf = try? BTFSpec(bytes: data) {
            for id in btf.types.indices.dropFirst() {
                _ = try? btf.skipModifiers(id)
                _ = try? btf.size(of: id)
            }
        }
    }
}
