import CofferCore
import Testing

@Suite struct SHA512DigestTests {
    /// FIPS 180-4 examples (NIST CSRC "SHA512.pdf": one block, two blocks) and the empty message.
    @Test func matchesTheNISTExamples() {
        #expect(
            Hex.encode(SHA512Digest.hash(Array("abc".utf8)))
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(
            Hex.encode(SHA512Digest.hash([]))
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        let message896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(
            Hex.encode(SHA512Digest.hash(Array(message896.utf8)))
                == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
    }

    /// Lengths around the 111/112/128-byte padding boundaries; expected digests from python3's
    /// hashlib.sha512 over the same bytes (`bytes((i*31+7)&0xff for i in range(300))[:n]`).
    @Test(arguments: [
        (111, "da780d8338a8a920ceb6892cb4ecbb0cc0c66956269aadd5dd0f48790a00857bd975890f3b2955a317738cc7a770820c29f922ffbc22020f1909d594cc987d1b"),
        (112, "053182f7fa4e59f8636e415a77ed4fdc650f0a43834c9d35adf899599c3ab9c4153f02ff50bd01888060cd36a6fa12d9db242fc35164c80135613514186d5843"),
        (113, "766fea2f90094ecec1166ea4d6e9ddc6ae6fbe4a060e049300ecbe631a7d6547409b6ac39865409e6dd5dada112955fddf32698feb98806c1910f446ac5af7e3"),
        (127, "a7a75593826fd37d4e60f6101eabb9f8ab1cf4d5319ebc805266d5da8deb5097de1a235fc5d9d3d73c50ac100ffc75089fb454674ab61232091bd19cbdc67396"),
        (128, "df007a08f3aaae47e0c92ef840ecd43645ae6098c819f2a4a66174ef1cd49e5c6dfccf0616895e570b7564af641de5863dff9f89c752913d30cf0ecf678e1635"),
        (129, "a10ea769b79831bca33e9efb29fc501ded6e9c88885d079acb76eecaa8ac58d68bdc7e00103053e1519352c0d064c87accc3d553a6039decc2c4f1e7667eef79"),
        (255, "ac1ecd53106f3dfba66b7b3fcac37652aad2aad2a291c354eaca03928e74853d53c0e8c7f2fa05025efdb262fd4b51103747d3dafd53e1feefc590bf2617b30a"),
        (300, "cd8fc4c36e0e79546fca813c67f25da21fb6d02035d86fa340c0fc5d4df796434a5b613d435ddf9fdf2ed55595947135b0e74fb5b13900f9d95da5e4c27905f2"),
    ])
    func agreesWithPythonHashlib(length: Int, expected: String) {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(Hex.encode(SHA512Digest.hash(message)) == expected)
        var hasher = SHA512Digest()
        hasher.update(message.prefix(length / 3))
        hasher.update(message.dropFirst(length / 3))
        #expect(Hex.encode(hasher.finalize()) == expected, "in two pieces")
    }

    /// SHA-384 (the same engine, another initial value, 48 bytes): FIPS 180-4's "abc" example and
    /// python3's hashlib.sha384 over the same messages as above.
    @Test(arguments: [
        (0, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"),
        (111, "5922d169e553267e1846ae2128a026407faf487dab98dfb383e751d3846f82f6edbe70b48b6202327516159d340c56a9"),
        (112, "b42aff1d6d298152801480cb2b5851c32afe5e5fbae583b0a9b52fe955440c3f276fd812c0f4439cf94c3f9e03068a21"),
        (128, "95ab88109cbf117548a8ad35909ffefa175d06a9c42614b9d359548cff5d550b30affb36ff638cd32aa5f5409066c68a"),
        (300, "b0831e12757eb5cb023427a6f279c515890204848fd86aa7e3a2fb73aa3131b3a5d6e98fcae9cfc83e1075380a8dec69"),
    ])
    func sha384AgreesWithPythonHashlib(length: Int, expected: String) {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(Hex.encode(SHA512Digest.hash384(message)) == expected)
        #expect(Hex.encode(SHA512Digest.hash384(Array("abc".utf8)))
            == "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
    }
}
