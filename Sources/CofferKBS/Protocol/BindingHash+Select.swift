import CofferKBSProtocol
import CofferJSON

/// The broker's choice among the hash algorithms (`BindingHash`, in CofferKBSProtocol).
extension BindingHash {
    /// What the KBS selects from a Request's `supported-hash-algorithms`: SHA-384 when offered
    /// (guest-components' default, what TDX and SNP tooling use), else the strongest offered.
    /// A client that lists none gets SHA-384, the client's own default.
    public static func select(from extraParams: JSONValue?) -> BindingHash? {
        guard case .array(let offered)? = extraParams?[KBSProtocol.supportedHashAlgorithmsKey] else { return .sha384 }
        let names = Set(offered.compactMap { $0.stringValue?.lowercased() })
        for preferred in [BindingHash.sha384, .sha512, .sha256] where names.contains(preferred.rawValue) { return preferred }
        return nil
    }
}
