import BPFLoader
import FoundationEssentials

/// The network namespaces where the sockets of an accelerated cgroup may live, for what sees
/// one namespace at a time (the TCP iterator of `IdleSweep`).
enum NetworkNamespaces {
    /// One path for each namespace other than the calling thread's own: those of the cgroup's
    /// processes and their threads (`/proc/PID/task/TID/ns/net`), and the named ones of
    /// `ip netns` (`/run/netns/NAME`), which hold sockets whose makers have left them.
    static func others(than cgroup: Cgroup?) -> [String] {
        var seen: Set<String> = identity(of: "/proc/thread-self/ns/net").map { [$0] } ?? []
        var paths: [String] = []
        let files = FileManager.default
        var candidates: [String] = []
        for pid in cgroup?.processesInTree() ?? [] {
            let tasks = (try? files.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            candidates += tasks.sorted().map { "/proc/\(pid)/task/\($0)/ns/net" }
        }
        candidates += ((try? files.contentsOfDirectory(atPath: named)) ?? []).sorted().map { named + "/" + $0 }
        for path in candidates {
            if let namespace = identity(of: path), seen.insert(namespace).inserted { paths.append(path) }
        }
        return paths
    }

    /// Where `ip netns` keeps named namespaces.
    static let named = "/run/netns"

    /// The namespace a path names, as the kernel prints it (`net:[4026531840]`): the target of a
    /// `/proc` namespace link, or, for a bind-mounted namespace file, its inode number (nsfs
    /// numbers a namespace's file with the namespace's id; a file there that is not one is
    /// refused later, by `setns`); nil when the path is gone.
    static func identity(of path: String) -> String? {
        let files = FileManager.default
        if let target = try? files.destinationOfSymbolicLink(atPath: path) { return target.hasPrefix("net:") ? target : nil }
        guard let inode = (try? files.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64 else { return nil }
        return "net:[\(inode)]"
    }
}
