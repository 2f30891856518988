import BPFObject
import SystemPackage

/// A map that exists in the kernel, with the layout needed to read and write it.
public final class BPFMap: Sendable {
    /// The map's descriptor, closed with the last reference.
    public let object: KernelObject
    /// The map's name (as the object names it, or as the kernel reports it when opened).
    public let name: String
    /// The map's type.
    public let type: MapType
    /// Key size in bytes.
    public let keySize: Int
    /// Value size in bytes (per CPU for per-CPU maps).
    public let valueSize: Int
    /// Capacity.
    public let maxEntries: UInt32
    /// `map_flags` the map was created with.
    public let flags: MapFlags

    /// The map's file descriptor.
    public var fd: FileDescriptor { object.fd }

    /// A map around an open descriptor, with its layout.
    package init(object: KernelObject, name: String, type: MapType, keySize: Int, valueSize: Int, maxEntries: UInt32,
                flags: MapFlags = []) {
        self.object = object
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.flags = flags
    }

    /// Creates the map `spec` describes.
    public convenience init(creating spec: MapSpec, btf: KernelObject? = nil) throws(BPFError) {
        let object = try BPFSyscall.createMap(spec, btfFD: btf?.fd.rawValue)
        self.init(object: object, name: spec.name, type: spec.type, keySize: Int(spec.keySize),
                  valueSize: Int(spec.valueSize), maxEntries: spec.maxEntries, flags: MapFlags(rawValue: spec.flags))
        if let initial = spec.initialValue {
            try BPFSyscall.update(map: fd, key: [0, 0, 0, 0], value: initial)
            if spec.freeze { try BPFSyscall.freeze(map: fd, name: spec.name) }
        }
    }

    /// Opens a pinned map and reads its layout from the kernel.
    public convenience init(pinned path: String) throws(BPFError) {
        try self.init(opened: BPFSyscall.openPinned(path))
    }

    /// Opens the map with id `id` (`BPF_MAP_GET_FD_BY_ID`) and reads its layout; `ENOENT` when there is none.
    public convenience init(id: MapID) throws(BPFError) {
        try self.init(opened: BPFSyscall.mapFD(id: id))
    }

    private convenience init(opened object: KernelObject) throws(BPFError) {
        let info = try BPFSyscall.mapInfo(object.fd)
        self.init(object: object, name: info.name, type: info.type, keySize: Int(info.keySize),
                  valueSize: Int(info.valueSize), maxEntries: info.maxEntries, flags: info.flags)
    }

    /// What the kernel reports about the map.
    public func info() throws(BPFError) -> MapInfo { try BPFSyscall.mapInfo(fd) }

    /// Bytes one user-space lookup returns: per-CPU maps return one 8-byte-aligned slot per possible CPU.
    package var lookupSize: Int {
        type.isPerCPU ? ((valueSize + 7) / 8 * 8) * PossibleCPUs.count : valueSize
    }

    /// The value stored under `key` (for per-CPU maps, every CPU's slot); nil when absent.
    public func lookup(_ key: [UInt8]) throws(BPFMapError) -> [UInt8]? {
        try check(key: key)
        do { return try BPFSyscall.lookup(map: fd, key: key, valueSize: lookupSize) } catch { throw .kernel(error) }
    }

    /// Stores `value` under `key`.
    public func update(key: [UInt8], value: [UInt8], flag: MapUpdateFlag = .any) throws(BPFMapError) {
        try check(key: key)
        guard value.count == lookupSize else { throw .valueSize(map: name, expected: lookupSize, got: value.count) }
        do { try BPFSyscall.update(map: fd, key: key, value: value, flag: flag) } catch { throw .kernel(error) }
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ key: [UInt8]) throws(BPFMapError) -> Bool {
        try check(key: key)
        do { return try BPFSyscall.delete(map: fd, key: key) } catch { throw .kernel(error) }
    }

    /// The kernel reads exactly `keySize` bytes from the key's address: a shorter buffer would be
    /// read past its end, so no call is made with one.
    private func check(key: [UInt8]) throws(BPFMapError) {
        guard key.count == keySize else { throw .keySize(map: name, expected: keySize, got: key.count) }
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

    /// Pins the map at `path` in bpffs.
    public func pin(at path: String) throws(BPFError) { try BPFSyscall.pin(fd, at: path) }
}
