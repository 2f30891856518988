import Foundation

/// Where the package's files are, for tests that read them: found from this file's path by
/// walking up to the directory that holds Package.swift.
package enum PackageLayout {
    /// The package root: the nearest directory above this file with a Package.swift (the
    /// working directory if there is none, as when the sources moved after the build).
    package static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// The package's BPF object, built by `make -C bpf` (bpf/redir.o).
    package static let redirObject = root + "/bpf/redir.o"

    /// A fixture object built by `make -C bpf` (Tests/Fixtures/bpf/NAME.o).
    package static func fixture(_ name: String) -> String { root + "/Tests/Fixtures/bpf/\(name).o" }
}
