import BPFLoader
import FoundationEssentials
import Glibc

/// Gives listeners of the cgroup that were opened before `load` what later ones get at
/// `listen()`: the header-option callbacks with which their SYN-ACKs answer pairing tokens.
/// Without them, every connection to such a listener stays on TCP until the service listens again.
///
/// The `sockmap_adopt` iterator (`iter/tcp` in `bpf/redir.c`) runs in every network namespace the
/// cgroup's sockets may live in (`NetworkNamespaces`) and sets `TCP_BPF_SOCK_OPS_CB_FLAGS`
/// (Linux 6.12) on each listening socket made in the cgroup or below it: their cgroup ids (the
/// inode numbers of their cgroup2 directories) are what `load` puts in the `adopt` map.
struct ListenerAdoption {
    /// The adoption iterator, linked.
    let iterator: IteratorLink
    /// Its `adopt` map: the ids of the cgroup and its descendants.
    let cgroups: BPFMap

    /// What one `load` did about listeners opened before it.
    struct Outcome: Equatable {
        /// Listeners that now answer pairing tokens.
        var adopted = 0
        /// The errors of listeners the kernel would not adopt (`EINVAL` before 6.12).
        var refused: [Int32] = []
    }

    /// The size of `struct adopt_record`.
    static let recordSize = 16

    /// Adopts the listeners made in `cgroup` or below it, in every namespace they may live in.
    func run(cgroup: Cgroup) -> Outcome {
        // The map holds 4096 ids: a deeper tree keeps its first 4096 cgroups.
        let ids = Array(cgroup.tree.compactMap(\.id).prefix(4096))
        for id in ids { _ = try? cgroups.update(key: id.littleEndianBytes, value: UInt32(1).littleEndianBytes) }
        defer { for id in ids { _ = try? cgroups.delete(id.littleEndianBytes) } }
        var outcome = Outcome()
        for error in Self.decode(NetworkNamespaces.iterate(iterator, alsoIn: NetworkNamespaces.others(than: cgroup))) {
            if error == 0 { outcome.adopted += 1 } else { outcome.refused.append(-error) }
        }
        return outcome
    }

    /// The errors of `struct adopt_record`s: cgroup (8 bytes), error (4), port (4).
    static func decode(_ bytes: [UInt8]) -> [Int32] {
        stride(from: 0, to: bytes.count - recordSize + 1, by: recordSize).map {
            Int32(bitPattern: bytes.littleEndian(UInt32.self, at: $0 + 8))
        }
    }
}
