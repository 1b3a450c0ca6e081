import Foundation
import Testing
@testable import CofferImage

/// Hostile bytes never trap: mutated and cut copies of a real gcc-built program and of the host's
/// ld.so.cache either parse or throw an `ELFError`. (A trap would crash the test run.)
@Suite struct ELFHostileInputTests {
    @Test func mutatedProgramsThrowOrParse() throws {
        let scratch = try TestScratch("elf-hostile")
        defer { scratch.remove() }
        let source = scratch.file("p.c")
        try "int main(void) { return 0; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        try RealTool.check("gcc", ["-o", scratch.file("p"), source])
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch.file("p"))))
        var generator = SystemRandomNumberGenerator()
        var outcomes = (parsed: 0, refused: 0)
        for round in 0..<300 {
            var bytes = original
            // Mutate the headers and the dynamic section, where the parser looks.
            for _ in 0..<(1 + round % 8) {
                let index = Int.random(in: 4..<min(bytes.count, 16384), using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if round % 3 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator))) }
            let path = scratch.file("m")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try ELFObject.read(try ELFFile(path: path))
                outcomes.parsed += 1
            } catch {
                // Typed throws: every failure is an ELFError with the file's path.
                #expect(error.description.hasPrefix(path))
                outcomes.refused += 1
            }
        }
        #expect(outcomes.refused > 0)
    }

    @Test func mutatedCachesThrowOrParse() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/etc/ld.so.cache")))
        var generator = SystemRandomNumberGenerator()
        var refused = 0
        for round in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + round % 4) {
                let index = Int.random(in: 17..<min(bytes.count, 4096), using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if round % 2 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator))) }
            do { _ = try LDSOCache.parse(bytes, path: "cache") } catch { refused += 1 }
        }
        #expect(refused > 0, "cut caches must be refused")
    }
}
