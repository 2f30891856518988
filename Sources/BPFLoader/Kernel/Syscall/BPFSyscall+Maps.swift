import BPFObject
internal import CBPF
import SystemPackage

extension BPFSyscall {
    /// `BPF_MAP_CREATE` for `spec` (its type, sizes, flags and name); with `btfFD`, the map gets
    /// the spec's BTF key and value types, when it names any.
    static func createMap(_ spec: MapSpec, btfFD: Int32? = nil) throws(BPFError) -> KernelObject {
        MemlockLimit.raiseOnce()
        var attr = bpf_attr()
        attr.map_type = spec.type.rawValue
        attr.key_size = spec.keySize
        attr.value_size = spec.valueSize
        attr.max_entries = spec.maxEntries
        attr.map_flags = spec.flags
        attr.map_name = nameTuple(spec.name)
        if let btfFD, spec.btfKeyTypeID != 0 || spec.btfValueTypeID != 0 {
            attr.btf_fd = fdField(btfFD)
            attr.btf_key_type_id = UInt32(spec.btfKeyTypeID)
            attr.btf_value_type_id = UInt32(spec.btfValueTypeID)
        }
        return KernelObject(rawFD: try call(.mapCreate, &attr, "create map \(spec.name)"))
    }

    /// The value under `key` (`valueSize` bytes); nil when the key is absent (`ENOENT`).
    static func lookup(map: FileDescriptor, key: [UInt8], valueSize: Int) throws(BPFError) -> [UInt8]? {
        let keyBuffer = KernelBuffer(key), value = KernelBuffer(count: valueSize)
        var attr = bpf_attr()
        attr.map_fd = fdField(map.rawValue)
        attr.key = keyBuffer.address
        attr.value = value.address
        let found = try withExtendedLifetime((keyBuffer, value)) { () throws(BPFError) in
            try callUnlessAbsent(.mapLookupElem, &attr, "look up map element")
        }
        return found == nil ? nil : value.contents
    }

    static func update(map: FileDescriptor, key: [UInt8], value: [UInt8], flag: MapUpdateFlag = .any) throws(BPFError) {
        let keyBuffer = KernelBuffer(key), valueBuffer = KernelBuffer(value)
        var attr = bpf_attr()
        attr.map_fd = fdField(map.rawValue)
        attr.key = keyBuffer.address
        attr.value = valueBuffer.address
        attr.flags = flag.rawValue
        _ = try withExtendedLifetime((keyBuffer, valueBuffer)) { () throws(BPFError) in
            try call(.mapUpdateElem, &attr, "update map element")
        }
    }

    /// Returns false when the key was not there.
    @discardableResult
    static func delete(map: FileDescriptor, key: [UInt8]) throws(BPFError) -> Bool {
        let keyBuffer = KernelBuffer(key)
        var attr = bpf_attr()
        attr.map_fd = fdField(map.rawValue)
        attr.key = keyBuffer.address
        return try withExtendedLifetime(keyBuffer) { () throws(BPFError) in
            try callUnlessAbsent(.mapDeleteElem, &attr, "delete map element") != nil
        }
    }

    /// The key after `key` (or the first key when `key` is nil); nil at the end of the map.
    static func nextKey(map: FileDescriptor, after key: [UInt8]?, keySize: Int) throws(BPFError) -> [UInt8]? {
        let keyBuffer = key.map { KernelBuffer($0) }, next = KernelBuffer(count: keySize)
        var attr = bpf_attr()
        attr.map_fd = fdField(map.rawValue)
        attr.key = keyBuffer?.address ?? 0
        attr.next_key = next.address
        let found = try withExtendedLifetime((keyBuffer, next)) { () throws(BPFError) in
            try callUnlessAbsent(.mapGetNextKey, &attr, "iterate map keys")
        }
        return found == nil ? nil : next.contents
    }

    static func freeze(map: FileDescriptor, name: String) throws(BPFError) {
        var attr = bpf_attr()
        attr.map_fd = fdField(map.rawValue)
        try call(.mapFreeze, &attr, "freeze map \(name)")
    }
}
