import SystemPackage

/// Reads a whole file into memory.
package enum FileBytes {
    package static func read(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly)
        return try fd.closeAfter {
            var result: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
                if n == 0 { return result }
                result += chunk[0..<n]
            }
        }
    }
}
