import Testing
@testable import BPFObject

/// The one little-endian coding every reader and writer uses.
@Suite("little-endian coding")
struct LittleEndianTests {
    @Test("bytes of each width, least significant first")
    func bytes() {
        #expect(UInt8(0xAB).littleEndianBytes == [0xAB])
        #expect(UInt16(0x1234).littleEndianBytes == [0x34, 0x12])
        #expect(UInt32(0x1234_5678).littleEndianBytes == [0x78, 0x56, 0x34, 0x12])
        #expect(UInt64(0x0102_0304_0506_0708).littleEndianBytes == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(Int16(-2).littleEndianBytes == [0xFE, 0xFF])
        #expect(Int32(-1).littleEndianBytes == [0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test("reads at an offset, signed and unsigned, from arrays and from slices")
    func reads() {
        let bytes: [UInt8] = [0xAA, 0x78, 0x56, 0x34, 0x12, 0xFE, 0xFF, 0xFF, 0xFF]
        #expect(bytes.littleEndian(UInt32.self, at: 1) == 0x1234_5678)
        #expect(bytes.littleEndian(UInt16.self, at: 1) == 0x5678)
        #expect(bytes.littleEndian(Int32.self, at: 5) == -2)
        #expect(bytes.littleEndian(Int16.self, at: 5) == -2)
        #expect(bytes.littleEndian(UInt8.self, at: 0) == 0xAA)
        // A slice reads from its own start, not from the start of the array it came from.
        let slice = bytes[1...]
        #expect(slice.littleEndian(UInt32.self, at: 0) == 0x1234_5678)
        #expect(slice.littleEndian(UInt64.self, at: 0) == 0xFFFF_FFFE_1234_5678)
    }

    @Test("every value of each width round-trips through write, append and read", arguments: [0, 1, 0x7F, 0x80, 0xFFFF, 0x8000_0000, UInt64.max, 0x0123_4567_89AB_CDEF])
    func roundTrip(_ value: UInt64) {
        func check<T: FixedWidthInteger>(_ v: T) {
            var appended: [UInt8] = [9]
            appended.appendLittleEndian(v)
            #expect(appended.count == 1 + T.bitWidth / 8)
            #expect(appended.littleEndian(T.self, at: 1) == v)
            var written = [UInt8](repeating: 0xEE, count: T.bitWidth / 8 + 2)
            written.writeLittleEndian(v, at: 1)
            #expect(written.first == 0xEE && written.last == 0xEE)
            #expect(Array(written[1..<(written.count - 1)]) == v.littleEndianBytes)
            #expect(written.littleEndian(T.self, at: 1) == v)
        }
        check(UInt8(truncatingIfNeeded: value)); check(UInt16(truncatingIfNeeded: value))
        check(UInt32(truncatingIfNeeded: value)); check(value)
        check(Int8(truncatingIfNeeded: value)); check(Int16(truncatingIfNeeded: value))
        check(Int32(truncatingIfNeeded: value)); check(Int64(bitPattern: value))
    }

    @Test("an instruction encodes and decodes through the same coding")
    func instruction() {
        let instruction = Instruction(opcode: 0x61, registers: 0x21, offset: -4, immediate: -123_456)
        #expect(instruction.bytes == [0x61, 0x21, 0xFC, 0xFF] + Int32(-123_456).littleEndianBytes)
        #expect(Instruction.decode(ArraySlice([0, 0] + instruction.bytes).dropFirst(2)) == [instruction])
    }
}
