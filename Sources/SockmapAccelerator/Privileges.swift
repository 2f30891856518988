import Foundation

/// Checks that the caller may load BPF programs and manage cgroups.
public enum Privileges {
    public static var isRoot: Bool { geteuid() == 0 }

    public static func requireRoot() throws(AcceleratorError) {
        guard isRoot else { throw .notRoot }
    }
}
