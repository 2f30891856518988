import BPFLoader

/// Checks that the caller may load BPF programs and manage cgroups.
package enum Privileges {
    /// Throws `AcceleratorError.notRoot` unless the caller's effective user is root
    /// (`HostSystem.isRoot`): loading programs, attaching them to cgroups and reading pinned maps
    /// all need it.
    package static func requireRoot() throws(AcceleratorError) {
        guard HostSystem.isRoot else { throw .notRoot }
    }
}
