import FoundationEssentials

/// The data path (`bpf/redir.c`), compiled for the BPF target by the package build (plugin
/// `EmbedDataPath`) and embedded in the binary, so `swift-sockmap load` needs no object file.
public enum EmbeddedDataPath {
    /// What `status` and the load state call the embedded object.
    public static let name = "embedded bpf/redir.c"

    /// The object's bytes (an ELF relocatable for the BPF target).
    public static var bytes: [UInt8] {
        [UInt8](Data(base64Encoded: base64) ?? Data())
    }
}
