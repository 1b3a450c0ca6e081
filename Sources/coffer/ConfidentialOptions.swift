import ArgumentParser
import CofferCore
import CofferKBSProtocol
import CofferVMM
import CofferWire
import Crypto
import Foundation

/// What a confidential launch provisions (decision 0022, 0031): the broker, the secrets it places
/// under /run/secrets and the encrypted volumes it opens. Shared by `run` and `tcb`, so that `tcb`
/// lists the init-data a `run` with the same flags measures.
struct ConfidentialOptions: ParsableArguments {
    @Option(name: .customLong("kbs"), help: ArgumentHelp("The key broker's base URL; the host relays the guest's requests to it.", valueName: "url"))
    var brokerURL: String?
    @Option(name: .customLong("kbs-key"), help: ArgumentHelp(
        "The broker's ES256 signing public key (PEM, its home's kbs/signing.pub): the identity the guest trusts. Required with --kbs.",
        valueName: "file"))
    var brokerKey: String?
    @Option(name: .customLong("kbs-cert"), help: ArgumentHelp(
        "Trust only this TLS certificate (PEM) for the broker, as `coffer kbs client --cacert`: the host's trust, not the guest's.",
        valueName: "file"))
    var brokerCertificate: String?
    @Option(name: .customLong("secret"), help: ArgumentHelp(
        "A broker resource placed in a file before the program starts (repeatable; default path /run/secrets/TAG).",
        valueName: "kbs:///REPO/TYPE/TAG[:/run/secrets/NAME]"))
    var secrets: [String] = []
    @Option(name: [.customShort("v"), .customLong("volume")], help: ArgumentHelp(
        "Attach an encrypted volume from `coffer volume create`, opened by the guest with its key from the broker (repeatable).",
        valueName: "NAME:/PATH"))
    var volumes: [String] = []

    /// Whether any option asks for a confidential launch.
    var isEmpty: Bool { brokerURL == nil && brokerKey == nil && brokerCertificate == nil && secrets.isEmpty && volumes.isEmpty }

    /// The measured part of the launch and what the host keeps beside it: the configuration with
    /// its init-data, the volumes' disks in configuration order, and the relay's settings.
    struct Launch {
        var configuration: LaunchConfiguration
        var document: InitDataDocument
        /// The disk file of `configuration.volumes[n]`, attached as serial `coffer-vol<n>`.
        var volumeDisks: [String]
        var brokerURL: String?
        /// PEM text of --kbs-cert.
        var brokerCertificate: String?

        var measured: MeasuredInitData {
            // sha384 and its 48 bytes are the document's own, so this cannot fail.
            (try? MeasuredInitData(algorithm: document.algorithm.rawValue, digest: document.digest))!
        }
    }

