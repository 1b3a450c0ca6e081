import Foundation
import Testing
import CofferTestSupport

/// What the image-build CLI suites share: running the real `coffer` against a store, reading its
/// JSON, unpacking and reading the EROFS image it made, and the inputs the tests make.
protocol CofferCLIHarness {
    /// The built `coffer` executable.
    var coffer: String { get }
}

struct BuildOutput: Decodable { var id: String; var rootHash: String; var tags: [String] }

/// The parts of `coffer inspect` these tests read, decoded independently of the builder's types.
struct Inspection: Decodable {
    var id: String
    var tags: [String]
    var manifest: Manifest

    struct Manifest: Decodable {
        var config: Config
        var inputs: [Input]
    }

    struct Config: Decodable {
        var entrypoint: [String]
        var cmd: [String]
        var env: [String]
        var workdir: String
        var user: String
        var memoryBytes: UInt64?
        var exec: Exec
    }

    struct Exec: Decodable, Equatable {
        var mode: String
        var entries: [Entry]?
    }

    struct Entry: Decodable, Equatable {
        var argv: [String]
        var trailing_args: Bool
        var env: [String]
        var user: String?
        var cwd: String?
    }

    struct Input: Decodable, Equatable, CustomStringConvertible {
        var kind: String
        var digest: String
        var destination: String?
        var description: String { "\(kind) \(destination ?? "-") \(digest)" }
    }
}

/// C programs the tests compile with gcc.
enum Program {
    static let squareRoot = """
        #include <math.h>
        #include <stdio.h>
        #include <stdlib.h>
        int main(int argc, char **argv) {
            double x = argc > 1 ? atof(argv[1]) : 2.0;
            printf("sqrt %.3f\\n", sqrt(x));
            return 0;
        }

        """
    static let hello = "#include <stdio.h>\nint main(void) { puts(\"static hello\"); return 0; }\n"

    /// An HTTP server (the README's `./server`): listens on `--port` (8443 unless told), says so on
    /// standard output, and answers every request with `httpAnswer`.
    static let httpServer = """
        #include <netinet/in.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            int port = 8443;
            for (int i = 1; i + 1 < argc; i++) if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
            int listener = socket(AF_INET, SOCK_STREAM, 0), on = 1;
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
            struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
            if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 8) != 0) return 3;
            printf("listening on port %d\\n", port);
            fflush(stdout);
            for (;;) {
                int client = accept(listener, 0, 0);
                if (client < 0) continue;
                char request[1024];
                (void)read(client, request, sizeof request);
                const char *answer = "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello from Coffer\\n";
                (void)write(client, answer, strlen(answer));
                close(client);
            }
        }

        """
    static let httpAnswer = "hello from Coffer\n"
}

extension CofferCLIHarness {
    // MARK: Running coffer

    func coffer(_ home: String, _ arguments: [String], faketime: String? = nil, directory: String? = nil, input: String? = nil) throws -> CommandResult {
        if let faketime {
            return try run("faketime", [faketime, coffer] + arguments,
                environment: ["COFFER_HOME": home, "FAKETIME_DONT_FAKE_MONOTONIC": "1"], directory: directory)
        }
        return try run(coffer, arguments, environment: ["COFFER_HOME": home], directory: directory, input: input)
    }

    func build(_ home: String, _ arguments: [String], faketime: String? = nil, directory: String? = nil) throws -> BuildOutput {
        let result = try coffer(home, ["build", "--json", "--no-sign"] + arguments, faketime: faketime, directory: directory)
        guard result.status == 0 else { throw TestFailure("coffer build \(arguments) failed: \(result.stderr)") }
        return try JSONDecoder().decode(BuildOutput.self, from: Data(result.stdout.utf8))
    }

    func inspect(_ home: String, _ image: String) throws -> Inspection {
        let result = try coffer(home, ["inspect", image])
        guard result.status == 0 else { throw TestFailure("coffer inspect \(image) failed: \(result.stderr)") }
        return try JSONDecoder().decode(Inspection.self, from: Data(result.stdout.utf8))
    }

    func rootfsImage(_ home: String, _ id: String) -> String { "\(home)/images/\(id.dropFirst(7))/rootfs.erofs" }

    /// The image's root file system unpacked by erofs-utils (owners and modes kept: tests run as root).
    func extract(_ home: String, _ id: String) throws -> TemporaryDirectory {
        let root = try TemporaryDirectory("extracted")
        try sh("fsck.erofs --extract=\(root.path) --overwrite --preserve \(rootfsImage(home, id))")
        return root
    }

