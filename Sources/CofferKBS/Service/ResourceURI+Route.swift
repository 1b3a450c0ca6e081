import CofferKBSProtocol

extension ResourceURI {
    /// A resource route's three segments, refused as a bad request when malformed.
    init(segments repository: String, _ type: String, _ tag: String) throws(KBSFailure) {
        do { try self.init(repository, type, tag) } catch { throw .badRequest(error.description) }
    }
}
