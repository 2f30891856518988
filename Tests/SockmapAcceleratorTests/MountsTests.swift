import SockmapAccelerator
import Testing

/// mountinfo parsing: no root needed.
@Suite struct MountsTests {
    @Test("finds type and mount point past optional fields, and unescapes octal escapes")
    func parse() {
        let text = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw
            52 23 0:44 / /mnt/with\\040space\\134x rw - bpf bpf rw,mode=700
            garbage line
            """
        let entries = Mounts.parse(text)
        #expect(entries == [
            .init(mountPoint: "/sys/fs/cgroup", fileSystemType: "tmpfs"),
            .init(mountPoint: "/sys/fs/cgroup/unified", fileSystemType: "cgroup2"),
            .init(mountPoint: "/mnt/with space\\x", fileSystemType: "bpf"),
        ])
    }
}
