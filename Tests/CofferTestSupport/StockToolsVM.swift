import Foundation

/// A VM with stock Linux tools instead of Coffer's agent: Debian's cloud kernel (with its
/// modules, from the VM tests' cache `.build-vm/debian`), busybox-static, and the host's cryptsetup,
/// integritysetup, dmsetup and mke2fs with their shared libraries, in an initramfs of its own.
/// It runs a shell script the test gives over virtio-blk disks the test gives, under TCG within a
/// deadline, and returns what the script printed.
///
/// This is how tests check that Coffer's volumes open with the tools an owner has (decision
/// 0023), on the kernel that has device-mapper: the machine running the tests has none.
///
/// The archive holds, besides the tools: `/init` (the prelude below, then `/test.sh`), the
/// modules in load order under `/modules`, and the test's own files.
public struct StockToolsVM: Sendable {
    /// A disk file attached read-write as virtio-blk with `serial` (/sys/block/vdX/serial).
    public struct Disk: Sendable {
        public var path: String
        public var serial: String
        public init(path: String, serial: String) {
            self.path = path
            self.serial = serial
        }
    }

    /// The kernel's directory (`vmlinuz`, `modules/`), as `coffer setup` lays it out.
    public let kernel: String
    /// Modules loaded before the script runs, each after what it depends on (`.modinfo depends=`).
    public var modules = ["virtio_mmio", "virtio_blk", "dm_integrity", "ecb", "xts", "dm_crypt"]
    /// The host programs copied in with their libraries (`ldd`).
    public static let programs = ["/usr/sbin/integritysetup", "/usr/sbin/cryptsetup", "/usr/sbin/dmsetup", "/usr/sbin/mke2fs"]
    /// Printed by the prelude after the script, with its exit status.
    public static let statusMarker = "@@coffer-stock-status "

    /// Debian's cloud kernel (its modules are what the stock tools need), fetched with `coffer setup
    /// --kernel-package` on first use; fails saying what went wrong when there is none.
    public init(kernelHome: String = VMHomes.debian) throws {
        let directory = "\(kernelHome)/kernel/default"
        if !FileManager.default.fileExists(atPath: "\(directory)/vmlinuz") {
            let setup = try CofferTestSupport.run(Repository.executable("coffer"), ["setup", "--home", kernelHome, "--kernel-package", VMHomes.debianPackage])
            guard setup.status == 0 else { throw TestFailure("coffer setup --home \(kernelHome) failed: \(setup.stderr)") }
        }
        guard FileManager.default.fileExists(atPath: "\(directory)/vmlinuz"),
            FileManager.default.fileExists(atPath: "\(directory)/modules/modules.builtin")
        else {
            throw TestFailure("no guest kernel in \(kernelHome): run `coffer setup --home \(kernelHome) --kernel-package \(VMHomes.debianPackage)` (the VM tests do on first use)")
        }
        kernel = (directory as NSString).resolvingSymlinksInPath
        for program in Self.programs + ["/usr/bin/busybox", "/usr/bin/cpio", "/usr/bin/qemu-system-x86_64"]
        where !FileManager.default.isExecutableFile(atPath: program) {
            throw TestFailure("\(program) is missing: install busybox-static, cryptsetup-bin, dmsetup, e2fsprogs, cpio and qemu-system-x86")
        }
    }

    /// What one boot printed: the script's output (the console with the kernel quiet) and its status.
    public struct Result: Sendable {
        public var console: String
        /// The script's exit status; nil when the VM ended without the prelude reporting one.
        public var status: Int32?
        /// The console between `begin` and `end` marker lines the script printed, nil without them.
        public func between(_ begin: String, _ end: String) -> String? {
            guard let start = console.range(of: begin + "\n"), let stop = console.range(of: "\n" + end, range: start.upperBound..<console.endIndex)
            else { return nil }
            return String(console[start.upperBound..<stop.lowerBound])
        }
    }

