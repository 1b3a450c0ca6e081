import CofferKBSProtocol
import CofferVerifier

extension InitDataBinding {
    /// The claim a bound init-data's Coffer configuration adds: `image_id` = `sha256:` + 64
    /// lower-case hex, the image the launch names (decision 0030). No verifier produces a claim
    /// of this name; only `KeyBroker.appraise` sets it, after `check` passed.
    public static let imageClaim = "image_id"

    /// The image id of init-data that has already bound (`check` returned nil): the `image` of its
    /// TOML `[data] "coffer.json"`, or nil when it carries none (json init-data, CoCo entries only).
    /// A configuration that does not parse or validate is a 400 naming why.
    ///
    /// Security: called only after the digest checked, so the image id is the one the launch's
    /// measured init-data field holds; unbound init-data never contributes one (it is denied
    /// first). Like `host_data` before it, the field is what the launcher set: the image id is
    /// as trustworthy as the attestation policy that pins the launch measurement covering it.
    public static func imageID(_ initData: InitData) throws(KBSFailure) -> String? {
        guard initData.format == "toml" else { return nil }
        let document: InitDataDocument
        do { document = try InitDataDocument(parsing: Array(initData.body.utf8)) } catch { throw .badRequest("init-data.body: \(error)") }
        let configuration: LaunchConfiguration?
        do { configuration = try LaunchConfiguration(initData: document) } catch {
            throw .badRequest("init-data [data] \"\(LaunchConfiguration.initDataKey)\": \(error)")
        }
        return configuration?.image
    }
}

extension Claims {
    /// The `image_id` claim (`InitDataBinding.imageClaim`), present when bound init-data named the image.
    public var imageID: String? { measurements[InitDataBinding.imageClaim] }
}
