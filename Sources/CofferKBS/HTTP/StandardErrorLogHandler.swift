import Foundation
import Logging

/// The server's log handler: lines on standard error, like swift-log's `StreamLogHandler`, but the
/// metadata is formatted when a line is written rather than every time it is set. Hummingbird sets
/// a request id on the logger of every request, and `StreamLogHandler` re-rendered the whole
/// metadata dictionary then (about 1 % of the server's CPU), though at `.warning` nothing is logged.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let all = metadata.merging(extra ?? [:]) { _, new in new }
        let rendered = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(Date()) \(level) \(label):\(rendered) \(message)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
