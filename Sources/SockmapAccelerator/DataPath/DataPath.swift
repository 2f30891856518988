/// Names and layouts the accelerator expects in the BPF object (see `bpf/redir.c`).
public enum DataPath {
    /// The SOCKHASH of connected sockets (`sock_hash`).
    public static let sockhashMap = "sock_hash"
    /// Addresses and prefixes a SYN may carry a pairing token toward (`local_nets`, an LPM trie).
    public static let localNetworksMap = "local_nets"
    /// The per-CPU array of ``Counters`` (`counters`).
    public static let countersMap = "counters"
    /// The allow/deny list, keyed by ``PolicyEntry`` (`policy`).
    public static let policyMap = "policy"
    /// The one-entry array holding ``Config`` (`config`).
    public static let configMap = "config"
    /// The TCP iterator `detach` runs to release idle connections (`sockmap_sweep`).
    package static let sweepProgram = "sockmap_sweep"
    /// The TCP iterator `load` runs to adopt listeners opened before it (`sockmap_adopt`).
    package static let adoptProgram = "sockmap_adopt"
    /// The TCP iterator that reports every socket the data path entered in the SOCKHASH, with its
    /// peer and connection (`sockmap_sockets`, `struct socket_record`): `dump-map` and `detach`'s
    /// sweep read it.
    package static let socketsProgram = "sockmap_sockets"
    /// The programs `load` and `load --replace` go on without when the kernel refuses them (the
    /// iterators): a kernel without them still accelerates.
    package static let optionalPrograms: Set<String> = [sweepProgram, adoptProgram, socketsProgram]
    /// The ids of the cgroups whose listeners `load` adopts (`adopt`).
    package static let adoptMap = "adopt"
    /// Each socket's state, keyed by its cookie (`sock_state`, a hash).
    package static let stateMap = "sock_state"

    /// The capacity `sock_state` gets beside a SOCKHASH of `sockets` entries (`load --max-entries`):
    /// room for every socket of a full map and as many connecting ones in their handshake.
    package static func stateCapacity(forSockets sockets: UInt32) -> UInt32 {
        sockets > UInt32.max / 2 ? UInt32.max : sockets * 2
    }

    /// `struct sockmap_config` flags.
    package static let passthroughFlag: UInt32 = 1
    /// `CONFIG_HAS_POLICY`: the policy map has entries (without it the data path looks none up).
    static let hasPolicyFlag: UInt32 = 2
    /// `POLICY_MODE_DENY` / `POLICY_MODE_ALLOW`.
    public enum PolicyMode: UInt32, Sendable, Codable, CaseIterable {
        /// Connections matching an entry are not accelerated; all others are.
        case deny = 0
        /// Only connections matching an entry are accelerated.
        case allow = 1
    }

    /// The `config` map's value (`struct sockmap_config`): policy mode and pass-through.
    public struct Config: Sendable, Equatable {
        /// How the policy list is read.
        public var policyMode: PolicyMode
        /// Paused: every send takes the TCP path and no socket is added to the map.
        public var passthrough: Bool
        /// Whether the policy map has entries; kept by the accelerator whenever it changes them.
        var hasPolicy = false

        /// A config; the defaults are the data path's own (deny list, not paused).
        public init(policyMode: PolicyMode = .deny, passthrough: Bool = false) {
            self.policyMode = policyMode
            self.passthrough = passthrough
        }

        var bytes: [UInt8] {
            let flags = (passthrough ? passthroughFlag : 0) | (hasPolicy ? hasPolicyFlag : 0)
            return policyMode.rawValue.littleEndianBytes + flags.littleEndianBytes
        }

        init(bytes: [UInt8]) {
            policyMode = bytes.count >= 4 ? PolicyMode(rawValue: bytes.littleEndian(UInt32.self, at: 0)) ?? .deny : .deny
            let flags = bytes.count >= 8 ? bytes.littleEndian(UInt32.self, at: 4) : 0
            passthrough = flags & DataPath.passthroughFlag != 0
            hasPolicy = flags & DataPath.hasPolicyFlag != 0
        }
    }
}
