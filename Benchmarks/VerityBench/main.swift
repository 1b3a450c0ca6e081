// verity-bench: dm-verity hash-tree construction, Coffer's VerityTree.format against
// `veritysetup format` on the same file with the same salt and UUID, alternating runs in one
// program run (A/B in the same conditions, no stored baseline). Prints MB/s for each, the ratio
// Coffer/veritysetup and whether the root hashes and hash files agree.
//
// Usage: verity-bench [DIRECTORY] [SIZE_MIB] [RUNS]   (defaults: /var/tmp 1024 3)
import CofferCore
import CofferImage
import Foundation

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

/// xoshiro256** (Blackman and Vigna): fast enough to fill a GiB in about a second; the data only
/// has to be incompressible-looking, not secret.
struct Xoshiro256 {
    var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}

func makeRandomFile(_ path: String, bytes: Int) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw BenchFailure(description: "cannot create \(path)")
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var generator = Xoshiro256(seed: UInt64(UInt32.random(in: 0...UInt32.max)))
    let chunk = 8 << 20
    var words = [UInt64](repeating: 0, count: chunk / 8)
    var written = 0
    while written < bytes {
        for i in words.indices { words[i] = generator.next() }
        let count = min(chunk, bytes - written)
        try words.withUnsafeBytes { try handle.write(contentsOf: Data($0.prefix(count))) }
        written += count
    }
}

func runVeritysetup(data: String, hash: String, salt: [UInt8], uuid: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["veritysetup", "format", data, hash, "--salt=\(Hex.encode(salt))", "--uuid=\(uuid)"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0,
        let line = output.split(separator: "\n").first(where: { $0.hasPrefix("Root hash:") })
    else { throw BenchFailure(description: "veritysetup format failed (is cryptsetup-bin installed?): \(output)") }
    return line.dropFirst("Root hash:".count).trimmingCharacters(in: .whitespaces)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let arguments = CommandLine.arguments.dropFirst()
let directory = arguments.first ?? "/var/tmp"
let sizeMiB = arguments.dropFirst().first.flatMap { Int($0) } ?? 1024
let runs = max(1, arguments.dropFirst(2).first.flatMap { Int($0) } ?? 3)
let bytes = sizeMiB << 20
let scratch = "\(directory)/coffer-verity-bench-\(ProcessInfo.processInfo.processIdentifier)"
let data = "\(scratch)/data.img"
let ourHash = "\(scratch)/coffer.hash"
let theirHash = "\(scratch)/veritysetup.hash"

var agreed = false
do {
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    print("verity-bench: \(sizeMiB) MiB random data in \(scratch), \(runs) alternating runs each")
    try makeRandomFile(data, bytes: bytes)
    let salt = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    let uuidBytes = (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    let uuidHex = Hex.encode(uuidBytes)
    let uuid = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32]
        .map { String(uuidHex.dropFirst($0.lowerBound).prefix($0.count)) }.joined(separator: "-")
    let parameters = VerityParameters(salt: salt, uuid: uuidBytes)

    // One untimed pass each so both start with the data in the page cache.
    _ = try VerityTree.format(dataPath: data, hashPath: ourHash, parameters: parameters)
    _ = try runVeritysetup(data: data, hash: theirHash, salt: salt, uuid: uuid)

    let clock = ContinuousClock()
    var ours: [Double] = []
    var theirs: [Double] = []
    var ourRoot = ""
    var theirRoot = ""
    for run in 1...runs {
        var result: VerityResult?
        let a = clock.measure { result = try? VerityTree.format(dataPath: data, hashPath: ourHash, parameters: parameters) }
        guard let result else { throw BenchFailure(description: "VerityTree.format failed") }
        ourRoot = Hex.encode(result.rootHash)
        var reference = ""
        var failure: (any Error)?
        let b = clock.measure {
            do { reference = try runVeritysetup(data: data, hash: theirHash, salt: salt, uuid: uuid) } catch { failure = error }
        }
        if let failure { throw failure }
        theirRoot = reference
        ours.append(Double(bytes) / 1e6 / seconds(a))
        theirs.append(Double(bytes) / 1e6 / seconds(b))
        print(String(format: "run %d: coffer %8.1f MB/s  veritysetup %8.1f MB/s", run, ours.last ?? 0, theirs.last ?? 0))
    }
    let sameFiles = FileManager.default.contentsEqual(atPath: ourHash, andPath: theirHash)
    print(String(format: "median: coffer %.1f MB/s, veritysetup %.1f MB/s, ratio coffer/veritysetup %.2fx",
                 median(ours), median(theirs), median(ours) / median(theirs)))
    print("root hash coffer      \(ourRoot)")
    print("root hash veritysetup \(theirRoot)")
    print("root hashes \(ourRoot == theirRoot ? "agree" : "DIFFER"); hash files \(sameFiles ? "identical" : "DIFFER")")
    agreed = ourRoot == theirRoot && sameFiles
} catch {
    print("verity-bench: \(error)")
    try? FileManager.default.removeItem(atPath: scratch)
    exit(1)
}
if !agreed { exit(1) }
