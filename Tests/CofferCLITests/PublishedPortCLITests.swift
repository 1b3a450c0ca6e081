import CofferTestSupport
import Foundation
import Testing

/// Issue 16: `-p HOST:GUEST` works for every kind of image — built from binaries, from a rootfs
/// tarball, from an OCI layout, from a Cofferfile — on real micro-VMs. Images without an /etc
/// (binaries, a scratch OCI image) get their resolver file on the tmpfs overlay; an image whose
/// /etc/resolv.conf is a symlink gets a file of its own there, the link's target untouched.
@Suite(.serialized) struct PublishedPortCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let runs = RunCLITests()

    /// Runs `image` detached with a free host port published to `guestPort` and returns the answer
    /// to one HTTP GET of `/` there (waiting for the server to come up), then removes the VM.
    func answerOnAPublishedPort(_ home: String, image: String, guestPort: Int, _ command: [String] = []) throws -> String {
        let port = try freePort()
        let started = try coffer(home, ["run", "-d", "--name", "published", "-p", "\(port):\(guestPort)", image] + command)
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = try? coffer(home, ["rm", "-f", "published"]) }
        let page = try poll(for: 10) {
            try run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port) && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"])
        } until: { $0.stdout.hasPrefix("HTTP/1.") }
        let states = try coffer(home, ["ps", "-a"]).stdout
        #expect(page.stdout.hasPrefix("HTTP/1.0 200 OK\r\n") || page.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(page) \(states)")
        return String(page.stdout.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")
    }

    /// One dynamic binary, nothing else (no /etc), as the README builds it.
    @Test func anImageBuiltFromABinaryAlone() throws {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-binary-port")
        _ = try compile(Program.httpServer, to: "server", flags: [], in: work)
        let built = try coffer(home.path, ["build", "--binary", "./server", "-t", "server:1"], directory: work.path)
        #expect(built.status == 0, "\(built.stderr)")
        #expect(try answerOnAPublishedPort(home.path, image: "server:1", guestPort: 8443) == Program.httpAnswer)
    }

    /// A scratch OCI image: one layer holding a static server, no /etc.
    @Test func anImageBuiltFromAnOCILayout() throws {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-oci-port")
        try FileManager.default.createDirectory(atPath: work.file("layer"), withIntermediateDirectories: true)
        _ = try compile(Program.httpServer, to: "layer/server", flags: ["-static"], in: work)
        try sh("rm layer/server.c && tar -C layer -cf layer.tar .", directory: work.path)
        try OCIImageFixture.layout(in: work.path, layer: work.file("layer.tar"), entrypoint: ["/server"], cmd: ["--port", "8080"])
        _ = try build(home.path, ["--oci", work.file("layout"), "-t", "scratch:1"])
        #expect(try answerOnAPublishedPort(home.path, image: "scratch:1", guestPort: 8080) == Program.httpAnswer)
    }

    /// A `docker export`-style tarball whose /etc/resolv.conf is systemd-resolved's dangling link:
    /// the guest serves the resolver file it wrote, and the link's target was never made.
    @Test func anImageBuiltFromARootfsTarball() throws {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-rootfs-port")
        let tarball = try busyboxRoot(in: work, extra: "ln -s ../run/systemd/resolve/stub-resolv.conf etc/resolv.conf")
        _ = try build(home.path, ["--rootfs", tarball, "--entrypoint", #"["/bin/sh", "-c"]"#, "-t", "rootfs:1"])
        let answer = try answerOnAPublishedPort(home.path, image: "rootfs:1", guestPort: 80, [
            "mkdir /www && { cat /etc/resolv.conf; test -L /etc/resolv.conf && echo link; test -e /run/systemd || echo no run; } > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www"
        ])
        #expect(answer == "nameserver 10.0.2.3\nno run\n")
    }

    /// A Cofferfile over a busybox rootfs, served by busybox's httpd.
    @Test func anImageBuiltFromACofferfile() throws {
        let home = try runs.storeWithKernel()
        try LifecycleCLITests().busyboxImage(home.path, tag: "web:1", exec: "deny")
        let answer = try answerOnAPublishedPort(home.path, image: "web:1", guestPort: 80, [
            "/bin/sh", "-c", "mkdir /www && echo hello from the guest > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www",
        ])
        #expect(answer == "hello from the guest\n")
    }
}

/// A TCP port nobody listens on now.
func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("cannot find a free port") }
    return UInt16(bigEndian: address.sin_port)
}
