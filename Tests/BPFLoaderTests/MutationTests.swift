import TestSupport
import Testing
@testable import BPFLoader
@testable import BPFObject

/// Systematic damage to bpf/redir.o: every truncation and thousands of seeded random mutations.
/// The contract is the same everywhere: `ObjectSpec(bytes:)` returns or throws; it never traps.
@Suite("truncations and mutations")
struct MutationTests {
    /// Every prefix of the object as compiled. Its section header table is at the end, so each
    /// prefix fails on the header or on the table, and says so.
    @Test func everyPrefix() throws {
        let raw = try RedirObject.raw()
        let table = raw.shnum * 64
        #expect(raw.shoff + table == raw.bytes.count, "clang puts the section headers last")
        for n in 0..<raw.bytes.count {
            let expected: ObjectError = n < 64
                ? .elf(.tooSmall(size: n))
                : .elf(.outOfBounds(what: "section header table", offset: raw.shoff, size: table, limit: n))
            #expect(throws: expected) { try ObjectSpec(bytes: Array(raw.bytes[0..<n])) }
        }
    }

    /// The same object laid out headers first: ELF header, section headers, the name table, then
    /// every other section in its original order. Now a truncation reaches section contents, and the
    /// error names the first section (in header order) that no longer fits.
    static func headersFirst(_ raw: RawELF) -> (bytes: [UInt8], sections: [RawELF.Section]) {
        let table = raw.shnum * 64, strtab = raw.sections[Int(raw.bytes.le16(62))]
        let shift = table + strtab.size
        var out = Array(raw.bytes[0..<64]) + [UInt8](repeating: 0, count: table)
        out += raw.bytes[strtab.offset..<strtab.end]
        out += raw.bytes[64...]
        out.write(64, at: 40, width: 8)
        var sections: [RawELF.Section] = []
        for s in raw.sections {
            let h = 64 + s.index * 64
            out.replaceSubrange(h..<(h + 64), with: raw.bytes[s.headerOffset..<(s.headerOffset + 64)])
            let offset = s.index == strtab.index ? 64 + table : (s.offset == 0 ? 0 : s.offset + shift)
            out.write(UInt64(offset), at: h + 24, width: 8)
            sections.append(.init(index: s.index, name: s.name, type: s.type, offset: offset, size: s.size,
                                  link: s.link, info: s.info, headerOffset: h))
        }
        // Drop what no section claims any more (the old name table and header table), so the
        // longest prefix that parses is the whole file.
        out.removeSubrange(sections.map(\.end).max()!...)
        return (out, sections)
    }

    @Test("headers-first layout parses like the original")
    func headersFirstParses() throws {
        let raw = try RedirObject.raw()
        let original = try ObjectSpec(bytes: raw.bytes)
        let moved = try ObjectSpec(bytes: Self.headersFirst(raw).bytes)
        #expect(moved.programs == original.programs)
        #expect(moved.maps == original.maps)
        #expect(moved.license == original.license)
    }

    /// The error a prefix of `n` bytes of the headers-first object must give (nil: it parses).
    static func expectedError(prefix n: Int, bytes: [UInt8], sections: [RawELF.Section]) -> ObjectError? {
        let table = sections.count * 64
        if n < 64 { return .elf(.tooSmall(size: n)) }
        if n < 64 + table { return .elf(.outOfBounds(what: "section header table", offset: 64, size: table, limit: n)) }
        let names = sections[Int(bytes.le16(62))]
        if names.end > n { return .elf(.outOfBounds(what: "section name table", offset: names.offset, size: names.size, limit: n)) }
        if let s = sections.first(where: { $0.hasFileData && $0.end > n }) {
            return .elf(.outOfBounds(what: "section \(s.display)", offset: s.offset, size: s.size, limit: n))
        }
        return nil
    }

