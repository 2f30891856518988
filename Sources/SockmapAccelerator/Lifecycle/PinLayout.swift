/// Where one accelerator instance pins its objects in bpffs.
///
/// ```
/// <pinDir>/maps/<map name>         every map of the object, plus `sockmap_state`
/// <pinDir>/progs/<program name>    every program of the object
/// ```
/// beside it `<pinDir>-staging` (a load in progress) and `<pinDir>-draining/<id>` (maps kept by
/// `detach` until their sockets close). bpffs allows no '.' in names.
public struct PinLayout: Sendable, Equatable {
    /// The pin directory when none is given.
    public static let defaultDirectory = "/sys/fs/bpf/swift-sockmap"

    /// The pin directory, without a trailing slash.
    public let directory: String

    /// The layout under `directory` (trailing slashes removed).
    public init(directory: String = PinLayout.defaultDirectory) {
        var d = directory
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        self.directory = d
    }

    /// The directory of the map pins.
    public var maps: String { directory + "/maps" }
    /// The directory of the program pins.
    public var programs: String { directory + "/progs" }
    /// The pin path of the map `name` ('.' and '/' in it become '_').
    public func map(_ name: String) -> String { maps + "/" + Self.pinName(name) }
    /// The pin path of the program `name` ('.' and '/' in it become '_').
    public func program(_ name: String) -> String { programs + "/" + Self.pinName(name) }

    /// bpffs refuses names containing '.', which global-data maps (".rodata") have.
    static func pinName(_ name: String) -> String {
        String(name.map { $0 == "." || $0 == "/" ? "_" : $0 })
    }

    /// Where a load assembles its pins before renaming them into place in one step.
    package var staging: String { parentAndName.parent + "/" + parentAndName.name + "-staging" }
    /// Where `detach` keeps maps that still hold live sockets, so their unread data is not freed.
    package var draining: String { parentAndName.parent + "/" + parentAndName.name + "-draining" }

    /// The same layout under another directory (the staging one, say).
    package func relocated(to directory: String) -> PinLayout { PinLayout(directory: directory) }

    /// The directory holding the pin directory and its siblings.
    package var parentDirectory: String { parentAndName.parent }

    private var parentAndName: (parent: String, name: String) {
        guard let slash = directory.lastIndex(of: "/") else { return (".", directory) }
        let parent = String(directory[..<slash])
        return (parent.isEmpty ? "/" : parent, String(directory[directory.index(after: slash)...]))
    }
}
