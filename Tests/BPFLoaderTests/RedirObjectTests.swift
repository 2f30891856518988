import Foundation
import Testing
@testable import BPFLoader
@testable import BPFObject

/// What the loader reads from the package's real object, bpf/redir.o (`make -C bpf`).
@Suite("bpf/redir.o")
struct RedirObjectTests {
    @Test("ELF header and section table")
    func elfSections() throws {
        let raw = try RedirObject.raw()
        let elf = try ELFFile(bytes: raw.bytes)
        #expect(ELFFile.machineBPF == 247)
        #expect(raw.bytes.le16(18) == 247)
        #expect(elf.sections.count == raw.shnum)
        for (section, expected) in zip(elf.sections, raw.sections) {
            #expect(section.index == expected.index)
            #expect(section.name == expected.name)
            #expect(section.kind.rawValue == expected.type)
            #expect(section.offset == expected.offset)
            #expect(section.size == expected.size)
        }
        let sockops = try #require(elf.section(named: "sockops"))
        #expect(sockops.kind == .progbits)
        #expect(sockops.flags.contains([.alloc, .execinstr]))
        #expect(sockops.size % 8 == 0 && sockops.size > 0)
        let skMsg = try #require(elf.section(named: "sk_msg"))
        #expect(skMsg.flags.contains(.execinstr))
        #expect(elf.section(named: ".relsockops")?.kind == .rel)
        #expect(elf.section(named: ".relsk_msg")?.kind == .rel)
        #expect(elf.section(named: ".maps")?.flags.contains([.write, .alloc]) == true)
        #expect(elf.section(named: ".BTF") != nil)
        #expect(elf.section(named: ".symtab")?.kind == .symtab)
        #expect(elf.section(named: "license") != nil)
    }

    @Test("symbols: programs and maps")
    func symbols() throws {
        let elf = try ELFFile(bytes: try RedirObject.bytes())
        let sockops = try #require(elf.section(named: "sockops"))
        let skMsg = try #require(elf.section(named: "sk_msg"))
        let maps = try #require(elf.section(named: ".maps"))

        let entry = try #require(elf.symbols.first { $0.name == "sockmap_sockops" })
        #expect(entry.kind == .function)
        #expect(entry.binding == .global)
        #expect(entry.sectionIndex == sockops.index)
        #expect(entry.value == 0)
        #expect(entry.size == UInt64(sockops.size))

        let redirect = try #require(elf.symbols.first { $0.name == "sockmap_redirect" })
        #expect(redirect.kind == .function)
        #expect(redirect.sectionIndex == skMsg.index)
        #expect(redirect.size == UInt64(skMsg.size))

        for name in ["sock_hash", "counters", "policy", "config"] {
            let symbol = try #require(elf.symbols.first { $0.name == name }, "no symbol \(name)")
            #expect(symbol.kind == .object)
            #expect(symbol.sectionIndex == maps.index)
            #expect(symbol.size == 32, "\(name): a BTF map definition of four pointer members")
        }
        #expect(elf.symbols.first?.name == "")
        #expect(elf.symbols.allSatisfy { $0.sectionIndex < elf.sections.count || $0.sectionIndex >= 0xff00 })
    }

