/// Every map and program of an object, created and loaded in the kernel.
///
/// Creation is all or nothing: if a later map or program fails, the earlier ones are closed
/// (their fds go away with this value) and nothing remains in the kernel.
public struct LoadedObject: Sendable {
    public let maps: [String: BPFMap]
    public let programs: [String: BPFProgram]
    /// The object's BTF in the kernel, when it could be loaded.
    public let btf: KernelObject?

    /// Options for loading an object.
    public struct Options: Sendable {
        /// Overrides `max_entries` of the named maps.
        public var maxEntries: [String: UInt32] = [:]
        /// Loads `.BTF` and hands it to maps and programs (falls back to no BTF if the kernel refuses it).
        public var useBTF = true

        public init(maxEntries: [String: UInt32] = [:], useBTF: Bool = true) {
            self.maxEntries = maxEntries
            self.useBTF = useBTF
        }
    }

    public init(_ spec: ObjectSpec, options: Options = .init()) throws(BPFError) {
        var btf: KernelObject?
        if options.useBTF, let raw = spec.btf?.kernelBytes() {
            btf = try? BPFSyscall.loadBTF(raw)
        }
        var maps: [String: BPFMap] = [:]
        for var mapSpec in spec.maps {
            if let override = options.maxEntries[mapSpec.name] { mapSpec.maxEntries = override }
            do {
                maps[mapSpec.name] = try BPFMap(creating: mapSpec, btf: btf)
            } catch where btf != nil && (mapSpec.btfKeyTypeID != 0 || mapSpec.btfValueTypeID != 0) {
                maps[mapSpec.name] = try BPFMap(creating: mapSpec, btf: nil) // kernels refuse BTF for some map types
            }
        }
        var programs: [String: BPFProgram] = [:]
        for program in spec.programs {
            programs[program.name] = try BPFProgram(loading: program, maps: maps)
        }
        self.maps = maps
        self.programs = programs
        self.btf = btf
    }
}
