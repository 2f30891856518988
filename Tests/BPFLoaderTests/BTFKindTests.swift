import Foundation
import TestSupport
import Testing
@testable import BPFObject

/// Decoding of every BTF kind into `BTFKind`, from blobs built record by record and from the
/// objects clang builds; and the DATASEC fix-ups' bytes read back the same.
@Suite("BTF kinds")
struct BTFKindTests {
    @Test("every kind decodes with its record's fields, kind_flag and vlen included")
    func everyKind() throws {
        var b = BTFBuilder()
        let int = b.int("int", size: 4, signed: true)
        let char = b.int("char", size: 1)
        let pointer = b.pointer(to: int)
        let array = b.array(of: char, count: 16, index: int)
        let structure = b.structure("pair", size: 8, [("a", int, 0, 0), ("b", int, 32, 0)])
        let bitfields = b.structure("flags", size: 4, [("low", int, 0, 3), ("high", int, 3, 29)])
        let union = b.structure("either", size: 4, union: true, [("i", int, 0, 0), ("c", char, 0, 0)])
        let enumeration = b.enumeration("state", signed: true, [("off", 0), ("neg", -1)])
        let forward = b.forward("later")
        let forwardUnion = b.forward("later_union", union: true)
        let typedef = b.typedef("s32", to: int)
        let volatile = b.volatile(of: int)
        let const = b.const(of: volatile)
        let restrict = b.restrict(of: pointer)
        let proto = b.functionProto(returns: int, [("x", int), ("", 0)])
        let function = b.function("f", proto: proto, linkage: 0)
        let variable = b.variable("v", type: int, linkage: 2)
        let dataSection = b.dataSection(".data", size: 8, [(variable, 4, 4)])
        let float = b.float("double", size: 8)
        let declTag = b.declTag("tag", of: structure, component: 1)
        let typeTag = b.typeTag("user", of: int)
        let enum64 = b.enum64("big", signed: false, [("max", UInt64.max), ("one", 1)])
        let btf = try b.spec()

        let expected: [Int: (String, BTFKind)] = [
            int: ("int", .int(size: 4, encoding: BTFIntEncoding(isSigned: true, bits: 32))),
            char: ("char", .int(size: 1, encoding: BTFIntEncoding(bits: 8))),
            pointer: ("", .pointer(to: int)),
            array: ("", .array(element: char, index: int, count: 16)),
            structure: ("pair", .structure(size: 8, members: [BTFMember(name: "a", type: int, bitOffset: 0),
                                                              BTFMember(name: "b", type: int, bitOffset: 32)])),
            bitfields: ("flags", .structure(size: 4, members: [BTFMember(name: "low", type: int, bitOffset: 0, bitfieldSize: 3),
                                                               BTFMember(name: "high", type: int, bitOffset: 3, bitfieldSize: 29)])),
            union: ("either", .union(size: 4, members: [BTFMember(name: "i", type: int, bitOffset: 0),
                                                        BTFMember(name: "c", type: char, bitOffset: 0)])),
            enumeration: ("state", .enumeration(size: 4, signed: true, values: [BTFEnumValue(name: "off", value: 0),
                                                                                 BTFEnumValue(name: "neg", value: -1)])),
            forward: ("later", .forward(isUnion: false)),
            forwardUnion: ("later_union", .forward(isUnion: true)),
            typedef: ("s32", .typedef(to: int)),
            volatile: ("", .volatile(of: int)),
            const: ("", .const(of: volatile)),
            restrict: ("", .restrict(of: pointer)),
            proto: ("", .functionProto(returns: int, parameters: [BTFParameter(name: "x", type: int), BTFParameter(name: "", type: 0)])),
            function: ("f", .function(proto: proto, linkage: .static)),
            variable: ("v", .variable(type: int, linkage: .external)),
            dataSection: (".data", .dataSection(size: 8, variables: [BTFDataSectionVariable(type: variable, offset: 4, size: 4)])),
            float: ("double", .float(size: 8)),
            declTag: ("tag", .declTag(of: structure, componentIndex: 1)),
            typeTag: ("user", .typeTag(of: int)),
            enum64: ("big", .enum64(size: 8, signed: false, values: [BTFEnumValue(name: "max", value: -1),
                                                                     BTFEnumValue(name: "one", value: 1)])),
        ]
        #expect(btf.types.count == expected.count + 1)
        #expect(btf.types[0] == BTFType(id: 0, name: "", kind: .void, recordOffset: -1))
        for (id, (name, kind)) in expected {
            #expect(btf.types[id].name == name)
            #expect(btf.types[id].kind == kind, "type \(id)")
        }
        // The number each case stands for is the one in its record.
        for type in btf.types.dropFirst() {
            #expect(type.rawKind.rawValue == Int(btf.rawBytes.littleEndian(UInt32.self, at: type.recordOffset + 4) >> 24 & 0x1F))
        }
        #expect(Set(btf.types.map(\.rawKind.rawValue)) == Set(0...19), "every BTF_KIND_* once at least")

        // The conveniences read the same fields.
        #expect(btf.types[enumeration].isSignedEnum && !btf.types[enum64].isSignedEnum)
        #expect(btf.types[int].isSignedInt && !btf.types[char].isSignedInt)
        #expect(try btf.skipModifiers(const).id == int)
        #expect(try btf.size(of: array) == 16)
        #expect(try btf.size(of: restrict) == 8)
        #expect(btf.types[union].isComposite && btf.types[enum64].isEnum)
        #expect(btf.types[dataSection].variables.map(\.offset) == [4])
        #expect(btf.dataSection(named: ".data")?.id == dataSection)
        #expect(btf.types[function].kind.referencedTypeIDs == [proto])
        #expect(btf.types[proto].kind.referencedTypeIDs == [int, 0, int])
    }