    /// Cuts at every section boundary (±1) and inside every header field.
    @Test func truncationAtBoundaries() throws {
        let (bytes, sections) = Self.headersFirst(try RedirObject.raw())
        var cuts: Set<Int> = [0, 1, 4, 5, 6, 16, 18, 20, 24, 32, 40, 48, 52, 54, 56, 58, 60, 62, 63, 64]
        for s in sections {
            for field in [0, 4, 8, 16, 24, 32, 40, 44, 48, 56, 63] { cuts.insert(s.headerOffset + field) }
            for n in [s.offset - 1, s.offset, s.offset + 1, s.end - 1, s.end, s.end + 1] { cuts.insert(n) }
        }
        for n in cuts.sorted() where n >= 0 && n <= bytes.count {
            let expected = Self.expectedError(prefix: n, bytes: bytes, sections: sections)
            do {
                _ = try ObjectSpec(bytes: Array(bytes[0..<n]))
                #expect(expected == nil, "prefix \(n) parsed; expected \(String(describing: expected))")
            } catch {
                #expect(error == expected, "prefix \(n)")
                if case .elf(.outOfBounds(let what, _, _, _)) = error { #expect(error.description.hasPrefix(what)) }
            }
        }
    }

    /// Every prefix length of the headers-first object, checked against the same oracle.
    @Test func everyPrefixHeadersFirst() throws {
        let (bytes, sections) = Self.headersFirst(try RedirObject.raw())
        var failures = 0
        for n in 0...bytes.count {
            let expected = Self.expectedError(prefix: n, bytes: bytes, sections: sections)
            let actual: ObjectError?
            do { _ = try ObjectSpec(bytes: Array(bytes[0..<n])); actual = nil } catch { actual = error }
            if actual != expected {
                failures += 1
                if failures <= 5 { Issue.record("prefix \(n): \(String(describing: actual)), expected \(String(describing: expected))") }
            }
        }
        #expect(failures == 0)
    }

    /// Seeded random damage, biased towards the bytes that steer parsing (headers, tables, BTF).
    /// A failure names the seed; `mutate(seed:)` rebuilds that exact input.
    @Test("seeded random mutations", arguments: 0..<8)
    func randomMutations(chunk: Int) throws {
        let raw = try RedirObject.raw()
        let perChunk = 400
        var parsed = 0
        for seed in (chunk * perChunk)..<((chunk + 1) * perChunk) {
            let bytes = Self.mutate(raw, seed: UInt64(seed))
            do {
                _ = try ObjectSpec(bytes: bytes)
                parsed += 1
            } catch {
                #expect(!error.description.isEmpty, "seed \(seed)")
            }
        }
        #expect(parsed < perChunk, "most mutations should break something")
    }

    static func mutate(_ raw: RawELF, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var bytes = raw.bytes
        let interesting: [UInt64] = [0, 1, 2, 7, 8, 0x10, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                     1 << 32, 1 << 63, .max, UInt64(bytes.count), UInt64(bytes.count - 1)]
        let regions: [Range<Int>] = {
            var r: [Range<Int>] = [0..<64, raw.shoff..<(raw.shoff + raw.shnum * 64)]
            for name in [".symtab", ".BTF", ".relsockops", ".relsk_msg", ".maps", "sockops", "sk_msg", ".BTF.ext", ".strtab"] {
                if let s = raw.sections.first(where: { $0.name == name }), s.size > 0 { r.append(s.offset..<s.end) }
            }
            return r
        }()
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let region = Bool.random(using: &rng) ? regions.randomElement(using: &rng)! : 0..<bytes.count
            let offset = Int.random(in: region, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[offset] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes[offset] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            default:
                let width = [1, 2, 4, 8].randomElement(using: &rng)!
                let value = interesting.randomElement(using: &rng)! &+ UInt64.random(in: 0...2, using: &rng) &- 1
                if offset + width <= bytes.count { bytes.write(value, at: offset, width: width) }
            }
        }
        if Int.random(in: 0..<8, using: &rng) == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
        return bytes
    }
}
