import CofferKBSProtocol
import Testing

/// The launch configuration both sides rely on: its canonical form (it feeds the init-data digest,
/// hence the measurement), and the configurations neither side may act on.
@Suite struct LaunchConfigurationTests {
    static let image = "sha256:" + String(repeating: "ab", count: 32)
    static let identity = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"
    static let sample = LaunchConfiguration(
        image: image, broker: .init(url: "https://127.0.0.1:8443", identity: identity),
        secrets: [.init(resource: "kbs:///default/app/api-key", path: "/run/secrets/api-key")],
        volumes: [.init(name: "data", key: "kbs:///default/volume/data", path: "/data")])

    /// Golden: a change here changes every init-data digest, hence every reference value.
    @Test func canonicalForm() throws {
        #expect(Self.sample.serialized == """
            {"broker":{"identity":"-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----\\n","url":"https://127.0.0.1:8443"},\
            "image":"sha256:\(String(repeating: "ab", count: 32))",\
            "secrets":[{"path":"/run/secrets/api-key","resource":"kbs:///default/app/api-key"}],"version":1,\
            "volumes":[{"key":"kbs:///default/volume/data","name":"data","path":"/data"}]}
            """)
        #expect(try LaunchConfiguration(parsing: Self.sample.serialized) == Self.sample)
        let bare = LaunchConfiguration(image: Self.image)
        #expect(bare.serialized == "{\"image\":\"\(Self.image)\",\"secrets\":[],\"version\":1,\"volumes\":[]}")
        #expect(try LaunchConfiguration(parsing: bare.serialized) == bare)
    }

    static func with(_ change: (inout LaunchConfiguration) -> Void) -> LaunchConfiguration {
        var configuration = sample
        change(&configuration)
        return configuration
    }

    static let invalid: [(LaunchConfiguration, String)] = [
        (with { $0.image = "sha256:abc" }, "not an image id"),
        (with { $0.broker = nil }, "need a broker"),
        (with { $0.broker?.url = "file:///etc/passwd" }, "not http(s)"),
        (with { $0.broker?.identity = "key" }, "not a PEM public key"),
        (with { $0.secrets[0].path = "/etc/shadow" }, "not under /run/secrets/"),
        (with { $0.secrets[0].path = "/run/secrets/../../etc/shadow" }, "absolute and plain"),
        (with { $0.secrets[0].path = "/run/secrets/a//b" }, "absolute and plain"),
        (with { $0.secrets[0].path = "/run/secrets" }, "not under /run/secrets/"),
        (with { $0.secrets.append($0.secrets[0]) }, "two secrets go to"),
        (with { $0.secrets[0].resource = "kbs://host/a/b/c" }, "resource"),
        (with { $0.secrets[0].resource = "kbs:///a/b" }, "resource"),
        (with { $0.secrets[0].resource = "kbs:///a/../c" }, "resource"),
        (with { $0.volumes[0].path = "/" }, "absolute and plain"),
        (with { $0.volumes[0].path = "/proc/x" }, "inside /proc"),
        (with { $0.volumes[0].path = "/run/secrets/v" }, "inside /run"),
        (with { $0.volumes.append(.init(name: "data", key: "kbs:///a/b/c", path: "/other")) }, "named twice"),
        (with { $0.volumes.append(.init(name: "inner", key: "kbs:///a/b/c", path: "/data/inner")) }, "mounts nest"),
        (with { $0.volumes = (0..<9).map { .init(name: "v\($0)", key: "kbs:///a/b/c", path: "/v\($0)") } }, "at most 8"),
    ]

    @Test(arguments: 0..<invalid.count)
    func refusesWhatNeitherSideMayActOn(_ number: Int) {
        let (configuration, says) = Self.invalid[number]
        #expect {
            try configuration.validate()
        } throws: { error in
            "\(error)".contains(says)
        }
    }

    @Test func refusesUnknownMembersAndWrongTypes() {
        let image = "\"image\":\"\(Self.image)\""
        for text in ["[]", "{\(image)}", "{\"version\":2,\(image)}", "{\"version\":1,\(image),\"extra\":1}",
                     "{\"version\":1,\(image),\"secrets\":[{\"resource\":\"kbs:///a/b/c\",\"path\":\"/run/secrets/x\",\"mode\":\"0777\"}]}",
                     "{\"version\":1,\(image),\"secrets\":{}}", "{\"version\":1,\"image\":1}",
                     "{\"version\":1,\(image),\(image)}"] {
            #expect(throws: LaunchConfigurationError.self, "\(text)") { try LaunchConfiguration(parsing: text) }
        }
    }
}
