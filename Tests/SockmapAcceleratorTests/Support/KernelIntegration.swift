import Testing

/// Every test that loads programs or moves this process between cgroups lives in a suite nested
/// in this one, so they run one at a time: the process's cgroup is shared state.
@Suite(.serialized, .kernel)
struct KernelIntegration {}
