import Foundation
import PackagePlugin

/// Compiles `bpf/redir.c` with the toolchain's clang and the flags in `bpf/cflags` (the ones
/// `make -C bpf` uses too) and turns the object into a Swift source file, so the data path is
/// built by `swift build` and embedded in the binary.
@main
struct EmbedDataPath: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpf = context.package.directoryURL.appending(path: "bpf")
        let source = bpf.appending(path: "redir.c")
        let headers = ["sockmap_helpers.h", "sockmap_kernel_types.h", "sockmap_shared.h"].map { bpf.appending(path: $0) }
        let flagsFile = bpf.appending(path: "cflags")
        let flags = try String(contentsOf: flagsFile, encoding: .utf8).split(whereSeparator: \.isWhitespace).map(String.init)
        let object = context.pluginWorkDirectoryURL.appending(path: "redir.o")
        let swiftFile = context.pluginWorkDirectoryURL.appending(path: "EmbeddedDataPathBytes.swift")
        let clang = try context.tool(named: "clang").url
        let embed = try context.tool(named: "bpf-embed").url
        return [
            .buildCommand(
                displayName: "Compiling bpf/redir.c for the BPF target and embedding it",
                executable: embed,
                arguments: [swiftFile.path(), object.path(), clang.path()] + flags
                    + ["-I", Self.architectureIncludeDirectory, "-I", bpf.path(), "-c", source.path(), "-o", object.path()],
                inputFiles: [source, flagsFile] + headers,
                outputFiles: [swiftFile]),
        ]
    }

    /// Where linux-libc-dev keeps `asm/types.h` for this machine (the BPF target has none of its own).
    static var architectureIncludeDirectory: String {
        #if arch(arm64)
        "/usr/include/aarch64-linux-gnu"
        #else
        "/usr/include/x86_64-linux-gnu"
        #endif
    }
}
