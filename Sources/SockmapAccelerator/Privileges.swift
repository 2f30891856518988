import BPFLoader

/// Checks that the caller may load BPF programs and manage cgroups.
public enum Privileges {
    /// Whether the caller runs as root (`HostSystem.isRoot`).
    public static var isRoot: Bool { HostSystem.isRoot }

    /// Throws `AcceleratorError.notRoot` unless the caller is root.
    public static func requireRoot() throws(AcceleratorError) {
        guard isRoot else { throw .notRoot }
    }
}
