import Foundation

/// The real SEV-SNP vectors of ../shared/vectors/snp (see its README), found from this file's
/// path so tests run from any working directory.
enum SNPVectors {
    static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.deletingLastPathComponent().appendingPathComponent("shared/vectors/snp")
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Inside every window of both chains (2025-06-22), and inside the VLEK's.
    static let during = Date(timeIntervalSince1970: 1_750_600_000)
    /// After the VLEK's notAfter (2025-12-10), inside the VCEK's.
    static let afterVLEK = Date(timeIntervalSince1970: 1_771_500_000)
    /// After the VCEK's notAfter (2029-09-24), inside the ARK's and ASK's (to 2045).
    static let afterVCEK = Date(timeIntervalSince1970: 1_900_000_000)
}
