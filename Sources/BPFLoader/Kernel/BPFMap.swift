import SystemPackage

/// A map that exists in the kernel, with the layout needed to read and write it.
public final class BPFMap: Sendable {
    public let object: KernelObject
    public let name: String
    public let type: MapType
    public let keySize: Int
    public let valueSize: Int
    public let maxEntries: UInt32

    public var fd: FileDescriptor { object.fd }

    public init(object: KernelObject, name: String, type: MapType, keySize: Int, valueSize: Int, maxEntries: UInt32) {
        self.object = object
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
    }

    /// Creates the map `spec` describes.
    public convenience init(creating spec: MapSpec, btf: KernelObject? = nil) throws(BPFError) {
        let object = try BPFSyscall.createMap(.init(
            type: spec.type.rawValue, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
            flags: spec.flags, name: spec.name, btfFD: btf?.fd.rawValue,
            btfKeyTypeID: UInt32(spec.btfKeyTypeID), btfValueTypeID: UInt32(spec.btfValueTypeID)))
        self.init(object: object, name: spec.name, type: spec.type, keySize: Int(spec.keySize),
                  valueSize: Int(spec.valueSize), maxEntries: spec.maxEntries)
        if let initial = spec.initialValue {
            try update(key: [0, 0, 0, 0], value: initial)
            if spec.freeze { try BPFSyscall.freeze(map: fd, name: spec.name) }
        }
    }

    /// Opens a pinned map and reads its layout from the kernel.
    public convenience init(pinned path: String) throws(BPFError) {
        let object = try BPFSyscall.openPinned(path)
        let info = try BPFSyscall.mapInfo(object.fd)
        self.init(object: object, name: info.name, type: MapType(rawValue: info.type), keySize: Int(info.keySize),
                  valueSize: Int(info.valueSize), maxEntries: info.maxEntries)
    }

    public func info() throws(BPFError) -> MapInfo { try BPFSyscall.mapInfo(fd) }

    /// Bytes one user-space lookup returns: per-CPU maps return one 8-byte-aligned slot per possible CPU.
    public var lookupSize: Int {
        type.isPerCPU ? ((valueSize + 7) / 8 * 8) * PossibleCPUs.count : valueSize
    }

    /// The value stored under `key` (for per-CPU maps, every CPU's slot); nil when absent.
    public func lookup(_ key: [UInt8]) throws(BPFError) -> [UInt8]? {
        try check(key: key, "look up")
        return try BPFSyscall.lookup(map: fd, key: key, valueSize: lookupSize)
    }

    /// Stores `value` under `key`.
    public func update(key: [UInt8], value: [UInt8], flag: BPFSyscall.UpdateFlag = .any) throws(BPFError) {
        try check(key: key, "update")
        guard value.count == lookupSize else {
            throw BPFError(command: .mapUpdateElem, errno: .invalidArgument,
                           context: "update map \(name): value is \(value.count) bytes, the map's are \(lookupSize)")
        }
        try BPFSyscall.update(map: fd, key: key, value: value, flag: flag)
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ key: [UInt8]) throws(BPFError) -> Bool {
        try check(key: key, "delete from")
        return try BPFSyscall.delete(map: fd, key: key)
    }

    /// The kernel reads exactly `keySize` bytes from the key's address: a shorter buffer would be
    /// read past its end.
    private func check(key: [UInt8], _ what: String) throws(BPFError) {
        guard key.count == keySize else {
            throw BPFError(command: .mapLookupElem, errno: .invalidArgument,
                           context: "\(what) map \(name): key is \(key.count) bytes, the map's are \(keySize)")
        }
    }

    /// All keys, in the kernel's iteration order.
    public func keys() throws(BPFError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8]? = nil
        while let next = try BPFSyscall.nextKey(map: fd, after: current, keySize: keySize) {
            result.append(next)
            current = next
            if result.count > Int(maxEntries) { break } // entries churn under iteration; never loop forever
        }
        return result
    }

    public func pin(at path: String) throws(BPFError) { try BPFSyscall.pin(fd, at: path) }
}
