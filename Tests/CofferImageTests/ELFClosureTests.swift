import Foundation
import Testing
@testable import CofferImage

/// `ELFClosure.resolve` against the real dynamic loader's own report (`ldd`) on programs and
/// libraries compiled here with gcc.
@Suite struct ELFClosureTests {
    @Test func staticProgramNeedsNothing() throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let program = try compile(scratch, "hello", source: "int main(void) { return 0; }", flags: ["-static"])
        #expect(try ELFClosure.resolve(binary: program) == [])
    }

    @Test func dynamicProgramMatchesLdd() throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let program = try compile(scratch, "root", source: """
            #include <math.h>
            #include <stdio.h>
            int main(int argc, char **argv) { printf("%f\\n", sqrt((double)argc)); return 0; }
            """, flags: ["-lm"])
        let closure = try ELFClosure.resolve(binary: program)
        #expect(Set(closure.map(\.guestPath)) == (try ldd(program)))
        #expect(closure.first?.guestPath == "/lib64/ld-linux-x86-64.so.2", "the interpreter comes first, at PT_INTERP")
        #expect(closure.contains { $0.guestPath.hasSuffix("/libm.so.6") })
        for dependency in closure {
            #expect(dependency.hostPath == (try realPath(dependency.guestPath)))
        }
        // Deterministic: the same answer twice, in the same order.
        #expect(try ELFClosure.resolve(binary: program) == closure)
    }

    /// Installed programs with deeper trees (veritysetup: libcryptsetup, libssl, libdevmapper...).
    @Test(arguments: ["/usr/sbin/veritysetup", "/usr/bin/mkfs.erofs", "/usr/bin/ls", "/usr/bin/tar"])
    func installedProgramsMatchLdd(program: String) throws {
        let closure = try ELFClosure.resolve(binary: program)
        #expect(Set(closure.map(\.guestPath)) == (try ldd(program)))
        #expect(Set(closure.map(\.guestPath)).count == closure.count)
    }

    @Test(arguments: [["-Wl,--enable-new-dtags"], ["-Wl,--disable-new-dtags"]])
    func originRunpathAndRpathMatchLdd(dtags: [String]) throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let program = try programWithOwnLibrary(scratch, extraFlags: dtags)
        let closure = try ELFClosure.resolve(binary: program)
        #expect(Set(closure.map(\.guestPath)) == (try ldd(program)))
        #expect(closure.contains { $0.guestPath == scratch.file("lib/libgreet.so") })

        // Placed at /app/prog in the image, $ORIGIN follows the program there.
        let placed = try ELFClosure.resolve(binary: program, guestBinaryPath: "/app/prog")
        #expect(placed.contains(ELFDependency(guestPath: "/app/lib/libgreet.so", hostPath: scratch.file("lib/libgreet.so"))))
    }

    @Test func libraryOfAnotherClassIsSkippedLikeLdSo() throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let program = try programWithOwnLibrary(scratch, rpath: "$ORIGIN/bad:$ORIGIN/lib")
        // A copy of the library that claims to be ELF32: ld.so skips it and keeps searching.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("lib/libgreet.so")))
        bytes[4] = 1
        try FileManager.default.createDirectory(atPath: scratch.file("bad"), withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: scratch.file("bad/libgreet.so")))
        let closure = try ELFClosure.resolve(binary: program)
        #expect(Set(closure.map(\.guestPath)) == (try ldd(program)))
        #expect(closure.contains { $0.guestPath == scratch.file("lib/libgreet.so") })
    }

    /// An unpacked root file system: links resolve inside it (absolute ones restart at its top,
    /// ".." stops there), its own libraries are found, never the build host's.
    @Test func resolvesInsideAnotherRoot() throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let build = try TestScratch("elf-build")
        defer { build.remove() }
        let program = try programWithOwnLibrary(build, rpath: "/nonexistent")
        let root = scratch.path
        let libdir = "\(root)/usr/lib/x86_64-linux-gnu"
        let manager = FileManager.default
        for directory in ["usr/bin", "usr/lib/x86_64-linux-gnu", "lib64"] {
            try manager.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        try manager.copyItem(atPath: program, toPath: "\(root)/usr/bin/prog")
        try manager.copyItem(atPath: build.file("lib/libgreet.so"), toPath: "\(libdir)/libgreet.so")
        for file in ["libc.so.6", "ld-linux-x86-64.so.2"] {
            try manager.copyItem(atPath: try realPath("/lib/x86_64-linux-gnu/\(file)"), toPath: "\(libdir)/\(file)")
        }
        try manager.createSymbolicLink(atPath: "\(root)/lib", withDestinationPath: "usr/lib")
        try manager.createSymbolicLink(
            atPath: "\(root)/lib64/ld-linux-x86-64.so.2", withDestinationPath: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        try manager.createSymbolicLink(
            atPath: "\(libdir)/libescape.so", withDestinationPath: "../../../../../../../usr/lib/x86_64-linux-gnu/libm.so.6")

        let closure = try ELFClosure.resolve(binary: "/usr/bin/prog", root: root)
        #expect(closure == [
            ELFDependency(guestPath: "/lib64/ld-linux-x86-64.so.2", hostPath: "\(libdir)/ld-linux-x86-64.so.2"),
            ELFDependency(guestPath: "/lib/x86_64-linux-gnu/libgreet.so", hostPath: "\(libdir)/libgreet.so"),
            ELFDependency(guestPath: "/lib/x86_64-linux-gnu/libc.so.6", hostPath: "\(libdir)/libc.so.6"),
        ])
        #expect(try ELFRoot(root).find("/lib/x86_64-linux-gnu/libescape.so") == nil, "the host's libm is out of reach")
        try manager.removeItem(atPath: "\(libdir)/libc.so.6")
        #expect(throws: ELFError.missingLibrary(name: "libc.so.6", neededBy: "/usr/bin/prog")) {
            try ELFClosure.resolve(binary: "/usr/bin/prog", root: root)
        }
    }

    @Test func missingLibraryNamesItAndWhoNeedsIt() throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let program = try programWithOwnLibrary(scratch)
        try FileManager.default.removeItem(atPath: scratch.file("lib/libgreet.so"))
        #expect(throws: ELFError.missingLibrary(name: "libgreet.so", neededBy: program)) {
            try ELFClosure.resolve(binary: program)
        }
    }

    @Test func textFileAndTruncatedELFAreRefused() throws {
        let scratch = try TestScratch("elf")
        defer { scratch.remove() }
        let text = scratch.file("notes.txt")
        try "#!/bin/sh\necho hello\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: ELFError.notELF(path: text)) { try ELFClosure.resolve(binary: text) }

        let program = try compile(scratch, "whole", source: "int main(void) { return 0; }", flags: [])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: program))
        for (name, length) in [("header", 40), ("phdrs", 100)] {
            let cut = scratch.file("cut-\(name)")
            try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
            #expect {
                try ELFClosure.resolve(binary: cut)
            } throws: { error in
                guard case .truncated(let path, _) = error as? ELFError else { return false }
                return path == cut
            }
        }
        let elf32 = scratch.file("elf32")
        var patched = bytes
        patched[4] = 1
        try patched.write(to: URL(fileURLWithPath: elf32))
        #expect {
            try ELFClosure.resolve(binary: elf32)
        } throws: { error in
            guard case .notX8664(let path, _) = error as? ELFError else { return false }
            return path == elf32
        }
    }

    @Test func readsTheHostLdSoCache() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/etc/ld.so.cache")))
        let cache = try LDSOCache.parse(bytes, path: "/etc/ld.so.cache")
        #expect(cache.path(of: "libc.so.6") == "/lib/x86_64-linux-gnu/libc.so.6")
        #expect(cache.path(of: "libcoffer-does-not-exist.so.1") == nil)
        #expect(throws: ELFError.self) { try LDSOCache.parse(Array(bytes.prefix(60)), path: "cut") }
        #expect(throws: ELFError.self) { try LDSOCache.parse(Array("not a cache at all, no".utf8), path: "text") }
    }

    @Test func expandsDynamicStringTokens() {
        #expect(ELFSearchPath.expand("$ORIGIN/../lib", origin: "/app/bin") == "/app/bin/../lib")
        #expect(ELFSearchPath.expand("${ORIGIN}/x:/opt/$LIB", origin: "/o") == "/o/x:/opt/lib/x86_64-linux-gnu")
        #expect(ELFSearchPath.expand("/p/$PLATFORM/$ORIGINAL", origin: "/o") == "/p/x86_64/$ORIGINAL")
        #expect(ELFSearchPath.join("/app/bin/../lib/", "libx.so") == "/app/lib/libx.so")
        let directories = ELFSearchPath.directories("::relative:$ORIGIN/lib", origin: .init(guest: "/g", build: "/b"))
        #expect(directories == [.init(guest: "/g/lib", build: "/b/lib")])
    }

    // MARK: - Helpers

    private func compile(_ scratch: TestScratch, _ name: String, source: String, flags: [String]) throws -> String {
        let sourcePath = scratch.file("\(name).c")
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let output = scratch.file(name)
        try RealTool.check("gcc", ["-o", output, sourcePath] + flags)
        return output
    }

    /// A program in `scratch` that needs `lib/libgreet.so`, found through `rpath`.
    private func programWithOwnLibrary(
        _ scratch: TestScratch, rpath: String = "$ORIGIN/lib", extraFlags: [String] = []
    ) throws -> String {
        try FileManager.default.createDirectory(atPath: scratch.file("lib"), withIntermediateDirectories: true)
        let library = scratch.file("greet.c")
        try "#include <stdio.h>\nvoid greet(void) { puts(\"hello\"); }\n".write(toFile: library, atomically: true, encoding: .utf8)
        try RealTool.check("gcc", ["-shared", "-fPIC", "-o", scratch.file("lib/libgreet.so"), library])
        return try compile(scratch, "prog", source: "void greet(void);\nint main(void) { greet(); return 0; }", flags: [
            "-L\(scratch.file("lib"))", "-lgreet", "-Wl,-rpath,\(rpath)",
        ] + extraFlags)
    }

    /// The paths ldd reports (the resolved path of each library, and the interpreter), vDSO aside.
    private func ldd(_ program: String) throws -> Set<String> {
        let output = try RealTool.check("ldd", [program])
        var paths = Set<String>()
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count {
                paths.insert(words[arrow + 1])
            } else if let first = words.first, first.hasPrefix("/") {
                paths.insert(first)
            }
        }
        return paths
    }

    private func realPath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw RealTool.Failure(description: "realpath \(path) failed") }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
