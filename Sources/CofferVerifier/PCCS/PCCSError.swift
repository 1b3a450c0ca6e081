/// Why collateral could not be fetched from a PCCS or Intel PCS.
public enum PCCSError: Error, Sendable, CustomStringConvertible {
    /// The quote cannot say what to fetch (not an Intel quote, no PCK certificate chain).
    case quote(String)
    /// The base URL is unusable (not http(s), or plain http without permission).
    case url(String)
    /// The request failed or the server answered other than 200.
    case http(url: String, detail: String)
    /// A response was not what the PCS v4 API returns (missing header, bad JSON, bad CRL).
    case response(url: String, detail: String)

    public var description: String {
        switch self {
        case .quote(let detail): "cannot tell which collateral the quote needs: \(detail)"
        case .url(let detail): "PCCS URL: \(detail)"
        case .http(let url, let detail): "GET \(url): \(detail)"
        case .response(let url, let detail): "GET \(url): unexpected response: \(detail)"
        }
    }
}