    @Test("a reference to a type that does not exist is refused for every referring kind")
    func danglingReferences() throws {
        let builds: [(name: String, build: (inout BTFBuilder) -> Void)] = [
            ("", { _ = $0.pointer(to: 99) }), ("t", { _ = $0.typedef("t", to: 99) }), ("", { _ = $0.const(of: 99) }),
            ("t", { _ = $0.typeTag("t", of: 99) }), ("v", { _ = $0.variable("v", type: 99) }), ("t", { _ = $0.declTag("t", of: 99) }),
            ("", { _ = $0.functionProto(returns: 99, []) }), ("", { _ = $0.functionProto(returns: 0, [("p", 99)]) }),
            ("s", { _ = $0.structure("s", size: 4, [("m", 99, 0, 0)]) }), (".d", { _ = $0.dataSection(".d", size: 4, [(99, 0, 4)]) }),
        ]
        for (name, build) in builds {
            var b = BTFBuilder()
            build(&b)
            #expect(throws: BTFError.badTypeID(what: "type 1 (\(name))", typeID: 99)) { try b.spec() }
        }
        var b = BTFBuilder()
        _ = b.array(of: 99, count: 1, index: 0)
        #expect(throws: BTFError.badTypeID(what: "array type 1", typeID: 99)) { try b.spec() }
    }

