/// Directories ld.so searches, and the expansion of dynamic string tokens in DT_RPATH and
/// DT_RUNPATH (ld.so(8), "Dynamic string tokens"; glibc elf/dl-load.c `_dl_dst_substitute`).
enum ELFSearchPath {
    /// A directory as ld.so in the guest will see it, and the same directory in the build root
    /// where Coffer looks. They differ only for `$ORIGIN` of a binary placed elsewhere in the
    /// image than where it sits on the build host.
    struct Directory: Sendable, Equatable {
        var guest: String
        var build: String
    }

    /// Where an object's `$ORIGIN` points, in the guest and in the build root.
    struct Origin: Sendable, Equatable {
        var guest: String
        var build: String
    }

    /// The trusted directories of ld.so on Debian x86-64 and the usual multilib ones, searched
    /// after the cache (glibc `SYSTEM_DIRS`, Debian's multiarch directories first).
    static let defaults = [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
    ]

    /// `$LIB` as Debian's ld.so expands it (checked with LD_DEBUG=libs on Debian 12).
    static let lib = "lib/x86_64-linux-gnu"
    /// `$PLATFORM`: AT_PLATFORM of an x86-64 kernel. Fixed rather than read from the build host
    /// so the image does not depend on the machine that built it.
    static let platform = "x86_64"

    /// The directories of a colon-separated DT_RPATH or DT_RUNPATH. Empty entries are dropped (as
    /// glibc's `fillin_rpath` does); entries that are still relative after expansion are dropped
    /// too, because they name the guest process's working directory, which the image cannot know.
    static func directories(_ list: String, origin: Origin) -> [Directory] {
        list.split(separator: ":", omittingEmptySubsequences: true).compactMap { entry in
            let guest = expand(String(entry), origin: origin.guest)
            let build = expand(String(entry), origin: origin.build)
            guard guest.hasPrefix("/"), build.hasPrefix("/") else { return nil }
            return Directory(guest: guest, build: build)
        }
    }

    /// Replaces `$ORIGIN`, `$LIB`, `$PLATFORM` and their `${...}` forms. An unbraced name counts
    /// only when followed by "/" or the end, as in glibc's `is_dst`; anything else stays as it is.
    static func expand(_ text: String, origin: String) -> String {
        let tokens = [("ORIGIN", origin), ("LIB", lib), ("PLATFORM", platform)]
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            var matched = false
            for (name, value) in tokens {
                if after.hasPrefix("{\(name)}") {
                    out += value
                    rest = after.dropFirst(name.count + 2)
                    matched = true
                } else if after.hasPrefix(name), after.dropFirst(name.count).first.map({ $0 == "/" }) ?? true {
                    out += value
                    rest = after.dropFirst(name.count)
                    matched = true
                }
                if matched { break }
            }
            if !matched {
                out += "$"
                rest = after
            }
        }
        return out + rest
    }

    /// `name` in `directory`, as ld.so in the guest will name the file: "." and ".." resolved
    /// lexically (the image builder creates real directories along the path) and no doubled "/".
    static func join(_ directory: String, _ name: String) -> String {
        var parts: [Substring] = []
        for part in (directory + "/" + name).split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
