import Foundation
import SystemPackage
import Testing
@testable import BPFLoader
import BPFObject

/// Keys, values and reused maps that do not fit are refused before any system call, with
/// errors of their own.
@Suite("validation (mock kernel)")
struct ValidationTests {
    @Test func aShortKeyIsRefusedWithoutASyscall() {
        let kernel = MockKernel()
        let map = testMap(keySize: 4)
        #expect(throws: BPFMapError.self) { try kernel.run { try map.lookup([1, 2]) } }
        #expect(throws: BPFMapError.self) { try kernel.run { try map.delete([1, 2, 3, 4, 5]) } }
        do {
            try kernel.run { try map.update(key: [1], value: [UInt8](repeating: 0, count: 8)) }
            Issue.record("expected a key size error")
        } catch let error as BPFMapError {
            guard case .keySize(let name, let expected, let got) = error else { Issue.record("\(error)"); return }
            #expect(name == "test_map" && expected == 4 && got == 1)
            #expect(error.description == "map test_map: its keys are 4 bytes, this one is 1")
        } catch {
            Issue.record("\(error)")
        }
        #expect(kernel.calls.isEmpty)
    }

    @Test func aValueOfTheWrongSizeIsRefusedWithoutASyscall() {
        let kernel = MockKernel()
        let map = testMap(keySize: 4, valueSize: 8)
        let error = #expect(throws: BPFMapError.self) { try kernel.run { try map.update(key: [0, 0, 0, 0], value: [1, 2, 3]) } }
        guard case .valueSize(_, 8, 3) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(kernel.calls.isEmpty)
    }

    @Test func aKernelFailureIsWrappedNotRewritten() {
        let kernel = MockKernel { _, _, _ in .failure(.noMemory) }
        let error = #expect(throws: BPFMapError.self) { try kernel.run { try testMap().update(key: [0, 0, 0, 0], value: [UInt8](repeating: 0, count: 8)) } }
        guard case .kernel(let kernelError) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(kernelError.command == .mapUpdateElem && kernelError.errno == .noMemory)
    }

    @Test func everyDifferingFieldOfAReusedMapIsListed() {
        let existing = BPFMap(object: KernelObject(rawFD: MockKernel.newFD()), name: "flows", type: .hash, keySize: 4,
                              valueSize: 8, maxEntries: 16, flags: .noPrealloc)
        let spec = MapSpec(name: "flows", type: .lruHash, keySize: 8, valueSize: 16, maxEntries: 32)
        let differences = MapDifference.between(existing, spec)
        #expect(differences.map(\.field) == ["type", "key size", "value size", "max entries", "flags"])
        #expect(differences[1] == MapDifference(field: "key size", existing: "4", wanted: "8"))
        #expect(MapDifference.between(existing, MapSpec(name: "flows", type: .hash, keySize: 4, valueSize: 8,
                                                        maxEntries: 16, flags: 1)).isEmpty)
        let error = LoadError.incompatibleMap(name: "flows", differences: Array(differences.prefix(2)))
        #expect(error.description == "reuse map flows: it differs from the object's definition in type hash (the object's: lru_hash), key size 4 (the object's: 8)")
    }

    static let legacyMaps = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/bpf/legacy_maps.o").standardized.path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: legacyMaps) || ProcessInfo.processInfo.environment["CI"] == "true", "make -C bpf builds the fixtures (always runs in CI)"))
    func anIncompatibleReusedMapFailsTheLoadBeforeAnySyscall() throws {
        let spec = try ObjectSpec(path: Self.legacyMaps)
        let kernel = MockKernel()
        let wrong = BPFMap(object: KernelObject(rawFD: MockKernel.newFD()), name: "legacy_flows", type: .hash,
                           keySize: 8, valueSize: 16, maxEntries: 64, flags: .noPrealloc)
        let error = #expect(throws: LoadError.self) {
            try kernel.run { try LoadedObject(spec, options: .init(useBTF: false, existingMaps: ["legacy_flows": wrong])) }
        }
        guard case .incompatibleMap(let name, let differences) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(name == "legacy_flows" && differences.map(\.field) == ["max entries"])
        #expect(kernel.calls.isEmpty)
        // With max_entries overridden to the existing map's, it fits.
        try LoadedObject.checkReusable(["legacy_flows": wrong], for: spec, maxEntries: ["legacy_flows": 64])
    }
    static let coreFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/bpf/libbpf_core_probe_read.o").standardized.path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: coreFixture) || ProcessInfo.processInfo.environment["CI"] == "true", "make -C bpf builds the fixtures (always runs in CI)"))
    func anUnreadableCORETargetFailsTheLoadAsCOREBeforeAnySyscall() throws {
        let spec = try ObjectSpec(path: Self.coreFixture)
        #expect(spec.needsCORE)
        let kernel = MockKernel()
        let error = #expect(throws: LoadError.self) {
            try kernel.run { try LoadedObject(spec, options: .init(coreBTFPath: "/nonexistent/vmlinux")) }
        }
        guard case .core(.targetUnavailable(let path, _)) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == "/nonexistent/vmlinux")
        #expect(error?.kernelError == nil)
        #expect(kernel.calls.isEmpty)
    }
}
