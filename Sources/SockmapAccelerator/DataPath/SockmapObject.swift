import BPFLoader
import BPFObject

/// The parts of a BPF object that make a sockmap data path, found by program type, so that any
/// such object loads, not only `bpf/redir.c`:
/// - exactly one `sockops` program (attached to the cgroup);
/// - one `sk_msg` program, or else one `sk_skb/stream_parser` + `sk_skb/stream_verdict` pair
///   (attached to the map);
/// - the SOCKHASH or SOCKMAP the verdict program references (or the one `--map` names).
package struct SockmapObject: Sendable, Equatable {
    /// The sock_ops program, attached to the cgroup.
    package var sockopsProgram: String
    /// The sk_msg program, or the sk_skb stream verdict program.
    package var verdictProgram: String
    /// The sk_skb stream parser; nil for an sk_msg data path.
    package var parserProgram: String?
    /// The SOCKHASH or SOCKMAP the sock_ops program fills and the verdict program is attached to.
    package var sockmap: String
    /// Whether the object has our counters and config maps (it is built from `bpf/redir.c`):
    /// counters, policy, pause and pass-through on detach need them.
    package var providesOwnMaps: Bool
    /// How to show the map's keys, from the object's BTF; nil when it has none for the key.
    package var keyLayout: KeyLayout?

    /// The attach type of the verdict program on the map.
    package var verdictAttachType: AttachType { parserProgram == nil ? .skMsgVerdict : .skSkbStreamVerdict }

    /// Finds the data path in `spec` (read from `path`, for messages). `mapName` settles which
    /// SOCKHASH/SOCKMAP to use when the verdict program references none or several.
    package init(spec: ObjectSpec, path: String, mapName: String? = nil) throws(AcceleratorError) {
        sockopsProgram = try Self.single(spec.programs.filter { $0.type == .sockOps }, kind: "sockops", path: path).name
        let messagePrograms = spec.programs.filter { $0.type == .skMsg }
        let parsers = spec.programs.filter { $0.type == .skSkb && $0.expectedAttachType == .skSkbStreamParser }
        let streamVerdicts = spec.programs.filter { $0.type == .skSkb && $0.expectedAttachType == .skSkbStreamVerdict }
        let verdict: ProgramSpec
        if !messagePrograms.isEmpty {
            verdict = try Self.single(messagePrograms, kind: "sk_msg", path: path)
            parserProgram = nil
        } else if !parsers.isEmpty || !streamVerdicts.isEmpty {
            verdict = try Self.single(streamVerdicts, kind: "sk_skb/stream_verdict", path: path)
            parserProgram = try Self.single(parsers, kind: "sk_skb/stream_parser", path: path).name
        } else {
            throw .missingProgram(kind: "sk_msg (or sk_skb/stream_parser + sk_skb/stream_verdict)", path: path)
        }
        verdictProgram = verdict.name

        let isSockmap: (MapSpec) -> Bool = { $0.type == .sockhash || $0.type == .sockmap }
        let chosen: MapSpec
        if let mapName {
            guard let named = spec.map(named: mapName) else { throw .missingMap(name: mapName, path: path) }
            guard isSockmap(named) else {
                throw .objectUnusable(path: path, reason: "--map \(mapName) is a \(named.type), not a SOCKHASH or SOCKMAP")
            }
            chosen = named
        } else {
            var referenced: [String] = []
            for reference in verdict.mapReferences where !referenced.contains(reference.mapName) {
                if let map = spec.map(named: reference.mapName), isSockmap(map) { referenced.append(map.name) }
            }
            guard referenced.count == 1, let only = spec.map(named: referenced[0]) else {
                let found = referenced.isEmpty ? "no SOCKHASH or SOCKMAP" : "several sockmaps (\(referenced.joined(separator: ", ")))"
                throw .objectUnusable(path: path, reason: "its verdict program \(verdict.name) references \(found): name the one to use with --map NAME")
            }
            chosen = only
        }
        sockmap = chosen.name
        providesOwnMaps = spec.map(named: DataPath.countersMap) != nil && spec.map(named: DataPath.configMap) != nil
        keyLayout = spec.btf.flatMap { KeyLayout(btf: $0, typeID: chosen.btfKeyTypeID, size: Int(chosen.keySize)) }
    }

    private static func single(_ programs: [ProgramSpec], kind: String, path: String) throws(AcceleratorError) -> ProgramSpec {
        guard let first = programs.first else { throw .missingProgram(kind: kind, path: path) }
        guard programs.count == 1 else {
            throw .objectUnusable(path: path, reason: "it has \(programs.count) \(kind) programs (\(programs.map(\.name).joined(separator: ", "))); swift-sockmap loads one")
        }
        return first
    }
}
