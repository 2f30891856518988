import BPFObject

/// Every map and program of an object, created and loaded in the kernel.
///
/// Creation is all or nothing: if a later map or program fails, the earlier ones are closed
/// (their fds go away with this value) and nothing remains in the kernel.
public struct LoadedObject: Sendable {
    /// The maps, by name (global-data maps by section name: `.rodata`, `.data`, `.bss`).
    public let maps: [String: BPFMap]
    /// The programs, by the name of their entry function.
    public let programs: [String: BPFProgram]
    /// The object's BTF in the kernel, when it could be loaded.
    public let btf: KernelObject?
    /// Why BTF was left out, in whole or for some maps or programs (like libbpf, a kernel that
    /// refuses the BTF costs pretty-printing and source lines, and the load only of maps that
    /// cannot exist without BTF, such as SK_STORAGE). Empty when every
    /// map and program that could have BTF got it (map types the kernel never gives BTF, such as
    /// SOCKHASH, are not listed).
    public let btfFallbacks: [String]
    /// Programs of `Options.optionalPrograms` that were left out, with why (the kernel lacks
    /// their attach function, or refused to load them). Empty when every program loaded.
    public let skippedPrograms: [String: String]
    /// Where each map the object pins by name (`LIBBPF_PIN_BY_NAME`) is pinned, by map name:
    /// `Options.pinRoot` and the map's name, reused from an earlier load or pinned by this one.
    public let pinnedMaps: [String: String]

    /// Options for loading an object.
    public struct Options: Sendable {
        /// Overrides `max_entries` of the named maps.
        public var maxEntries: [String: UInt32] = [:]
        /// Loads `.BTF` and hands it to maps and programs (falls back to no BTF if the kernel refuses it).
        public var useBTF = true
        /// Maps that already exist (for example pinned by an earlier load) to use instead of
        /// creating the map of that name; their layout must match the object's.
        public var existingMaps: [String: BPFMap] = [:]
        /// The BTF file CO-RE relocations are resolved against (like libbpf's `btf_custom_path`);
        /// nil: the running kernel's, `/sys/kernel/btf/vmlinux` (`CORETargetBTF.runningKernel()`,
        /// read once per process). Read only when the object has relocations to apply.
        public var coreBTFPath: String? = nil
        /// The target BTF already read, used instead of reading `coreBTFPath` (or the kernel's):
        /// a caller loading many objects reads it once, as with cilium/ebpf's `KernelTypes` (the
        /// running kernel's is read once per process anyway).
        public var coreTarget: CORETargetBTF? = nil
        /// Programs the object works without: if the kernel cannot load one (it lacks the
        /// function the program attaches to, or refuses the program), it is left out and listed
        /// in `skippedPrograms` instead of failing the whole load.
        public var optionalPrograms: Set<String> = []
        /// The directory, in the BPF file system, where maps that ask to be pinned by name
        /// (`__uint(pinning, LIBBPF_PIN_BY_NAME)`) live, as libbpf's `pin_root_path`: such a map
        /// is the one pinned at `pinRoot/<name>` when there is one (it must match the definition,
        /// else `LoadError.incompatiblePin`), else it is created and pinned there once the whole
        /// object has loaded. A map in `existingMaps` is used as given, pinned or not.
        public var pinRoot: String = LoadedObject.defaultPinRoot

        /// Options; the defaults load the object as it is, with BTF, against the running kernel.
        public init(maxEntries: [String: UInt32] = [:], useBTF: Bool = true, existingMaps: [String: BPFMap] = [:],
                    coreBTFPath: String? = nil, coreTarget: CORETargetBTF? = nil) {
            self.maxEntries = maxEntries
            self.useBTF = useBTF
            self.existingMaps = existingMaps
            self.coreBTFPath = coreBTFPath
            self.coreTarget = coreTarget
        }
    }

    /// libbpf's default `pin_root_path`: where maps pinned by name go when `Options.pinRoot` is
    /// not set.
    public static let defaultPinRoot = "/sys/fs/bpf"

