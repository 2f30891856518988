import CBPF
import SystemPackage
import Testing
@testable import BPFLoader
import BPFObject

/// Map commands encode their attributes and map errnos, through the seam (no root, no kernel).
@Suite("map syscalls (mock kernel)")
struct MapSyscallTests {
    @Test func createEncodesTypeSizesFlagsAndName() throws {
        let kernel = MockKernel()
        let spec = MapSpec(name: "flows-by.port:long", type: .lruHash, keySize: 12, valueSize: 8, maxEntries: 128, flags: 1)
        let map = try kernel.run { try BPFMap(creating: spec) }
        let call = try #require(kernel.calls.first)
        #expect(kernel.commands == [.mapCreate])
        #expect(call.attr.map_type == MapType.lruHash.rawValue)
        #expect(call.attr.key_size == 12 && call.attr.value_size == 8 && call.attr.max_entries == 128)
        #expect(call.attr.map_flags == MapFlags.noPrealloc.rawValue)
        #expect(nameString(call.attr.map_name) == "flows_by.port_l") // 15 characters, '-' and ':' replaced
        #expect(call.attr.btf_fd == 0 && call.attr.btf_key_type_id == 0)
        #expect(map.keySize == 12 && map.flags == .noPrealloc)
    }

    @Test func createPassesBTFOnlyWithTypeIDs() throws {
        let kernel = MockKernel()
        let btf = KernelObject(rawFD: MockKernel.newFD())
        var spec = MapSpec(name: "counters", type: .array, keySize: 4, valueSize: 8, maxEntries: 4)
        _ = try kernel.run { try BPFMap(creating: spec, btf: btf) }
        spec.btfKeyTypeID = 3
        spec.btfValueTypeID = 5
        _ = try kernel.run { try BPFMap(creating: spec, btf: btf) }
        #expect(kernel.calls[0].attr.btf_fd == 0)
        #expect(kernel.calls[1].attr.btf_fd == field(btf.fd))
        #expect(kernel.calls[1].attr.btf_key_type_id == 3 && kernel.calls[1].attr.btf_value_type_id == 5)
    }

    @Test func globalDataIsWrittenThenFrozen() throws {
        let kernel = MockKernel()
        let spec = MapSpec(name: ".rodata", type: .array, keySize: 4, valueSize: 4, maxEntries: 1, origin: .globalData,
                           initialValue: [1, 2, 3, 4], freeze: true)
        _ = try kernel.run { try BPFMap(creating: spec) }
        #expect(kernel.commands == [.mapCreate, .mapUpdateElem, .mapFreeze])
    }

    @Test func createFailureCarriesCommandErrnoAndContext() {
        let kernel = MockKernel { _, _, _ in .failure(.notPermitted) }
        let spec = MapSpec(name: "sock_hash", type: .sockhash, keySize: 4, valueSize: 8, maxEntries: 1)
        let error = #expect(throws: BPFError.self) { try kernel.run { try BPFMap(creating: spec) } }
        #expect(error?.command == .mapCreate && error?.errno == .notPermitted)
        #expect(error?.context == "create map sock_hash")
    }

    @Test func lookupPassesTheKeyAndReturnsTheValueTheKernelWrote() throws {
        let map = testMap()
        let kernel = MockKernel { command, attr, _ in
            #expect(MockKernel.bytes(at: attr.key, count: 4) == [1, 2, 3, 4])
            MockKernel.write([9, 8, 7, 6, 5, 4, 3, 2], at: attr.value)
            return .success(0)
        }
        let value = try kernel.run { try map.lookup([1, 2, 3, 4]) }
        #expect(value == [9, 8, 7, 6, 5, 4, 3, 2])
        #expect(kernel.commands == [.mapLookupElem])
        #expect(kernel.calls[0].attr.map_fd == field(map.fd))
    }

    @Test func lookupOfAnAbsentKeyIsNil() throws {
        let kernel = MockKernel { _, _, _ in .failure(.noSuchFileOrDirectory) }
        #expect(try kernel.run { try testMap().lookup([0, 0, 0, 0]) } == nil)
    }

    @Test func lookupFailureOtherThanENOENTThrows() {
        let kernel = MockKernel { _, _, _ in .failure(.badFileDescriptor) }
        let thrown = #expect(throws: BPFMapError.self) { try kernel.run { try testMap().lookup([0, 0, 0, 0]) } }
        guard case .kernel(let error) = thrown else { Issue.record("\(String(describing: thrown))"); return }
        #expect(error.command == .mapLookupElem && error.errno == .badFileDescriptor)
    }

    @Test(arguments: [(MapUpdateFlag.any, UInt64(0)), (.noExist, 1), (.exist, 2)])
    func updateEncodesKeyValueAndFlag(flag: MapUpdateFlag, raw: UInt64) throws {
        let kernel = MockKernel { _, attr, _ in
            #expect(MockKernel.bytes(at: attr.key, count: 4) == [5, 0, 0, 0])
            #expect(MockKernel.bytes(at: attr.value, count: 8) == [1, 1, 1, 1, 2, 2, 2, 2])
            return .success(0)
        }
        try kernel.run { try testMap().update(key: [5, 0, 0, 0], value: [1, 1, 1, 1, 2, 2, 2, 2], flag: flag) }
        #expect(kernel.calls.map(\.attr.flags) == [raw])
    }

    @Test func updateOfAnExistingKeyWithNoExistThrowsEEXIST() {
        let kernel = MockKernel { _, _, _ in .failure(.fileExists) }
        let thrown = #expect(throws: BPFMapError.self) {
            try kernel.run { try testMap().update(key: [0, 0, 0, 0], value: [UInt8](repeating: 0, count: 8), flag: .noExist) }
        }
        guard case .kernel(let error) = thrown else { Issue.record("\(String(describing: thrown))"); return }
        #expect(error.command == .mapUpdateElem && error.errno == .fileExists)
    }

    @Test func deleteIsFalseForAnAbsentKey() throws {
        let absent = MockKernel { _, _, _ in .failure(.noSuchFileOrDirectory) }
        #expect(try absent.run { try testMap().delete([1, 0, 0, 0]) } == false)
        let present = MockKernel { _, attr, _ in
            #expect(MockKernel.bytes(at: attr.key, count: 4) == [1, 0, 0, 0])
            return .success(0)
        }
        #expect(try present.run { try testMap().delete([1, 0, 0, 0]) } == true)
        #expect(present.commands == [.mapDeleteElem])
    }

    @Test func keysWalkNextKeyFromNoKeyToENOENT() throws {
        let stored: [[UInt8]] = [[1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]]
        let kernel = MockKernel { _, attr, call in
            if call == 0 {
                #expect(attr.key == 0) // the first key
            } else {
                #expect(MockKernel.bytes(at: attr.key, count: 4) == stored[call - 1])
            }
            guard call < stored.count else { return .failure(.noSuchFileOrDirectory) }
            MockKernel.write(stored[call], at: attr.next_key)
            return .success(0)
        }
        #expect(try kernel.run { try testMap().keys() } == stored)
        #expect(kernel.commands == Array(repeating: .mapGetNextKey, count: 4))
    }

    @Test func keysStopAfterMaxEntriesWhenEntriesChurn() throws {
        let kernel = MockKernel { _, attr, _ in
            MockKernel.write([7, 0, 0, 0], at: attr.next_key) // never ends
            return .success(0)
        }
        #expect(try kernel.run { try testMap(maxEntries: 3).keys() }.count == 4)
    }
}