    @Test("relocation tables: ld_imm64 against the maps")
    func relocations() throws {
        let elf = try ELFFile(bytes: try RedirObject.bytes())
        let rel = try #require(elf.section(named: ".relsockops"))
        let relocations = try elf.relocations(in: rel)
        #expect(!relocations.isEmpty)
        #expect(relocations.allSatisfy { $0.kind == .bpf64_64 && $0.offset % 8 == 0 })
        let names = Set(relocations.map { elf.symbols[$0.symbolIndex].name })
        #expect(names.isSuperset(of: ["sock_hash", "counters", "policy", "config"]))
        // Not a relocation table.
        let sockops = try #require(elf.section(named: "sockops"))
        #expect(throws: ELFError.badRelocationSection(section: "sockops (#\(sockops.index))", reason: "not SHT_REL")) {
            try elf.relocations(in: sockops)
        }
    }

    @Test("BTF: types, the .maps DATASEC and sizes")
    func btf() throws {
        let spec = try ObjectSpec(bytes: try RedirObject.bytes())
        let btf = try #require(spec.btf)
        #expect(btf.types[0].kind == .void, "type 0 is void")
        #expect(btf.types.count > 20)
        for (id, type) in btf.types.enumerated() { #expect(type.id == id) }

        let dataSection = try #require(btf.dataSection(named: ".maps"))
        #expect(dataSection.variables.count == 9)
        let variables = try dataSection.variables.map { try btf.type($0.type, ".maps member") }
        #expect(variables.allSatisfy { $0.rawKind == .variable })
        #expect(Set(variables.map(\.name)) == ["sock_hash", "pending", "local_nets", "sock_state", "closing",
                                               "counters", "policy", "config", "adopt"])
        // Four pointer members (type, key, value, max_entries), five for the two with map_flags.
        for (variable, type) in zip(dataSection.variables, variables) {
            #expect(variable.size == (["local_nets", "sock_state"].contains(type.name) ? 40 : 32), "\(type.name)")
        }

        let sockKey = try #require(btf.types.first { $0.rawKind == .structure && $0.name == "sock_key" })
        #expect(try btf.size(of: sockKey.id) == 40)
        #expect(sockKey.members.map(\.name) == ["local_ip", "remote_ip", "local_port", "remote_port"])
        let socketRecord = try #require(btf.types.first { $0.rawKind == .structure && $0.name == "socket_record" })
        #expect(try btf.size(of: socketRecord.id) == 64)
        #expect(socketRecord.members.map(\.name) == ["cookie", "peer", "netns", "key"])
        let u32 = try #require(btf.types.first { $0.rawKind == .typedef && $0.name == "__u32" })
        #expect(try btf.skipModifiers(u32.id).rawKind == .int)
        #expect(try btf.size(of: u32.id) == 4)
        let u64 = try #require(btf.types.first { $0.rawKind == .typedef && $0.name == "__u64" })
        #expect(try btf.size(of: u64.id) == 8)
        let policyKey = try #require(btf.types.first { $0.rawKind == .structure && $0.name == "policy_key" })
        #expect(try btf.size(of: policyKey.id) == 20)

        #expect(throws: BTFError.badTypeID(what: "x", typeID: btf.types.count)) { try btf.type(btf.types.count, "x") }
        #expect(throws: BTFError.badTypeID(what: "type reference", typeID: 0)) { try btf.skipModifiers(0) }
    }

    @Test("BTF section decoded on its own")
    func btfSection() throws {
        let raw = try RedirObject.raw()
        let section = raw.section(".BTF")
        let btf = try BTFSpec(bytes: raw.bytes[section.offset..<section.end])
        #expect(btf.headerLength == 24)
        #expect(btf.rawBytes.count == section.size)
        #expect(btf.headerLength + btf.stringOffset + btf.stringLength <= section.size)
        #expect(btf.types.contains { $0.rawKind == .function && $0.name == "sockmap_sockops" })
        #expect(btf.types.contains { $0.rawKind == .function && $0.name == "sockmap_redirect" })
    }

    @Test("maps with their exact definitions", arguments: [
        MapSpec(name: "sock_hash", type: .sockhash, keySize: 8, valueSize: 8, maxEntries: 65536),
        MapSpec(name: "pending", type: .lruHash, keySize: 8, valueSize: 48, maxEntries: 65536),
        MapSpec(name: "local_nets", type: MapType(rawValue: 11) /* BPF_MAP_TYPE_LPM_TRIE */, keySize: 20, valueSize: 4, maxEntries: 4096,
                flags: 1 /* BPF_F_NO_PREALLOC */),
        MapSpec(name: "counters", type: .percpuArray, keySize: 4, valueSize: 8, maxEntries: 24),
        MapSpec(name: "policy", type: .hash, keySize: 20, valueSize: 4, maxEntries: 1024),
        MapSpec(name: "config", type: .array, keySize: 4, valueSize: 8, maxEntries: 1),
        MapSpec(name: "sock_state", type: .hash, keySize: 8, valueSize: 104, maxEntries: 131072, flags: 1 /* BPF_F_NO_PREALLOC */),
        MapSpec(name: "closing", type: .lruHash, keySize: 8, valueSize: 8, maxEntries: 65536),
        MapSpec(name: "adopt", type: .hash, keySize: 8, valueSize: 4, maxEntries: 4096),
    ])
    func map(_ expected: MapSpec) throws {
        let spec = try ObjectSpec(bytes: try RedirObject.bytes())
        let map = try #require(spec.map(named: expected.name))
        #expect(map.type == expected.type)
        #expect(map.type.rawValue == expected.type.rawValue)
        #expect(map.keySize == expected.keySize)
        #expect(map.valueSize == expected.valueSize)
        #expect(map.maxEntries == expected.maxEntries)
        #expect(map.flags == expected.flags)
        #expect(map.pinning == .none)
        #expect(map.origin == .btf)
        #expect(map.btfKeyTypeID > 0 && map.btfValueTypeID > 0)
        let btf = try #require(spec.btf)
        #expect(try btf.size(of: map.btfKeyTypeID) == Int(expected.keySize))
        #expect(try btf.size(of: map.btfValueTypeID) == Int(expected.valueSize))
        #expect(map.initialValue == nil)
    }

    @Test("BTF maps in .maps order, one spec each")
    func mapList() throws {
        let spec = try ObjectSpec(bytes: try RedirObject.bytes())
        let btfMaps = spec.maps.filter { $0.origin == .btf }
        #expect(btfMaps.map(\.name).sorted() == ["adopt", "closing", "config", "counters", "local_nets", "pending", "policy",
                                                  "sock_hash", "sock_state"])
        #expect(btfMaps.map(\.symbolOffset) == btfMaps.map(\.symbolOffset).sorted())
        #expect(Set(spec.maps.map(\.name)).count == spec.maps.count)
    }

    @Test("programs: types, attach types, license")
    func programs() throws {
        let spec = try ObjectSpec(bytes: try RedirObject.bytes())
        #expect(spec.license == "GPL")
        #expect(spec.programs.map(\.name).sorted() == ["sockmap_adopt", "sockmap_redirect", "sockmap_sockets", "sockmap_sockops", "sockmap_sweep"])

        let sockops = try #require(spec.program(named: "sockmap_sockops"))
        #expect(sockops.sectionName == "sockops")
        #expect(sockops.type == .sockOps)
        #expect(sockops.type.description == "sock_ops")
        #expect(sockops.expectedAttachType == nil)
        #expect(sockops.defaultAttachType == .cgroupSockOps)
        #expect(sockops.license == "GPL")

        let redirect = try #require(spec.program(named: "sockmap_redirect"))
        #expect(redirect.sectionName == "sk_msg")
        #expect(redirect.type == .skMsg)
        #expect(redirect.expectedAttachType == .skMsgVerdict)
        #expect(redirect.defaultAttachType == .skMsgVerdict)
        #expect(redirect.license == "GPL")

        let raw = try RedirObject.raw()
        for (program, section) in [(sockops, "sockops"), (redirect, "sk_msg")] {
            let s = raw.section(section)
            #expect(program.instructions.count == s.size / 8, "no subprograms: the section is the program")
            #expect(program.instructions.contains { $0.opcode == 0x95 }, "\(program.name) has an exit")
            #expect(!program.instructions.contains { $0.isCallToFunction }, "\(program.name) calls no subprogram")
        }
    }

    /// Every relocation of a program section becomes a map reference at the same instruction,
    /// naming the map the relocated symbol defines; the instruction there is an ld_imm64.
    @Test("relocations become map references", arguments: [("sockmap_sockops", ".relsockops"), ("sockmap_redirect", ".relsk_msg")])
    func mapReferences(program name: String, relocationSection: String) throws {
        let spec = try ObjectSpec(bytes: try RedirObject.bytes())
        let raw = try RedirObject.raw()
        let program = try #require(spec.program(named: name))
        let symbols = raw.symbols
        let relocations = raw.relocations(relocationSection)
        #expect(program.mapReferences.count == relocations.count)
        var expectedMaps: Set<String> = []
        for relocation in relocations {
            #expect(relocation.type == 1, "R_BPF_64_64")
            let index = Int(relocation.offset / 8)
            let reference = try #require(program.mapReferences.first { $0.instruction == index }, "no map reference at \(index)")
            #expect(program.instructions[index].opcode == Instruction.loadImm64)
            #expect(program.instructions[index + 1].opcode == 0, "second half of ld_imm64")
            let symbol = symbols[relocation.symbolIndex]
            let section = raw.sections[symbol.sectionIndex]
            if section.name == ".maps" {
                #expect(reference.mapName == symbol.name)
                #expect(reference.kind == .fd)
                expectedMaps.insert(symbol.name)
            } else {
                #expect(reference.mapName == section.name, "global data: the section's array map")
                if case .value = reference.kind {} else { Issue.record("\(reference) should be a map value reference") }
            }
        }
        let wanted: Set<String> = name == "sockmap_sockops"
            ? ["sock_hash", "pending", "local_nets", "sock_state", "closing", "counters", "policy", "config"]
            : ["sock_hash", "pending", "sock_state", "closing", "counters", "config"]
        #expect(expectedMaps == wanted)
        #expect(program.mapReferences.map(\.instruction) == program.mapReferences.map(\.instruction).sorted())
    }

    @Test("linked instructions are the section's bytes, unpatched")
    func instructionBytes() throws {
        let raw = try RedirObject.raw()
        let spec = try ObjectSpec(bytes: raw.bytes)
        let program = try #require(spec.program(named: "sockmap_redirect"))
        let section = raw.section("sk_msg")
        // Map references are recorded, not patched: the kernel layer fills in fds at load time.
        #expect(program.instructions.flatMap(\.bytes) == Array(raw.bytes[section.offset..<section.end]))
    }
    @Test("the sweep iterator: iter/tcp, a tracing program attached to bpf_iter_tcp, whose id CO-RE looks up in the kernel's BTF",
          .enabled(if: FileManager.default.isReadableFile(atPath: CORETargetBTF.kernelPath) || ProcessInfo.processInfo.environment["CI"] == "true", "needs /sys/kernel/btf/vmlinux (always runs in CI)"))
    func sweepIterator() throws {
        let spec = try ObjectSpec(bytes: try RedirObject.bytes())
        let sweep = try #require(spec.program(named: "sockmap_sweep"))
        #expect(sweep.sectionName == "iter/tcp" && sweep.type == .tracing && sweep.expectedAttachType == .traceIter)
        #expect(sweep.attachFunction == "bpf_iter_tcp" && sweep.attachBTFID == 0)
        #expect(spec.program(named: "sockmap_redirect")?.attachFunction == nil)
        #expect(spec.needsCORE)

        let target = try CORETargetBTF(path: CORETargetBTF.kernelPath)
        let relocated = try spec.relocatingCORE(against: target)
        let id = try #require(relocated.program(named: "sockmap_sweep")?.attachBTFID)
        #expect(target.btf.types[Int(id)].name == "bpf_iter_tcp")
        if case .function = target.btf.types[Int(id)].kind {} else { Issue.record("type \(id) is not a function") }
        #expect(relocated.program(named: "sockmap_redirect")?.attachBTFID == 0)
        let sockets = try #require(relocated.program(named: "sockmap_sockets"))
        #expect(sockets.sectionName == "iter/tcp" && sockets.expectedAttachType == .traceIter)
        #expect(sockets.attachBTFID == id, "both TCP iterators attach to bpf_iter_tcp")

        // A kernel without the function: a CO-RE error naming the program and the function.
        var missing = spec.removingPrograms { $0.name != "sockmap_sweep" }
        #expect(missing.programs.map(\.name) == ["sockmap_sweep"])
        missing.programs[0].attachFunction = "bpf_iter_no_such_target"
        #expect(throws: COREError.missingAttachFunction(program: "sockmap_sweep", function: "bpf_iter_no_such_target")) {
            try missing.relocatingCORE(against: target)
        }
        #expect(ProgramSection.match("iter/no_such_target")?.attachFunction(section: "iter/no_such_target") == "bpf_iter_no_such_target")
        #expect(ProgramSection.match("sk_msg")?.attachFunction(section: "sk_msg") == nil)
        #expect(target.function(named: "bpf_iter_no_such_target") == nil)
        #expect(target.function(named: "bpf_iter_tcp") == id)
    }
}