    /// Creates the maps and loads the programs of `spec`, first applying its CO-RE relocations
    /// (against `options.coreTarget` or `options.coreBTFPath`) if it has any; an unreadable target
    /// or a relocation that cannot be applied fails with `.core`, before any system call. Maps in
    /// `options.existingMaps` are checked against their definitions (with `options.maxEntries`
    /// applied) before anything is created: one that differs fails with `.incompatibleMap`. So are
    /// the maps already pinned under `options.pinRoot` for definitions that pin by name
    /// (`.incompatiblePin`); the ones not pinned yet are pinned after everything has loaded.
    public init(_ spec: ObjectSpec, options: Options = .init()) throws(LoadError) {
        try Self.checkReusable(options.existingMaps, for: spec, maxEntries: options.maxEntries)
        let pins = try Self.pinnedByName(spec, options: options)
        let relocated: ObjectSpec
        do { relocated = try Self.applyingCORE(to: spec, options: options) } catch { throw .core(error) }
        var skipped: [String: String] = [:]
        for program in spec.programs where !relocated.programs.contains(where: { $0.name == program.name }) {
            skipped[program.name] = "the kernel has no \(program.attachFunction ?? "attach function") to attach it to"
        }
        var creating = options
        creating.existingMaps.merge(pins.reused) { given, _ in given }
        do {
            try self.init(creating: relocated, options: creating, skipped: skipped, pinnedMaps: pins.paths)
            try Self.pin(maps, at: pins.paths, except: creating.existingMaps.keys)
        } catch { throw .kernel(error) }
    }

    /// The maps `spec` pins by name (and `options.existingMaps` does not give): their pin paths,
    /// and those already pinned, opened and checked against their definitions.
    static func pinnedByName(_ spec: ObjectSpec, options: Options) throws(LoadError)
        -> (paths: [String: String], reused: [String: BPFMap]) {
        var paths: [String: String] = [:]
        var reused: [String: BPFMap] = [:]
        for var mapSpec in spec.maps where mapSpec.pinning == .byName && options.existingMaps[mapSpec.name] == nil {
            let path = options.pinRoot + "/" + mapSpec.name
            paths[mapSpec.name] = path
            let pinned: BPFMap
            do { pinned = try BPFMap(pinned: path) } catch {
                if error.errno == .noSuchFileOrDirectory { continue } // not pinned yet: created, then pinned
                throw .kernel(error)
            }
            if let override = options.maxEntries[mapSpec.name] { mapSpec.maxEntries = override }
            let differences = MapDifference.between(pinned, mapSpec)
            guard differences.isEmpty else { throw .incompatiblePin(name: mapSpec.name, path: path, differences: differences) }
            reused[mapSpec.name] = pinned
        }
        return (paths, reused)
    }

    /// Pins the maps named in `paths` that this load created (not those in `existing`), creating
    /// the pin root if it is missing (one level, as libbpf does); if one fails, the pins made here
    /// are removed again, so a failed load leaves no pin behind.
    static func pin(_ maps: [String: BPFMap], at paths: [String: String], except existing: some Sequence<String>) throws(BPFError) {
        let existing = Set(existing)
        var made: [String] = []
        for (name, path) in paths.sorted(by: { $0.key < $1.key }) where !existing.contains(name) {
            guard let map = maps[name] else { continue }
            let root = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            if !root.isEmpty { _ = try? HostSystem.makeDirectory(root) }
            do { try map.pin(at: path) } catch {
                for done in made { try? HostSystem.removeFile(done) }
                throw error
            }
            made.append(path)
        }
    }

    /// `spec` with its CO-RE relocations applied against the target `options` names (the decoded
    /// `coreTarget`, else the BTF at `coreBTFPath`, else the running kernel's); `spec` itself
    /// when it has none.
    static func applyingCORE(to spec: ObjectSpec, options: Options) throws(COREError) -> ObjectSpec {
        guard spec.needsCORE else { return spec }
        let target = if let given = options.coreTarget { given } else if let path = options.coreBTFPath {
            try CORETargetBTF(path: path)
        } else {
            try CORETargetBTF.runningKernel()
        }
        let available = spec.removingPrograms { program in
            guard options.optionalPrograms.contains(program.name), let function = program.attachFunction else { return false }
            return target.function(named: function) == nil
        }
        return try available.relocatingCORE(against: target)
    }

    /// Throws for the first existing map that differs from the definition of its name.
    static func checkReusable(_ existingMaps: [String: BPFMap], for spec: ObjectSpec,
                              maxEntries: [String: UInt32]) throws(LoadError) {
        for var mapSpec in spec.maps {
            guard let existing = existingMaps[mapSpec.name] else { continue }
            if let override = maxEntries[mapSpec.name] { mapSpec.maxEntries = override }
            let differences = MapDifference.between(existing, mapSpec)
            guard differences.isEmpty else { throw .incompatibleMap(name: mapSpec.name, differences: differences) }
        }
    }

