import CofferCore

/// The files the PAL host needs inside the container, all taken from the host: its executable,
/// the host's dynamic loader, and the shared libraries of the PAL host and of the PAL.
///
/// The PAL host is started as `LOADER --library-path LIB HOST ...`, so it runs on the host's
/// glibc whatever the image carries (a busybox image has no libc at all), and the PAL's own
/// dependencies (for Occlum: the SGX URTS libraries) resolve from the same directory, as rune
/// loads the PAL on the host before entering the container (docs/decisions).
public struct PALHostFiles: Sendable, Equatable {
    public struct Library: Sendable, Equatable {
        /// The name the loader asks for (DT_NEEDED), the file's name in the library directory.
        public var name: String
        public var source: String
        public init(name: String, source: String) { self.name = name; self.source = source }
    }

    /// The PAL host executable on the host.
    public var host: String
    /// The loader's file name (`ld-linux-x86-64.so.2`), one of `libraries`.
    public var loaderName: String
    /// The PAL's file name in the library directory, one of `libraries`.
    public var palName: String
    public var libraries: [Library]

    public init(host: String, loaderName: String, palName: String, libraries: [Library]) {
        self.host = host; self.loaderName = loaderName; self.palName = palName; self.libraries = libraries
    }

    /// Lists the closure with the host's `ldd` (only for enclave containers, at create).
    public static func collect(host: String, pal: String) throws(OCIError) -> PALHostFiles {
        var libraries: [Library] = []
        var loader: String?
        for (object, what) in [(host, "the PAL host"), (pal, "the enclave runtime PAL")] {
            let listing = try Runc.capture(tool: "ldd", [object])
            guard listing.status == 0 else {
                throw .enclaveRuntime("cannot list the shared libraries of \(what) \(object) (is it an ELF shared object?): \(listing.output)")
            }
            let parsed = try parse(ldd: listing.output, of: object)
            if loader == nil { loader = parsed.loader }
            for library in parsed.libraries where !libraries.contains(where: { $0.name == library.name }) {
                libraries.append(library)
            }
        }
        guard let loader, let loaderSource = FileSystem.canonical(loader) else {
            throw .enclaveRuntime("ldd names no dynamic loader for the PAL host \(host)")
        }
        let loaderName = String(loader.split(separator: "/").last ?? "")
        let palName = String(pal.split(separator: "/").last ?? "")
        if libraries.contains(where: { $0.name == palName }) {
            throw .invalidEnclave("the enclave runtime PAL's file name \(palName) is also the name of one of its libraries")
        }
        libraries.append(Library(name: loaderName, source: loaderSource))
        libraries.append(Library(name: palName, source: pal))
        return PALHostFiles(host: host, loaderName: loaderName, palName: palName, libraries: libraries)
    }

    /// Reads `ldd` output: `name => /path (0x…)` lines are libraries, a lone absolute path is the
    /// loader, `name => not found` is an error naming the library.
    public static func parse(ldd output: String, of object: String) throws(OCIError) -> (loader: String?, libraries: [Library]) {
        var loader: String?
        var libraries: [Library] = []
        for line in output.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first else { continue }
            if fields.count >= 3, fields[1] == "=>" {
                if fields[2] == "not" {
                    throw .enclaveRuntime("\(object) needs \(first), which the host's loader cannot find")
                }
                guard fields[2].hasPrefix("/"), let source = FileSystem.canonical(fields[2]) else { continue }
                libraries.append(Library(name: first, source: source))
            } else if first.hasPrefix("/") {
                loader = first
            }
        }
        return (loader, libraries)
    }
}