    /// The launch of `image` these options describe, checked (nil when there are none). Every
    /// error names the flag and the value. `pinnedKey` is the broker key the image pins (its
    /// manifest's `kbsKey`, decision 0037): it is the identity when `--kbs-key` is not given, and
    /// `--kbs-key` naming another key is refused (the guest would refuse it too).
    func launch(image: String, pinnedKey: String? = nil, volumeStore: VolumeStore) throws(CofferError) -> Launch? {
        if isEmpty { return nil }
        var broker: LaunchConfiguration.Broker?
        switch (brokerURL, brokerKey) {
        case (nil, nil):
            if brokerCertificate != nil { throw CofferError(.invalidInput, "--kbs-cert needs --kbs") }
        case (nil, let key?):
            throw CofferError(.invalidInput, "--kbs-key \(key) needs --kbs URL")
        case (let url?, let key):
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), URL(string: url)?.host?.isEmpty == false else {
                throw CofferError(.invalidInput, "--kbs \(url): give the broker's base URL, http(s)://HOST[:PORT]")
            }
            let identity: String
            switch (key, pinnedKey) {
            case (nil, nil):
                throw CofferError(.invalidInput, "--kbs \(url) needs --kbs-key: the broker's signing public key (its home's kbs/signing.pub), which the guest trusts (or build the image with --kbs-key)")
            case (nil, let pinned?):
                identity = pinned
            case (let key?, let pinned):
                identity = try Self.signingKey(key)
                if let pinned, pinned != identity {
                    throw CofferError(
                        .denied, "--kbs-key \(key) is not the broker key the image pins (\(Self.describe(pinned))); the guest would refuse it: omit --kbs-key to use the pinned one")
                }
            }
            broker = .init(url: url, identity: identity)
        }
        let certificate = try brokerCertificate.map { path throws(CofferError) -> String in
            let text = try readPEM(path, "--kbs-cert")
            guard text.contains("-----BEGIN CERTIFICATE-----") else {
                throw CofferError(.invalidInput, "--kbs-cert \(path): not a PEM certificate (-----BEGIN CERTIFICATE-----)")
            }
            return text
        }
        if broker == nil, let first = secrets.first.map({ "--secret \($0)" }) ?? volumes.first.map({ "-v \($0)" }) {
            throw CofferError(.invalidInput, "\(first) needs --kbs and --kbs-key: secrets and volume keys come from the broker")
        }
        /// Each item is checked alone first, so that its error names its flag and value; then all
        /// of them together (two secrets to one path, nested mounts).
        func check(_ flag: String, _ text: String, _ configuration: LaunchConfiguration) throws(CofferError) {
            do { try configuration.validate() } catch { throw CofferError(.invalidInput, "\(flag) \(text): \(error)") }
        }
        var parsedSecrets: [LaunchConfiguration.Secret] = []
        for text in secrets {
            let secret = try Self.secret(text)
            try check("--secret", text, LaunchConfiguration(image: image, broker: broker, secrets: [secret]))
            parsedSecrets.append(secret)
        }
        var parsedVolumes: [LaunchConfiguration.Volume] = []
        var disks: [String] = []
        for text in volumes {
            let (name, path) = try Self.volume(text)
            let record: VolumeRecord
            do { record = try volumeStore.record(name) } catch { throw CofferError(.invalidInput, "-v \(text): \(error)") }
            let volume = LaunchConfiguration.Volume(name: name, key: record.key, path: path)
            try check("-v", text, LaunchConfiguration(image: image, broker: broker, volumes: [volume]))
            parsedVolumes.append(volume)
            disks.append(volumeStore.disk(name))
        }
        let configuration = LaunchConfiguration(image: image, broker: broker, secrets: parsedSecrets, volumes: parsedVolumes)
        do { try configuration.validate() } catch { throw CofferError(.invalidInput, "--secret/-v: \(error)") }
        let document: InitDataDocument
        do { document = try configuration.initDataDocument() } catch {
            throw CofferError(.invalidInput, "the launch's init-data cannot be written: \(error)", cause: error)
        }
        return Launch(configuration: configuration, document: document, volumeDisks: disks, brokerURL: broker?.url, brokerCertificate: certificate)
    }

    /// A broker key as `coffer inspect` and the agent name it: `sha256:` of its SubjectPublicKeyInfo.
    static func describe(_ pem: String) -> String { pin(pem)?.description ?? "an unreadable key" }

    /// The pin of a P-256 public key in PEM (nil if it is not one): what `coffer.kbs=` carries.
    static func pin(_ pem: String) -> BrokerPin? {
        (try? P256.Signing.PublicKey(pemRepresentation: pem)).map { BrokerPin(subjectPublicKeyInfo: Array($0.derRepresentation)) }
    }

    /// The PEM of an ES256 (P-256) public key, re-encoded so that one key gives one init-data.
    static func signingKey(_ path: String) throws(CofferError) -> String {
        let text = try readPEM(path, "--kbs-key")
        guard let key = try? P256.Signing.PublicKey(pemRepresentation: text) else {
            throw CofferError(.invalidInput, "--kbs-key \(path): not a P-256 public key in PEM (the broker's kbs/signing.pub)")
        }
        return key.pemRepresentation
    }

    /// `kbs:///REPO/TYPE/TAG[:/run/secrets/NAME]`; the path defaults to /run/secrets/TAG.
    static func secret(_ text: String) throws(CofferError) -> LaunchConfiguration.Secret {
        // A resource URI has no ':' after its scheme, so the first one after it starts the path.
        let scheme = ResourceURI.scheme
        var uri = text, path: String?
        if text.hasPrefix(scheme), let colon = text.dropFirst(scheme.count).firstIndex(of: ":") {
            uri = String(text[..<colon])
            path = String(text[text.index(after: colon)...])
        }
        let resource: ResourceURI
        do { resource = try ResourceURI(parsing: uri) } catch {
            throw CofferError(.invalidInput, "--secret \(text): \(error); give kbs:///REPO/TYPE/TAG[:/run/secrets/NAME]")
        }
        let target = path ?? "\(LaunchConfiguration.secretsDirectory)/\(resource.tag)"
        guard target.hasPrefix(LaunchConfiguration.secretsDirectory + "/") else {
            throw CofferError(.invalidInput, "--secret \(text): the path \(target) is not under \(LaunchConfiguration.secretsDirectory)/")
        }
        return .init(resource: resource.uri, path: target)
    }

    /// `NAME:/PATH`.
    static func volume(_ text: String) throws(CofferError) -> (name: String, path: String) {
        guard let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...].hasPrefix("/") else {
            throw CofferError(.invalidInput, "-v \(text): give NAME:/PATH, a volume from `coffer volume create` and where the program sees it")
        }
        let name = String(text[..<colon])
        do { try VolumeStore.validate(name: name) } catch { throw CofferError(.invalidInput, "-v \(text): \(error)") }
        return (name, String(text[text.index(after: colon)...]))
    }
}
