/// One 8-byte eBPF instruction (`struct bpf_insn`), little-endian.
package struct Instruction: Sendable, Equatable {
    /// The operation (`code`: class, size or source, mode or operation).
    package var opcode: UInt8
    /// dst_reg in the low nibble, src_reg in the high nibble.
    package var registers: UInt8
    /// The signed 16-bit offset (`off`): a jump distance or a memory displacement.
    package var offset: Int16
    /// The signed 32-bit immediate (`imm`).
    package var immediate: Int32

    /// Bytes per instruction (`ld_imm64` takes two).
    package static let size = 8
    /// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 16-byte 64-bit immediate load.
    package static let loadImm64: UInt8 = 0x18
    /// `BPF_JMP | BPF_CALL`.
    package static let call: UInt8 = 0x85
    /// src_reg of a call to a bpf-to-bpf function (`BPF_PSEUDO_CALL`).
    package static let pseudoCall: UInt8 = 1
    /// src_reg of ld_imm64 meaning "imm is a map fd" (`BPF_PSEUDO_MAP_FD`).
    package static let pseudoMapFD: UInt8 = 1
    /// src_reg of ld_imm64 meaning "map fd plus value offset" (`BPF_PSEUDO_MAP_VALUE`).
    package static let pseudoMapValue: UInt8 = 2

    /// `BPF_CLASS(code)`: the low three bits of the opcode.
    package static let classMask: UInt8 = 0x07
    /// `BPF_LD`.
    package static let classLoad: UInt8 = 0x00
    /// `BPF_LDX`.
    package static let classLoadRegister: UInt8 = 0x01
    /// `BPF_ST`.
    package static let classStore: UInt8 = 0x02
    /// `BPF_STX`.
    package static let classStoreRegister: UInt8 = 0x03
    /// `BPF_ALU`.
    package static let classALU: UInt8 = 0x04
    /// `BPF_ALU64`.
    package static let classALU64: UInt8 = 0x07
    /// `BPF_X`: an ALU or jump whose source is a register, not the immediate.
    package static let sourceRegisterFlag: UInt8 = 0x08
    /// `BPF_SIZE(code)`: the access width bits of a load or store.
    package static let sizeMask: UInt8 = 0x18
    /// The `BPF_SIZE` codes (`BPF_W`, `BPF_H`, `BPF_B`, `BPF_DW`) by access width in bytes.
    package static let sizeCodes: [Int: UInt8] = [4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18]

    /// An instruction from its four fields.
    package init(opcode: UInt8, registers: UInt8, offset: Int16, immediate: Int32) {
        self.opcode = opcode
        self.registers = registers
        self.offset = offset
        self.immediate = immediate
    }

    init(_ bytes: ArraySlice<UInt8>, at offset: Int) {
        let b = bytes.startIndex + offset
        opcode = bytes[b]
        registers = bytes[b + 1]
        self.offset = bytes.littleEndian(at: offset + 2)
        immediate = bytes.littleEndian(at: offset + 4)
    }

    /// `src_reg`, the high nibble of ``registers``.
    package var sourceRegister: UInt8 {
        get { registers >> 4 }
        set { registers = (registers & 0x0F) | (newValue << 4) }
    }

    /// Whether this is a bpf-to-bpf call (`call` with `BPF_PSEUDO_CALL`) rather than a helper call.
    package var isCallToFunction: Bool { opcode == Self.call && sourceRegister == Self.pseudoCall }

    /// The instruction's 8 bytes as the kernel expects them.
    package var bytes: [UInt8] {
        [opcode, registers] + offset.littleEndianBytes + immediate.littleEndianBytes
    }

    /// Decodes a section's bytes; the size must be a multiple of 8.
    static func decode(_ bytes: ArraySlice<UInt8>) -> [Instruction] {
        stride(from: 0, to: bytes.count - bytes.count % size, by: size).map { Instruction(bytes, at: $0) }
    }
}
