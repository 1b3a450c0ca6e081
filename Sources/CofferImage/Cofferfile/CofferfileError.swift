import CofferCore

/// A Cofferfile that cannot be used: which file, which line when known, and what is wrong.
public struct CofferfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        "Cofferfile \(path)\(line.map { ":\($0)" } ?? ""): \(message)"
    }

    public var cofferError: CofferError { CofferError(.invalidInput, description) }
}

extension CofferfileError: CofferErrorConvertible {}
