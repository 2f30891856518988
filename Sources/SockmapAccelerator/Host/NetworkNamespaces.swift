import BPFLoader
import FoundationEssentials
import Glibc

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

    /// Runs `body` on a thread of its own that joins the namespace at `path` (the caller's thread
    /// never changes namespace), and waits for it; nil when it cannot be joined.
    static func run<T>(in path: String, _ body: @escaping () -> T) -> T? {
        let result = NamespaceResult<T>()
        guard joinAndRun(path, { result.value = body() }) else { return nil }
        return result.value
    }

    /// What a network iterator (one namespace at a time) writes in the caller's namespace and in
    /// each of `namespaces`, one after the other; nothing for a namespace it cannot join or run in.
    static func iterate(_ iterator: IteratorLink, alsoIn namespaces: [String]) -> [UInt8] {
        iterate([iterator], alsoIn: namespaces)[0]
    }

    /// What each of several network iterators writes, as `iterate(_:alsoIn:)` does for one, all of
    /// them run in turn on one visit to each namespace.
    static func iterate(_ iterators: [IteratorLink], alsoIn namespaces: [String]) -> [[UInt8]] {
        let runAll = { iterators.map { (try? $0.run()) ?? [] } }
        var outputs = runAll()
        for path in namespaces {
            guard let more = run(in: path, runAll) else { continue }
            for index in outputs.indices { outputs[index] += more[index] }
        }
        return outputs
    }

    /// `body` on a joined thread inside the namespace at `path`; false when it did not run.
    private static func joinAndRun(_ path: String, _ body: @escaping () -> Void) -> Bool {
        let pass = NamespacePass(path: path, body: body)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            let pass = Unmanaged<NamespacePass>.fromOpaque(argument!).takeUnretainedValue()
            if (try? HostSystem.enterNetworkNamespace(pass.path)) != nil {
                pass.body()
                pass.ran = true
            }
            return nil
        }, Unmanaged.passUnretained(pass).toOpaque())
        guard started == 0 else { return false }
        pthread_join(thread, nil)
        return withExtendedLifetime(pass) { pass.ran }
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

/// One thread's work in another namespace, handed over whole and joined: the caller reads `ran`
/// only after `pthread_join`.
private final class NamespacePass {
    let path: String
    let body: () -> Void
    var ran = false
    init(path: String, body: @escaping () -> Void) { self.path = path; self.body = body }
}

/// What the joined thread produced, read after `pthread_join`.
private final class NamespaceResult<T> {
    var value: T?
}
