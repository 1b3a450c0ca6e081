import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP GET, waited for: the collateral fetch is a short sequence of requests made by a
/// command-line tool, so blocking the calling thread is the simple, correct shape.
struct HTTPGet {
    var body: [UInt8]
    var response: HTTPURLResponse

    /// Written by the session's delegate queue before `done` is signalled and read only after
    /// `wait()` returns, so it is never accessed concurrently.
    private final class Transfer: @unchecked Sendable {
        var result: Result<(Data, HTTPURLResponse), any Error>?
        let done = DispatchSemaphore(value: 0)
    }

    init(_ url: URL, session: URLSession, timeout: TimeInterval) throws(PCCSError) {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "GET"
        let transfer = Transfer()
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                transfer.result = .failure(error)
            } else if let response = response as? HTTPURLResponse {
                transfer.result = .success((data ?? Data(), response))
            }
            transfer.done.signal()
        }
        task.resume()
        transfer.done.wait()
        switch transfer.result {
        case .success(let (data, response))?:
            guard response.statusCode == 200 else {
                let text = String(decoding: data.prefix(200), as: UTF8.self)
                throw .http(url: url.absoluteString, detail: "status \(response.statusCode)\(text.isEmpty ? "" : ": \(text)")")
            }
            body = Array(data)
            self.response = response
        case .failure(let error)?:
            throw .http(url: url.absoluteString, detail: error.localizedDescription)
        case nil:
            throw .http(url: url.absoluteString, detail: "no HTTP response")
        }
    }

    /// A header's value, URL-decoded (PCS sends issuer chains as URL-encoded PEM).
    func decodedHeader(_ names: String...) throws(PCCSError) -> String {
        for name in names {
            if let value = response.value(forHTTPHeaderField: name) {
                guard let decoded = value.removingPercentEncoding else {
                    throw .response(url: response.url?.absoluteString ?? "", detail: "header \(name) is not URL-encoded text")
                }
                return decoded
            }
        }
        throw .response(url: response.url?.absoluteString ?? "", detail: "no \(names.joined(separator: " or ")) header")
    }
}
