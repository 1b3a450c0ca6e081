import CofferCore
import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// The initramfs cache with the real cloud kernel's modules and gcc-compiled programs standing in
/// for the agent (the cache does not care what /init is).
@Suite struct InitramfsCacheTests {
    let fixture = GuestFixture.shared

    /// A static program to use as /init; `exitStatus` makes different programs.
    func program(_ exitStatus: Int, in work: TemporaryDirectory) throws -> String {
        try work.write("init\(exitStatus).c", "int main(void) { return \(exitStatus); }\n")
        try sh("gcc -static -O1 -o init\(exitStatus) init\(exitStatus).c", directory: work.path)
        return work.file("init\(exitStatus)")
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try #require(FileManager.default.contents(atPath: path))) }

    @Test func aCachedArchiveIsTheFreshBuildAndIsReused() throws {
        let kernel = try fixture.kernel()
        let work = try TemporaryDirectory("coffer-initramfs")
        let agent = try program(0, in: work)
        let cache = InitramfsCache(home: work.path)

        let first = try cache.initramfs(agent: agent, kernel: kernel)
        let fresh = try Initramfs(agent: agent, kernel: kernel)
        #expect(!first.reused)
        #expect(try bytes(first.path) == fresh.bytes)
        #expect(first.measurement.digest == fresh.digest && first.measurement.size == fresh.bytes.count)
        let name = (first.path as NSString).lastPathComponent
        #expect(first.path.hasPrefix(work.file("initramfs/")) && name.hasSuffix(".cpio") && name.count == 64 + 5)

        // Its parts are the files it was made from.
        #expect(first.measurement.agent == .init(path: "init", bytes: try bytes(agent)))
        #expect(first.measurement.modules.map { ModuleName.fromPath($0.path) } == fresh.modules + fresh.networkModules)
        for module in first.measurement.modules {
            let file = kernel.modules + "/" + module.path.dropFirst("lib/modules/\(kernel.release)/".count)
            #expect(module == .init(path: module.path, bytes: try bytes(file)))
        }
        #expect(first.measurement.userspaceSize == first.measurement.modules.reduce(try bytes(agent).count) { $0 + $1.size })

        let second = try cache.initramfs(agent: agent, kernel: kernel)
        #expect(second.reused)
        #expect(second.path == first.path && second.measurement == first.measurement)
    }

    /// A cached archive whose bytes no longer hash to the recorded digest is rebuilt: one flipped
    /// byte, a truncated file, and a missing digest file all give the fresh archive back.
    @Test func aCorruptedCachedArchiveIsRebuiltNotTrusted() throws {
        let kernel = try fixture.kernel()
        let work = try TemporaryDirectory("coffer-initramfs")
        let agent = try program(0, in: work)
        let cache = InitramfsCache(home: work.path)
        let original = try cache.initramfs(agent: agent, kernel: kernel)
        let good = try bytes(original.path)
        let digestFile = String(original.path.dropLast(".cpio".count)) + ".sha256"
        #expect(String(decoding: try bytes(digestFile), as: UTF8.self) == Hex.encode(SHA256Digest.hash(good)))

        var flipped = good
        flipped[flipped.count / 2] ^= 0x20
        let damages: [(String, () throws -> Void)] = [
            ("a flipped byte", { try Data(flipped).write(to: URL(fileURLWithPath: original.path)) }),
            ("a truncated file", { try Data(good.prefix(4096)).write(to: URL(fileURLWithPath: original.path)) }),
            ("no digest file", { try FileManager.default.removeItem(atPath: digestFile) }),
        ]
        for (damage, apply) in damages {
            try apply()
            let rebuilt = try cache.initramfs(agent: agent, kernel: kernel)
            #expect(!rebuilt.reused, "\(damage)")
            #expect(rebuilt.measurement == original.measurement, "\(damage)")
            #expect(try bytes(rebuilt.path) == good, "\(damage)")
        }
        // No temporary file is left beside the entry.
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.file("initramfs")).sorted()
            == [(original.path as NSString).lastPathComponent, (digestFile as NSString).lastPathComponent].sorted())
    }

    /// Another agent or another module set is another entry; the first stays valid.
    @Test func otherInputsAreOtherEntries() throws {
        let kernel = try fixture.kernel()
        let work = try TemporaryDirectory("coffer-initramfs")
        let cache = InitramfsCache(home: work.path)
        let agent = try program(0, in: work)
        let zero = try cache.initramfs(agent: agent, kernel: kernel)
        let one = try cache.initramfs(agent: try program(1, in: work), kernel: kernel)
        let fewer = try cache.initramfs(agent: agent, kernel: kernel, modules: ["virtio_mmio", "virtio_console"])
        #expect(Set([zero.path, one.path, fewer.path]).count == 3)
        #expect(Set([zero.measurement.digest, one.measurement.digest, fewer.measurement.digest]).count == 3)
        #expect(zero.measurement.modules == one.measurement.modules)
        #expect(fewer.measurement.agent == zero.measurement.agent && fewer.measurement.modules.count < zero.measurement.modules.count)
        #expect(try cache.initramfs(agent: agent, kernel: kernel).reused)
    }
}

/// The cache stays bounded: beyond `keep` archives, the least recently used ones that have been
/// idle long enough go (with their digests and stale temporary files); recent ones stay.
@Suite struct InitramfsCachePruneTests {
    @Test func theLeastRecentlyUsedIdleArchivesGo() throws {
        let work = try TemporaryDirectory("coffer-initramfs-prune")
        var cache = InitramfsCache(home: work.path)
        cache.keep = 2
        cache.minimumIdle = 100
        try FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        // Five archives used 500, 400, 300, 200 and 50 seconds ago, and two temporary files.
        let ages: [Double] = [500, 400, 300, 200, 50]
        for (index, age) in ages.enumerated() {
            for suffix in [".cpio", ".sha256"] {
                let path = "\(cache.directory)/entry\(index)\(suffix)"
                try work.write("initramfs/entry\(index)\(suffix)", "x")
                let date = Date(timeIntervalSince1970: now - age)
                try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
            }
        }
        try work.write("initramfs/old.cpio.tmp-1-2", "x")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: now - 1000)], ofItemAtPath: work.file("initramfs/old.cpio.tmp-1-2"))
        try work.write("initramfs/new.cpio.tmp-3-4", "x")

        cache.prune(now: now)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: cache.directory))
        // The two most recent stay whatever their age; of the rest, only idle ones go.
        #expect(left == ["entry4.cpio", "entry4.sha256", "entry3.cpio", "entry3.sha256", "new.cpio.tmp-3-4"])

        // With a longer idle time, entries used 200-400 s ago would have stayed.
        let again = try TemporaryDirectory("coffer-initramfs-prune")
        var patient = InitramfsCache(home: again.path)
        patient.keep = 1
        patient.minimumIdle = 1000
        try FileManager.default.createDirectory(atPath: patient.directory, withIntermediateDirectories: true)
        try again.write("initramfs/a.cpio", "x")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: now - 300)], ofItemAtPath: again.file("initramfs/a.cpio"))
        try again.write("initramfs/b.cpio", "x")
        patient.prune(now: now)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: patient.directory)) == ["a.cpio", "b.cpio"])
    }
}