    /// An inode of the image: its number and link count as dump.erofs prints them, and its whole
    /// `i_mode` read from the image itself (dump.erofs prints only the 0777 bits). Every EROFS inode,
    /// compact or extended, starts `i_format` (le16), `i_xattr_icount` (le16), `i_mode` (le16), and
    /// sits at `meta_blkaddr * 4096 + nid * 32` (linux fs/erofs/erofs_fs.h).
    func erofsInode(_ home: String, _ id: String, path: String) throws -> (nid: Int, links: Int, mode: mode_t) {
        let image = rootfsImage(home, id)
        func field(_ text: String, _ name: String) throws -> Int {
            guard let range = text.range(of: "\(name):"),
                let value = Int(text[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber })
            else { throw TestFailure("dump.erofs printed no \(name): \(text)") }
            return value
        }
        let nid = try field(try sh("dump.erofs --path=\(path) \(image)"), "NID")
        let links = try field(try sh("dump.erofs --path=\(path) \(image)"), "Links")
        let metaBlock = try field(try sh("dump.erofs -s \(image)"), "Filesystem inode metadata start block")
        guard let handle = FileHandle(forReadingAtPath: image) else { throw TestFailure("cannot open \(image)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(metaBlock * 4096 + nid * 32 + 4))
        let bytes = try handle.read(upToCount: 2) ?? Data()
        guard bytes.count == 2 else { throw TestFailure("\(image) ends inside inode \(nid)") }
        return (nid, links, mode_t(bytes[bytes.startIndex]) | mode_t(bytes[bytes.startIndex + 1]) << 8)
    }

    // MARK: Inputs

    /// A busybox root with a user database, as `work/root` and the tarball `work/root.tar`
    /// (returned). `extra` runs in `work/root` before it is packed.
    func busyboxRoot(in work: TemporaryDirectory, extra: String = "true") throws -> String {
        try FileManager.default.createDirectory(atPath: work.file("root/bin"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work.file("root/etc"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: work.file("root/bin/busybox"))
        for tool in ["sh", "sleep", "cat", "id", "hostname", "tty", "stty", "echo", "ls", "mkdir", "test"] {
            try FileManager.default.createSymbolicLink(atPath: work.file("root/bin/\(tool)"), withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n".write(
            toFile: work.file("root/etc/passwd"), atomically: true, encoding: .utf8)
        try "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\n".write(toFile: work.file("root/etc/group"), atomically: true, encoding: .utf8)
        _ = try sh(extra, directory: work.file("root"))
        try sh("tar -C \(work.file("root")) -cf \(work.file("root.tar")) .")
        return work.file("root.tar")
    }

    func compile(_ source: String, to output: String, flags: [String], in work: TemporaryDirectory) throws -> String {
        let file = try work.write("\(output).c", source)
        let result = try run("gcc", ["-O1", "-o", work.file(output), file] + flags)
        guard result.status == 0 else { throw TestFailure("gcc failed: \(result.stderr)") }
        return work.file(output)
    }

    /// `ldd`'s view of a program: the name each library is loaded under, and the file it really is.
    func hostLibraries(of program: String) throws -> [String: String] {
        var loaded: [String: String] = [:]
        for line in try sh("ldd \(program)").split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let path = words.count >= 3 && words[1] == "=>" ? words[2] : words.first ?? ""
            guard path.hasPrefix("/") else { continue }
            loaded[path] = (path as NSString).resolvingSymlinksInPath
        }
        return loaded
    }

    /// Every path of `makeTree`, relative to its root.
    static var treePaths: [String] { [".", "etc", "etc/motd", "etc/motd.hard", "bin", "bin/motd", "usr", "usr/bin", "usr/bin/su", "home", "home/u", "home/u/data"] }

    /// A small tree with a symlink, a hard link, a setuid program and files owned by uid 1234.
    func makeTree(in work: TemporaryDirectory) throws {
        try sh("""
            mkdir -p tree/etc tree/bin tree/usr/bin tree/home/u && chmod 0755 tree tree/etc tree/bin tree/usr tree/usr/bin tree/home
            printf 'hello\\n' > tree/etc/motd && chmod 0644 tree/etc/motd && ln tree/etc/motd tree/etc/motd.hard
            ln -s ../etc/motd tree/bin/motd
            printf '#!/bin/sh\\nid\\n' > tree/usr/bin/su && chmod 4755 tree/usr/bin/su
            printf 'secret\\n' > tree/home/u/data && chmod 0640 tree/home/u/data && chmod 0750 tree/home/u
            chown 1234:1234 tree/home/u tree/home/u/data
            """, directory: work.path)
    }

    func digest(_ path: String) throws -> String {
        "sha256:" + (try sh("sha256sum < '\(path)'").prefix(64))
    }

    func mode(_ path: String) throws -> UInt16? { FileFacts(path)?.permissions }
}

/// A hostile tar made with Python's tarfile (GNU tar refuses to write most of these).
/// Members: (name, "file" or "symlink", content or link target).
func hostileTar(in work: TemporaryDirectory, _ members: [(String, String, String)]) throws -> String {
    let output = work.file("hostile.tar")
    let spec = members.map { "(\(pythonString($0.0)), \(pythonString($0.1)), \(pythonString($0.2)))" }.joined(separator: ", ")
    let script = """
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
            for name, kind, data in [\(spec)]:
                i = tarfile.TarInfo(name); i.mtime = 1700000000; i.mode = 0o644
                if kind == "symlink":
                    i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)
                else:
                    b = data.encode(); i.size = len(b); t.addfile(i, io.BytesIO(b))

        """
    let result = try run("python3", ["-c", script, output])
    guard result.status == 0 else { throw TestFailure("python3 failed: \(result.stderr)") }
    return output
}

private func pythonString(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

/// What a comparison of two trees looks at: type, permission bits, owner, and content or link target.
struct FileFacts: Equatable {
    var type: UInt32
    var permissions: UInt16
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var content: Data?
    var link: String?

    init?(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        type = info.st_mode & S_IFMT
        permissions = UInt16(info.st_mode & 0o7777)
        uid = info.st_uid
        gid = info.st_gid
        size = type == S_IFDIR ? 0 : Int64(info.st_size)
        content = type == S_IFREG ? FileManager.default.contents(atPath: path) : nil
        link = type == S_IFLNK ? try? FileManager.default.destinationOfSymbolicLink(atPath: path) : nil
    }
}
