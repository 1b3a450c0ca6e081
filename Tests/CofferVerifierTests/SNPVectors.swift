import CofferTestSupport
import Foundation

/// The real SEV-SNP vectors of ../shared/vectors/snp (see its README), through `Vectors`, which
/// names the exact path expected when one is missing.
enum SNPVectors {
    static func bytes(_ name: String) throws -> [UInt8] { try Vectors.bytes("snp/\(name)") }

    static func text(_ name: String) throws -> String { try Vectors.text("snp/\(name)") }

    /// Inside every window of both chains (2025-06-22), and inside the VLEK's.
    static let during = Date(timeIntervalSince1970: 1_750_600_000)
    /// After the VLEK's notAfter (2025-12-10), inside the VCEK's.
    static let afterVLEK = Date(timeIntervalSince1970: 1_771_500_000)
    /// After the VCEK's notAfter (2029-09-24), inside the ARK's and ASK's (to 2045).
    static let afterVCEK = Date(timeIntervalSince1970: 1_900_000_000)
}

import Testing

/// Without ../shared beside the checkout, a vector test fails naming the file it expected.
@Suite struct VectorLocationTests {
    @Test func aMissingVectorNamesTheExactPathAndWhereSharedMustBe() throws {
        let missing = "snp/no-such-vector.bin"
        let error = try #require(throws: TestFailure.self) { try Vectors.path(missing) }
        #expect(error.description.contains("\(Vectors.directory)/\(missing)"))
        #expect(error.description.contains("../shared") && error.description.contains("beside the checkout"))
        #expect(try Vectors.path("snp/milan-vcek.der") == "\(Vectors.directory)/snp/milan-vcek.der")
    }
}