    /// Boots once (busybox's shell prefers its own applets: call the host's mke2fs as /sbin/mke2fs):
    /// `script` runs as root (`sh /test.sh`) with /proc, /sys, /dev mounted, the
    /// modules loaded and the disks present (`disk coffer-vol0` prints a disk's node), then the VM
    /// powers off. `files`
    /// are added to the archive (path without the leading slash → contents).
    public func run(script: String, disks: [Disk], files: [String: [UInt8]] = [:], deadline: Double = 120) throws -> Result {
        let work = try TemporaryDirectory("coffer-stock-vm")
        let tree = work.file("root")
        try stage(tree, script: script, disks: disks.count, files: files)
        let initramfs = work.file("initramfs.cpio")
        try sh("cd '\(tree)' && find . | cpio -o -H newc -R 0:0 --quiet > '\(initramfs)'")

        var kernelArguments = ["console=ttyS0", "panic=-1", "rdinit=/init", "quiet", "cryptomgr.notests"]
        if let khz = Self.tscKilohertz() { kernelArguments.append("tsc_early_khz=\(khz)") }
        var arguments = [
            "-M", "microvm,x-option-roms=off", "-accel", "tcg", "-cpu", "max", "-m", "256", "-smp", "1",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-kernel", "\(kernel)/vmlinuz", "-initrd", initramfs, "-append", kernelArguments.joined(separator: " "),
            "-serial", "file:\(work.file("console.log"))",
        ]
        for (index, disk) in disks.enumerated() {
            arguments += [
                "-drive", "file=\(disk.path.replacingOccurrences(of: ",", with: ",,")),format=raw,if=none,id=disk\(index)",
                "-device", "virtio-blk-device,drive=disk\(index),serial=\(disk.serial)",
            ]
        }
        let qemu = Process()
        qemu.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        qemu.arguments = arguments
        let log = FileHandle(forWritingAtPath: try work.write("qemu.log", ""))
        qemu.standardOutput = log
        qemu.standardError = log
        qemu.standardInput = FileHandle.nullDevice
        try qemu.run()
        // A bound on waiting, not a timing assertion: a hung guest fails the test, it does not hang it.
        let end = Date().addingTimeInterval(deadline)
        while qemu.isRunning && Date() < end { usleep(50_000) }
        let timedOut = qemu.isRunning
        if timedOut { kill(qemu.processIdentifier, SIGKILL) }
        qemu.waitUntilExit()
        // The serial line ends lines with CR LF.
        let console = ((try? String(contentsOfFile: work.file("console.log"), encoding: .utf8)) ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        if timedOut { throw TestFailure("the stock-tools VM did not power off within \(deadline) s; its console:\n\(console.suffix(4000))") }
        guard qemu.terminationStatus == 0 else {
            let qemuLog = (try? String(contentsOfFile: work.file("qemu.log"), encoding: .utf8)) ?? ""
            throw TestFailure("qemu exited with \(qemu.terminationStatus): \(qemuLog)\nconsole:\n\(console.suffix(4000))")
        }
        let status = console.components(separatedBy: "\n").last { $0.hasPrefix(Self.statusMarker) }.flatMap { Int32($0.dropFirst(Self.statusMarker.count)) }
        return Result(console: console, status: status)
    }

    /// Flips every bit of the byte at `offset` of `disk`, as a host tampering with a volume would.
    public static func flipByte(of disk: String, at offset: UInt64) throws {
        guard let handle = FileHandle(forUpdatingAtPath: disk) else { throw TestFailure("cannot open \(disk)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        guard let byte = try handle.read(upToCount: 1)?.first else { throw TestFailure("\(disk) has no byte at \(offset)") }
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data([~byte]))
    }

    /// The init script: pseudo file systems, the modules, the disks, the test's script, power off.
    static func prelude(modules: [String], disks: Int) -> String {
        """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/sbin:/bin
        # No ld.so.cache in the archive: the loader searches the libraries' directories by name.
        export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
        mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
        mkdir -p /run/cryptsetup /tmp /mnt
        dmesg -n 1
        for module in \(modules.joined(separator: " ")); do insmod /modules/$module.ko || echo "insmod $module failed"; done
        i=0
        while [ "$(ls -d /sys/block/vd* 2>/dev/null | wc -l)" -lt \(disks) ] && [ $i -lt 500 ]; do usleep 10000; i=$((i+1)); done
        sh /test.sh
        status=$?
        if [ $status != 0 ]; then echo "kernel log:"; dmesg | tail -n 25; fi
        echo "\(statusMarker)$status"
        sync
        poweroff -f

        """
    }

    /// `disk SERIAL` prints the node of the virtio disk with that serial, or fails.
    static let diskLookup = """
        #!/bin/sh
        for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "$1" ] && { echo /dev/${d##*/}; exit 0; }; done
        echo "no disk with serial $1" >&2; exit 1

        """

    private func stage(_ tree: String, script: String, disks: Int, files: [String: [UInt8]]) throws {
        let manager = FileManager.default
        for directory in ["bin", "sbin", "proc", "sys", "dev", "modules", "etc"] {
            try manager.createDirectory(atPath: "\(tree)/\(directory)", withIntermediateDirectories: true)
        }
        try manager.copyItem(atPath: "/usr/bin/busybox", toPath: "\(tree)/bin/busybox")
        var libraries = Set<String>()
        for program in Self.programs {
            try manager.copyItem(atPath: program, toPath: "\(tree)/sbin/\((program as NSString).lastPathComponent)")
            // ldd lines: "libx.so.1 => /lib/.../libx.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
            for line in try sh("ldd \(program)").split(separator: "\n") {
                if let path = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first(where: { $0.hasPrefix("/") }) { libraries.insert(String(path)) }
            }
        }
        for library in libraries {
            let target = "\(tree)\(library)"
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The file's contents under the name the loader asks for (reading follows the host's symlinks).
            try Data(contentsOf: URL(fileURLWithPath: library)).write(to: URL(fileURLWithPath: target))
            try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
        }
        let order = try loadOrder(modules)
        for (name, path) in order { try manager.copyItem(atPath: path, toPath: "\(tree)/modules/\(name).ko") }
        try Data(Self.prelude(modules: order.map(\.name), disks: disks).utf8).write(to: URL(fileURLWithPath: "\(tree)/init"))
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(tree)/init")
        try Data(Self.diskLookup.utf8).write(to: URL(fileURLWithPath: "\(tree)/sbin/disk"))
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(tree)/sbin/disk")
        try Data(script.utf8).write(to: URL(fileURLWithPath: "\(tree)/test.sh"))
        for (path, bytes) in files {
            let target = "\(tree)/\(path)"
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: target))
        }
    }

    /// `names` and what they depend on, dependencies first, skipping modules built into the kernel.
    /// Depends come from the module's `.modinfo` strings (`depends=a,b`); the test needs only that
    /// one field, so it scans for it instead of parsing the ELF (CofferVMM's ModuleInfo does).
    func loadOrder(_ names: [String]) throws -> [(name: String, path: String)] {
        let root = "\(kernel)/modules"
        let builtin = Set(try String(contentsOfFile: "\(root)/modules.builtin", encoding: .utf8).split(separator: "\n").map { Self.name(of: String($0)) })
        var files: [String: String] = [:]
        for relative in FileManager.default.enumerator(atPath: "\(root)/kernel")?.compactMap({ $0 as? String }) ?? [] where relative.hasSuffix(".ko") {
            files[Self.name(of: relative)] = "\(root)/kernel/\(relative)"
        }
        var order: [(name: String, path: String)] = []
        func visit(_ requested: String) throws {
            let name = requested.replacingOccurrences(of: "-", with: "_")
            if builtin.contains(name) || order.contains(where: { $0.name == name }) { return }
            guard let path = files[name] else { throw TestFailure("kernel module \(name) is neither built in nor under \(root)/kernel") }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let marker = Data("depends=".utf8)
            if let found = bytes.range(of: marker) {
                let end = bytes[found.upperBound...].firstIndex(of: 0) ?? bytes.endIndex
                for dependency in String(decoding: bytes[found.upperBound..<end], as: UTF8.self).split(separator: ",") { try visit(String(dependency)) }
            }
            order.append((name, path))
        }
        for name in names { try visit(name) }
        return order
    }

    /// `kernel/drivers/md/dm-crypt.ko` → `dm_crypt`.
    static func name(of path: String) -> String {
        var file = (path as NSString).lastPathComponent
        if file.hasSuffix(".ko") { file.removeLast(3) }
        return file.replacingOccurrences(of: "-", with: "_")
    }

    /// The host's TSC rate for `tsc_early_khz`, by the rule of CofferVMM's `HostFacts.tscKilohertz`
    /// (test support links none of Coffer's modules): the first CPU's "cpu MHz", only when its
    /// flags say `tsc_known_freq`. Without it a guest under TCG on a busy host can hang in calibration.
    static func tscKilohertz() -> Int? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        let first = cpuinfo.components(separatedBy: "\n\n").first ?? ""
        var megahertz: Double?, known = false
        for line in first.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "cpu MHz" { megahertz = Double(parts[1]) }
            if parts[0] == "flags" { known = parts[1].split(separator: " ").contains("tsc_known_freq") }
        }
        guard known, let megahertz, megahertz > 0, megahertz < 100_000 else { return nil }
        return Int((megahertz * 1000).rounded())
    }
}
