import CofferCore
import Glibc

/// A failed system call: which call, on what, and the errno the kernel returned.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible, CofferErrorConvertible {
    public var call: String
    public var subject: String
    public var errno: Int32

    public init(_ call: String, _ subject: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        "\(call) \(subject): \(String(cString: strerror(errno))) (errno \(errno))"
    }

    public var cofferError: CofferError { CofferError(.system, description) }
}

/// Retries `body` while it fails with EINTR, returning its result or throwing `SystemError`.
@inline(__always)
func retryingInterrupts<T: BinaryInteger>(_ call: String, _ subject: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        if Glibc.errno != EINTR { throw SystemError(call, subject) }
    }
}
