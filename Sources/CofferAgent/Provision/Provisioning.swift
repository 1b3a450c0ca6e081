import CofferKBSProtocol
import CofferSys
import CofferWire

/// What the agent does between the workload binding check and the workload's start when the
/// measured init-data names secrets or volumes (decision 0022): attest to the broker, fetch and
/// verify every resource, then place the secrets and open the volumes.
///
/// Security: no workload starts half-provisioned. Every resource is fetched and verified before
/// the first secret is written, so a hostile relay that spoils any answer leaves no file behind;
/// any later failure still stops the launch (thrown, the VM powers off).
struct Provisioning {
    let configuration: LaunchConfiguration
    let document: InitDataDocument

    /// Reads the launch configuration from a document whose digest already checked; nil when it
    /// carries none (CoCo entries only).
    init?(document bytes: [UInt8]) throws(AgentFailure) {
        let document: InitDataDocument
        do { document = try InitDataDocument(parsing: bytes) } catch {
            throw AgentFailure(.initData, "the measured init-data does not parse: \(error)")
        }
        let configuration: LaunchConfiguration?
        do { configuration = try LaunchConfiguration(initData: document) } catch {
            throw AgentFailure(.initData, "the measured init-data's coffer.json: \(error)")
        }
        guard let configuration else { return nil }
        do { try configuration.validate() } catch { throw AgentFailure(.initData, "the measured init-data's coffer.json: \(error)") }
        self.configuration = configuration
        self.document = document
    }

    /// `pin`, when the image pins a broker (`coffer.kbs=`), is checked against the init-data's
    /// broker before anything is sent.
    func run(
        channel: inout some BrokerChannel, pin: BrokerPin? = nil, evidence: any EvidenceSource, secrets: any SecretStore, volumes: any VolumeAttacher,
        owner: (uid: UInt32, gid: UInt32), console: Console
    ) throws(AgentFailure) {
        guard configuration.needsBroker, let broker = configuration.broker else { return }
        console.log("attesting to the broker at \(broker.url) for \(configuration.secrets.count) secrets and \(configuration.volumes.count) volumes")
        let begun = bootNanoseconds()
        var session = try BrokerSession(broker: broker, pin: pin)
        try session.attest(initData: document, evidence: evidence, channel: &channel)
        let attested = bootNanoseconds()
        var released: [[UInt8]] = []
        defer { for index in released.indices { wipe(&released[index]) } }
        for uri in configuration.secrets.map(\.resource) + configuration.volumes.map(\.key) {
            let resource: ResourceURI
            do { resource = try ResourceURI(parsing: uri) } catch { throw AgentFailure(.initData, "\(error)") }
            released.append(try session.resource(resource, channel: &channel))
        }
        let fetched = bootNanoseconds()
        if !configuration.secrets.isEmpty {
            try secrets.prepare()
            for (index, secret) in configuration.secrets.enumerated() {
                try secrets.place(released[index], at: secret.path, owner: owner)
            }
            console.log("placed \(configuration.secrets.count) secrets under \(LaunchConfiguration.secretsDirectory)")
        }
        for (index, volume) in configuration.volumes.enumerated() {
            try volumes.attach(volume, index: index, key: released[configuration.secrets.count + index], owner: owner)
            console.log("opened volume \(volume.name) at \(volume.path)")
        }
        let done = bootNanoseconds()
        func ms(_ from: UInt64, _ to: UInt64) -> UInt64 { (to &- from) / 1_000_000 }
        console.log(
            "provisioned in \(ms(begun, done)) ms: auth and attest \(ms(begun, attested)) ms, \(released.count) resources \(ms(attested, fetched)) ms, "
                + "secrets and volumes \(ms(fetched, done)) ms")
    }
}
