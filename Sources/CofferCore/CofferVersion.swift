/// Coffer's version, printed by `coffer --version` (pre-release until the first tagged release).
public enum CofferVersion {
    public static let string = "0.1.0-dev"
}
