import BPFLoader
import BPFObject
import Foundation
import TestSupport
import Testing

/// Maps that ask to be pinned by name (`LIBBPF_PIN_BY_NAME`), as libbpf honours them: the map
/// pinned under the pin root is reused, a missing one is created and pinned, and a pinned map
/// that does not match the definition is refused.
@Suite(.serialized, .enabled(if: Environment.kernelTestsEnabled, Environment.kernelTestsReason))
struct PinByNameTests {
    static let object = "libbpf_pinned_maps"

    @Test func theDefinitionSaysWhichMapIsPinned() throws {
        let spec = try ObjectSpec(path: PackageLayout.fixture(Self.object))
        #expect(spec.map(named: "shared_counts")?.pinning == .byName)
        #expect(spec.map(named: "private_counts")?.pinning == MapPinning.none)
    }

    @Test func aMapPinnedByNameIsCreatedOnceAndReusedByTheNextLoad() throws {
        let pins = try PinDirectory("by-name")
        var options = LoadedObject.Options()
        options.pinRoot = pins.path + "/root" // missing: created, as libbpf creates the pin's directory
        let spec = try ObjectSpec(path: PackageLayout.fixture(Self.object))
        let path = options.pinRoot + "/shared_counts"

        let first = try LoadedObject(spec, options: options)
        #expect(first.pinnedMaps == ["shared_counts": path])
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: options.pinRoot + "/private_counts"))
        try first.maps["shared_counts"]!.update(key: UInt32(0).bytes, value: UInt64(42).littleEndianBytes)

        let second = try LoadedObject(spec, options: options)
        #expect(second.pinnedMaps == ["shared_counts": path])
        #expect(try second.maps["shared_counts"]!.info().id == first.maps["shared_counts"]!.info().id)
        #expect(try second.maps["private_counts"]!.info().id != first.maps["private_counts"]!.info().id)
        #expect(try second.maps["shared_counts"]!.lookup(UInt32(0).bytes)?.littleEndianU64(at: 0) == 42)
    }

    @Test func aPinnedMapThatDiffersFromTheDefinitionIsRefused() throws {
        let pins = try PinDirectory("by-name-mismatch")
        var options = LoadedObject.Options()
        options.pinRoot = pins.path
        let path = pins.path + "/shared_counts"
        let other = try BPFMap(creating: MapSpec(name: "shared_counts", type: .array, keySize: 4, valueSize: 8, maxEntries: 8))
        try other.pin(at: path)

        let spec = try ObjectSpec(path: PackageLayout.fixture(Self.object))
        let error = #expect(throws: LoadError.self) { try LoadedObject(spec, options: options) }
        guard case .incompatiblePin(let name, let pinPath, let differences) = error else {
            Issue.record("expected incompatiblePin, got \(String(describing: error))")
            return
        }
        #expect(name == "shared_counts" && pinPath == path)
        #expect(differences.map(\.description) == ["max entries 8 (the object's: 4)"])
        #expect(error?.description.contains(path) == true)

        // The definition's max_entries, overridden to the pinned map's, matches it.
        options.maxEntries = ["shared_counts": 8]
        let loaded = try LoadedObject(spec, options: options)
        #expect(try loaded.maps["shared_counts"]!.info().id == other.info().id)
    }
}