    @Test("bpf/redir.o: structs, typedefs, functions and the .maps DATASEC decode as the C says")
    func redirObject() throws {
        let raw = try RedirObject.raw()
        let section = raw.section(".BTF")
        let btf = try BTFSpec(bytes: raw.bytes[section.offset..<section.end])
        for type in btf.types.dropFirst() {
            #expect(type.rawKind.rawValue == Int(btf.rawBytes.littleEndian(UInt32.self, at: type.recordOffset + 4) >> 24 & 0x1F))
        }
        let sockKey = try #require(btf.types.first { $0.rawKind == .structure && $0.name == "sock_key" })
        #expect(sockKey.size == 40)
        #expect(sockKey.members.map(\.bitOffset) == [0, 128, 256, 288])
        #expect(sockKey.members.allSatisfy { $0.bitfieldSize == 0 })
        guard case .array(let element, _, let count) = try btf.skipModifiers(sockKey.members[1].type).kind else {
            Issue.record("local_ip is not an array"); return
        }
        #expect(count == 4)
        #expect(try btf.size(of: element) == 4)
        let u32 = try #require(btf.types.first { $0.rawKind == .typedef && $0.name == "__u32" })
        guard case .int(4, let encoding) = try btf.skipModifiers(u32.id).kind else { Issue.record("__u32 is not a 4-byte int"); return }
        #expect(encoding == BTFIntEncoding(bits: 32))
        let sockops = try #require(btf.types.first { $0.rawKind == .function && $0.name == "sockmap_sockops" })
        guard case .function(let proto, .global) = sockops.kind, case .functionProto(let returns, let parameters) = btf.types[proto].kind else {
            Issue.record("sockmap_sockops is not a global function with a prototype"); return
        }
        #expect(btf.types[returns].rawKind == .int)
        #expect(parameters.map(\.name) == ["skops"])
        let maps = try #require(btf.dataSection(named: ".maps"))
        #expect(maps.size == 0, "as clang leaves it, before the fix-ups")
        for entry in maps.variables {
            guard case .variable(let type, .global) = btf.types[entry.type].kind else { Issue.record("\(entry)"); continue }
            #expect(try btf.skipModifiers(type).rawKind == .structure)
        }
    }

    @Test("the running kernel's BTF: every record's kind number is its case's", .enabled(if: FileManager.default.isReadableFile(atPath: CORETargetBTF.kernelPath) || ProcessInfo.processInfo.environment["CI"] == "true", "needs /sys/kernel/btf/vmlinux (always runs in CI)"))
    func vmlinux() throws {
        let target = try CORETargetBTF(path: CORETargetBTF.kernelPath)
        let btf = target.btf
        #expect(btf.types.count > 1000)
        for type in btf.types.dropFirst() where type.rawKind.rawValue != Int(btf.rawBytes.littleEndian(UInt32.self, at: type.recordOffset + 4) >> 24 & 0x1F) {
            Issue.record("type \(type.id) \(type.name): \(type.rawKind)")
            break
        }
        #expect(btf.types.contains { $0.members.contains { $0.bitfieldSize > 0 } }, "the kernel has bitfields")
    }

    @Test("kernel bytes: the fix-ups write size and offsets that decode back to the same types", arguments: ["global_data", "btf_maps", "libbpf_core"])
    func kernelBytesRoundTrip(_ fixture: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: PackageLayout.fixture(fixture)))
        let elf = try ELFFile(bytes: [UInt8](bytes))
        let compiled = try BTFSpec(bytes: try elf.data(of: try #require(elf.section(named: ".BTF"))))
        let fixed = try compiled.fixedUp(for: elf)
        let kernel = try #require(fixed.kernelBytes())
        #expect(kernel.count == compiled.rawBytes.count, "fix-ups rewrite in place")
        let reread = try BTFSpec(bytes: kernel)
        #expect(reread.types == fixed.types)
        #expect(try reread.fixedUp(for: elf).rawBytes == kernel, "fixing up fixed BTF changes nothing")
        for (before, after) in zip(compiled.types, reread.types) {
            #expect(before.name == after.name && before.rawKind == after.rawKind && before.recordOffset == after.recordOffset)
            guard case .dataSection(let size, let variables) = after.kind else { #expect(before == after); continue }
            #expect(size == Int(try #require(elf.section(named: after.name)).size))
            #expect(variables.map(\.offset) == variables.map(\.offset).sorted())
            #expect(Set(variables.map(\.type)) == Set(before.variables.map(\.type)))
        }
        if compiled.types.contains(where: { $0.rawKind == .dataSection && $0.size == 0 && !$0.variables.isEmpty }) {
            #expect(compiled.kernelBytes() == nil, "a DATASEC of size 0 is refused by the kernel")
        }
    }
}
