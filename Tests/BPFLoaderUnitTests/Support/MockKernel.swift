import CBPF
import Foundation
import SystemPackage
@testable import BPFLoader
import BPFObject

/// One bpf(2) call the mock saw: the command and the attribute as the loader filled it in.
struct RecordedCall: @unchecked Sendable {
    let command: BPFCommand
    let attr: bpf_attr
}

/// A scripted kernel behind `BPFSyscallDriver`: records every call and answers with `handler`,
/// which may read and write the memory the attribute points to (keys, values, logs, id lists).
/// Bound per task, so tests using it run in parallel without seeing each other's calls.
final class MockKernel: @unchecked Sendable {
    typealias Handler = (_ command: BPFCommand, _ attr: inout bpf_attr, _ call: Int) -> Result<Int32, Errno>

    private let lock = NSLock()
    private var recorded: [RecordedCall] = []
    private let handler: Handler

    /// A kernel answering every call with `handler` (by default: success, returning a new fd).
    init(_ handler: @escaping Handler = { _, _, _ in .success(MockKernel.newFD()) }) {
        self.handler = handler
    }

    /// Every call so far, in order.
    var calls: [RecordedCall] { lock.withLock { recorded } }
    var commands: [BPFCommand] { calls.map(\.command) }

    /// Runs `body` with this mock as the bpf(2) driver.
    func run<T>(_ body: () throws -> T) rethrows -> T {
        let driver = BPFSyscallDriver { [self] command, bytes in
            var attr = bytes.load(as: bpf_attr.self)
            let index: Int = lock.withLock {
                recorded.append(RecordedCall(command: command, attr: attr))
                return recorded.count - 1
            }
            let result = handler(command, &attr, index)
            bytes.storeBytes(of: attr, as: bpf_attr.self)
            return result
        }
        return try BPFSyscallDriver.$current.withValue(driver) { try body() }
    }

    /// A real descriptor (of /dev/null) to hand out as a kernel object: closing it is harmless,
    /// and no test closes another's descriptor by number.
    static func newFD() -> Int32 {
        try! FileDescriptor.open("/dev/null", .readOnly).rawValue
    }

    /// `count` bytes at `address` (memory the loader handed to the kernel).
    static func bytes(at address: UInt64, count: Int) -> [UInt8] {
        guard let pointer = UnsafeRawPointer(bitPattern: UInt(address)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The C string at `address`.
    static func string(at address: UInt64) -> String {
        guard let pointer = UnsafePointer<CChar>(bitPattern: UInt(address)) else { return "" }
        return String(cString: pointer)
    }

    /// Writes `bytes` at `address`, as the kernel writes a value, a log or an id list.
    static func write(_ bytes: [UInt8], at address: UInt64) {
        let pointer = UnsafeMutableRawPointer(bitPattern: UInt(address))!
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Writes `value` (an info struct) at `address`.
    static func write<T>(value: T, at address: UInt64) {
        withUnsafeBytes(of: value) { write(Array($0), at: address) }
    }
}

/// A name field of `bpf_attr` or an info struct as a string.
func nameString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

/// A map around a real (dummy) descriptor, for calls the mock answers.
func testMap(_ type: MapType = .hash, keySize: Int = 4, valueSize: Int = 8, maxEntries: UInt32 = 16) -> BPFMap {
    BPFMap(object: KernelObject(rawFD: MockKernel.newFD()), name: "test_map", type: type, keySize: keySize,
           valueSize: valueSize, maxEntries: maxEntries)
}

/// A program around a real (dummy) descriptor.
func testProgram(_ name: String = "test_prog", type: ProgramType = .sockOps) -> BPFProgram {
    BPFProgram(object: KernelObject(rawFD: MockKernel.newFD()), name: name, type: type)
}

/// A descriptor's number as the attribute carries it.
func field(_ fd: FileDescriptor) -> UInt32 { UInt32(bitPattern: fd.rawValue) }
