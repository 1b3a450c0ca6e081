import Crypto
import Synchronization

/// Collateral signatures that already verified, remembered across verifications.
///
/// A service verifies many quotes against the same collateral (one bundle per FMSPC until its
/// next update), so the ECDSA checks on the collateral — the issuer certificates signed by the
/// root, the root CA and PCK CRLs, TCB Info and QE Identity — repeat with identical inputs. They
/// are the bulk of the verification cost.
///
/// Why remembering them is safe:
/// - Whether an ECDSA signature verifies is a pure function of (public key, signed bytes,
///   signature). The memo key is SHA-256 over the signer's TBS certificate bytes (which hold its
///   public key, so the same bytes mean the same key), the signature and the signed bytes, each
///   length-prefixed and tagged with what is signed: a hit means these very inputs verified
///   before; a changed byte anywhere misses and is verified afresh.
/// - Only successes are stored: a failure is recomputed (and reported) every time.
/// - Nothing time- or quote-dependent is remembered: certificate validity, CRL, TCB Info and QE
///   Identity windows, revocation look-ups, CA flags and name chaining run on every call, as do
///   the quote's own signatures (PCK leaf certificate, QE report, quote), which never go through
///   this memo.
/// - Bounded: emptied when it reaches `capacity` entries; thread-safe behind a mutex.
enum CollateralSignatureMemo {
    static let capacity = 4096

    private static let verified = Mutex<Set<SHA256Digest>>([])

    /// What a signature covers; part of the key so that bytes signed as one kind never match
    /// another.
    enum Kind: UInt8 {
        case certificate = 1, crl = 2, collateralBody = 3
    }

    /// Forgets every remembered success (benchmarks measure the cold path with it).
    static func removeAll() {
        verified.withLock { $0.removeAll() }
    }

    /// True when `check` returns true for these inputs now or did before. `signer` is the
    /// signing certificate's TBS bytes.
    static func isValid(
        _ kind: Kind, key signer: some Collection<UInt8>, signature: some Collection<UInt8>, message: some Collection<UInt8>,
        check: () -> Bool
    ) -> Bool {
        var hash = SHA256()
        hash.update(data: [kind.rawValue])
        for part in [Array(signer), Array(signature)] {
            withUnsafeBytes(of: UInt64(part.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: part)
        }
        withUnsafeBytes(of: UInt64(message.count).bigEndian) { hash.update(bufferPointer: $0) }
        if let contiguous = message as? ArraySlice<UInt8> {
            contiguous.withUnsafeBytes { hash.update(bufferPointer: $0) }
        } else {
            hash.update(data: Array(message))
        }
        let digest = hash.finalize()
        if verified.withLock({ $0.contains(digest) }) { return true }
        guard check() else { return false }
        verified.withLock { set in
            if set.count >= capacity { set.removeAll(keepingCapacity: true) }
            set.insert(digest)
        }
        return true
    }
}
