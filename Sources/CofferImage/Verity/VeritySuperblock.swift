import CofferCore

/// The version 1 dm-verity superblock that `veritysetup format` writes at offset 0 of the hash
/// device. The kernel never reads it (the table carries every parameter); veritysetup reads it on
/// `open`/`verify`, and Coffer writes it so that its hash files are byte-identical to veritysetup's.
///
/// Layout (cryptsetup lib/verity/verity.c, `struct verity_sb`; all integers little-endian):
///
/// ```
///  offset size field
///       0    8 signature        "verity\0\0"
///       8    4 version          1
///      12    4 hash_type        1 = SHA(salt || block); 0 = Chrome OS SHA(block || salt)
///      16   16 uuid             raw bytes of the hash device UUID
///      32   32 algorithm        "sha256", NUL padded
///      64    4 data_block_size
///      68    4 hash_block_size
///      72    8 data_blocks
///      80    2 salt_size        <= 256
///      82    6 _pad1            zero
///      88  256 salt             salt_size bytes used, rest zero
///     344  168 _pad2            zero
///     512                       end; zero up to the first hash block boundary
/// ```
struct VeritySuperblock: Sendable, Equatable {
    static let size = 512
    static let maxSaltSize = 256
    static let signature: [UInt8] = Array("verity".utf8) + [0, 0]
    static let algorithm = "sha256"

    var version: UInt32 = 1
    var hashType: UInt32 = 1
    var uuid: [UInt8]
    var algorithm: String = VeritySuperblock.algorithm
    var dataBlockSize: UInt32
    var hashBlockSize: UInt32
    var dataBlocks: UInt64
    var salt: [UInt8]

    init(parameters: VerityParameters, dataBlocks: Int64) {
        uuid = parameters.uuid
        dataBlockSize = UInt32(truncatingIfNeeded: parameters.dataBlockSize)
        hashBlockSize = UInt32(truncatingIfNeeded: parameters.hashBlockSize)
        self.dataBlocks = UInt64(truncatingIfNeeded: dataBlocks)
        salt = parameters.salt
    }

    /// The 512 bytes, fields in the order of `struct verity_sb`.
    func serialized() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.write(Self.signature)
        writer.writeUInt32LE(version)
        writer.writeUInt32LE(hashType)
        writer.writeFixed(uuid, width: 16)
        writer.writeFixed(Array(algorithm.utf8), width: 32)
        writer.writeUInt32LE(dataBlockSize)
        writer.writeUInt32LE(hashBlockSize)
        writer.writeUInt64LE(dataBlocks)
        writer.writeUInt16LE(UInt16(truncatingIfNeeded: salt.count))
        writer.writeZeros(6)
        writer.writeFixed(salt, width: Self.maxSaltSize)
        writer.writeZeros(168)
        return writer.bytes
    }

    /// Parses and checks a superblock read from an untrusted hash file. Only what Coffer writes is
    /// accepted (version 1, hash type 1, sha256), so `verify` never recomputes with parameters an
    /// attacker chose to weaken the check.
    static func parse(_ bytes: [UInt8], path: String) throws(VerityError) -> VerityParameters {
        var reader = ByteReader(bytes)
        do {
            guard try reader.read(8, "signature") == signature else {
                throw VerityError.badSuperblock(path: path, reason: "no \"verity\" signature at offset 0")
            }
            let version = try reader.readUInt32LE("version")
            let hashType = try reader.readUInt32LE("hash_type")
            guard version == 1, hashType == 1 else {
                throw VerityError.badSuperblock(
                    path: path, reason: "version \(version) hash type \(hashType), expected 1 and 1")
            }
            let uuid = try reader.read(16, "uuid")
            let algorithmField = try reader.read(32, "algorithm")
            let name = String(decoding: algorithmField.prefix { $0 != 0 }, as: UTF8.self)
            guard name == Self.algorithm else {
                throw VerityError.badSuperblock(path: path, reason: "hash algorithm \"\(name)\", expected sha256")
            }
            let dataBlockSize = try reader.readUInt32LE("data_block_size")
            let hashBlockSize = try reader.readUInt32LE("hash_block_size")
            _ = try reader.readUInt64LE("data_blocks")
            let saltSize = Int(try reader.readUInt16LE("salt_size"))
            try reader.skip(6, "_pad1")
            let saltField = try reader.read(Self.maxSaltSize, "salt")
            guard saltSize <= Self.maxSaltSize else {
                throw VerityError.badSuperblock(path: path, reason: "salt size \(saltSize) exceeds 256")
            }
            let parameters = VerityParameters(
                salt: Array(saltField.prefix(saltSize)), uuid: uuid,
                dataBlockSize: Int(dataBlockSize), hashBlockSize: Int(hashBlockSize))
            do { try parameters.validate() } catch {
                throw VerityError.badSuperblock(path: path, reason: error.description)
            }
            return parameters
        } catch let error as ByteReader.Truncated {
            throw .badSuperblock(path: path, reason: error.description)
        } catch let error as VerityError {
            throw error
        } catch {
            throw .badSuperblock(path: path, reason: "\(error)")
        }
    }

    /// The data block count recorded at offset 72 (read separately because `parse` returns the
    /// parameters a caller would pass to `format`).
    static func dataBlocks(_ bytes: [UInt8]) -> Int64? {
        var reader = ByteReader(bytes, offset: 72)
        guard let count = try? reader.readUInt64LE("data_blocks"), count <= UInt64(Int64.max) else { return nil }
        return Int64(count)
    }
}
