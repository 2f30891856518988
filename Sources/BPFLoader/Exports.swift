/// `import BPFLoader` gives the whole loader: the object model (`BPFObject`) and the kernel side.
@_exported import BPFObject
