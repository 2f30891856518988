/// SplitMix64: a small, fast, seedable generator, so a failing run can be replayed exactly from
/// its seed. The sequence of a seed is fixed: tests derive their data from it.
package struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// The generator of `seed`: two with the same seed produce the same sequence.
    package init(seed: UInt64) { state = seed }

    /// The next 64 bits of the sequence.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
