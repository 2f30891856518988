extension BTFSpec {
    /// The BTF as the kernel accepts it. Currently the bytes as compiled; returns nil when the
    /// object's BTF needs fix-ups this loader does not make (DATASEC sizes left at 0).
    public func kernelBytes() -> [UInt8]? {
        for type in types where type.kind == .dataSection && type.sizeOrType == 0 && type.vlen > 0 {
            return nil
        }
        return rawBytes
    }
}
