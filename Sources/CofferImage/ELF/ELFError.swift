import CofferCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why an ELF file could not be read or its shared-library closure resolved. Each case names the
/// file (and, for a missing library, who needs it) so the message is actionable as it is.
public enum ELFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not start with the ELF magic "\x7fELF".
    case notELF(path: String)
    /// An ELF file, but not ELF64 little-endian x86-64 (the only kind Coffer's guests run).
    case notX8664(path: String, found: String)
    /// A header, table or string points past the end of the file.
    case truncated(path: String, detail: String)
    /// A structure is inconsistent (a string without its NUL, an address no segment maps...).
    case malformed(path: String, reason: String)
    /// No search directory holds a usable `name` for `neededBy`.
    case missingLibrary(name: String, neededBy: String)
    /// The file cannot be opened or read.
    case unreadable(path: String, errno: Int32)
    /// Symbolic links inside the root loop or nest too deeply.
    case symlinkLoop(path: String)

    public var description: String {
        switch self {
        case .notELF(let path): "\(path): not an ELF file"
        case .notX8664(let path, let found): "\(path): not an x86-64 ELF64 little-endian program (\(found))"
        case .truncated(let path, let detail): "\(path): truncated ELF file: \(detail)"
        case .malformed(let path, let reason): "\(path): malformed ELF file: \(reason)"
        case .missingLibrary(let name, let neededBy): "\(neededBy): needs shared library \(name), which was not found"
        case .unreadable(let path, let errno): "\(path): cannot read: \(String(cString: strerror(errno)))"
        case .symlinkLoop(let path): "\(path): too many levels of symbolic links"
        }
    }
}

extension ELFError {
    /// The edge form: a bad or missing input file is the user's to fix.
    public var cofferError: CofferError {
        switch self {
        case .notELF, .notX8664, .truncated, .malformed, .symlinkLoop: CofferError(.invalidInput, description, cause: self)
        case .missingLibrary: CofferError(.notFound, description, cause: self)
        case .unreadable(_, let code): CofferError(code == ENOENT ? .notFound : .system, description, cause: self)
        }
    }
}

extension ELFError: CofferErrorConvertible {}
