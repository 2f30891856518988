/// Names and layouts the accelerator expects in the BPF object (see `bpf/redir.c`).
public enum DataPath {
    public static let sockhashMap = "sock_hash"
    public static let countersMap = "counters"
    public static let policyMap = "policy"
    public static let configMap = "config"

    /// `struct sockmap_config` flags.
    public static let passthroughFlag: UInt32 = 1
    /// `POLICY_MODE_DENY` / `POLICY_MODE_ALLOW`.
    public enum PolicyMode: UInt32, Sendable, Codable, CaseIterable {
        case deny = 0
        case allow = 1
    }

    public struct Config: Sendable, Equatable {
        public var policyMode: PolicyMode
        public var passthrough: Bool

        public init(policyMode: PolicyMode = .deny, passthrough: Bool = false) {
            self.policyMode = policyMode
            self.passthrough = passthrough
        }

        var bytes: [UInt8] {
            policyMode.rawValue.littleEndianBytes + (passthrough ? passthroughFlag : 0).littleEndianBytes
        }

        init(bytes: [UInt8]) {
            policyMode = bytes.count >= 4 ? PolicyMode(rawValue: bytes.littleEndian(UInt32.self, at: 0)) ?? .deny : .deny
            passthrough = bytes.count >= 8 && bytes.littleEndian(UInt32.self, at: 4) & DataPath.passthroughFlag != 0
        }
    }
}