    /// `init(_:options:)` once the existing maps are known to fit.
    private init(creating spec: ObjectSpec, options: Options, skipped: [String: String],
                 pinnedMaps: [String: String]) throws(BPFError) {
        var skipped = skipped
        var fallbacks: [String] = []
        var btf: KernelObject?
        if options.useBTF, let specBTF = spec.btf {
            fallbacks += spec.btfProblems
            if let raw = specBTF.kernelBytes() {
                do { btf = try BPFSyscall.loadBTF(raw) } catch {
                    let reason = error.verifierLog?.split(separator: "\n").last.map { ": \($0)" } ?? ""
                    fallbacks.append("the kernel refused the BTF (\(error.errno))\(reason)")
                }
            }
        }
        var maps: [String: BPFMap] = [:]
        for var mapSpec in spec.maps {
            if let existing = options.existingMaps[mapSpec.name] {
                maps[mapSpec.name] = existing // checked by `init(_:options:)`
                continue
            }
            if let override = options.maxEntries[mapSpec.name] { mapSpec.maxEntries = override }
            if Self.refusesBTF(mapSpec.type) { (mapSpec.btfKeyTypeID, mapSpec.btfValueTypeID) = (0, 0) }
            do {
                maps[mapSpec.name] = try BPFMap(creating: mapSpec, btf: btf)
            } catch where btf != nil && (mapSpec.btfKeyTypeID != 0 || mapSpec.btfValueTypeID != 0) {
                // Kernels refuse BTF for some map types; if the map cannot be made without it
                // either (SK_STORAGE needs it), the first error is the one that explains why.
                do { maps[mapSpec.name] = try BPFMap(creating: mapSpec, btf: nil) } catch _ { throw error }
                fallbacks.append("map \(mapSpec.name) created without BTF (\(error.errno))")
            }
        }
        var programs: [String: BPFProgram] = [:]
        for program in spec.programs {
            if options.optionalPrograms.contains(program.name) {
                do { programs[program.name] = try BPFProgram(loading: program, maps: maps, btf: nil) } catch {
                    skipped[program.name] = "the kernel refused it: \(error.errno)"
                }
                continue
            }
            do throws(BPFError) {
                do {
                    programs[program.name] = try BPFProgram(loading: program, maps: maps, btf: btf)
                } catch let withBTF where btf != nil {
                    // A verifier rejection fails again below and is reported with its source lines;
                    // a program that loads only without BTF means the kernel refused its func/line info.
                    do {
                        programs[program.name] = try BPFProgram(loading: program, maps: maps, btf: nil)
                    } catch {
                        throw withBTF
                    }
                    let reason = withBTF.verifierLog?.split(separator: "\n").last.map { ": \($0)" } ?? ""
                    fallbacks.append("program \(program.name) loaded without BTF (\(withBTF.errno))\(reason)")
                }
            } catch where !program.poisonedCORE.isEmpty && error.verifierLog?.contains("unknown#195896080") == true {
                // libbpf rewrites the log line; we say which relocation it was next to the log.
                throw BPFError(command: error.command, errno: error.errno,
                               context: error.context + " (" + CORERelocator.explainPoison(in: program) + ")",
                               verifierLog: error.verifierLog)
            }
        }
        self.maps = maps
        self.programs = programs
        self.btf = btf
        self.btfFallbacks = fallbacks
        self.skippedPrograms = skipped
        self.pinnedMaps = pinnedMaps
    }

    /// Map types whose kernel implementation refuses BTF (`map_check_no_btf`, -ENOTSUPP): the
    /// list libbpf strips BTF for. A key type alone is no way out: the kernel wants a value type
    /// with it. So these maps (our SOCKHASH among them) are created without BTF, by design.
    static func refusesBTF(_ type: MapType) -> Bool { typesRefusingBTF.contains(type) }

    private static let typesRefusingBTF: Set<MapType> = [
        .perfEventArray, .stackTrace, .cgroupArray, .arrayOfMaps, .hashOfMaps, .devmap, .sockmap,
        .cpumap, .xskmap, .sockhash, .queue, .stack, .devmapHash,
    ]
}
