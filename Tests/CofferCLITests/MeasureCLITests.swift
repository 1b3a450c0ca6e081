import CofferTestSupport
import Foundation
import Testing

/// `coffer measure` through the real executable on a real image: its launch measurement is the
/// one `coffer run --verbose` reports for the VM it really boots, and its `--format policy` is
/// accepted by a real `coffer kbs serve` and admits exactly that launch's sample evidence.
@Suite(.serialized) struct MeasureCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")

    /// `coffer measure --format json`, decoded independently of the command's own types.
    struct Prediction: Decodable {
        struct Field: Decodable { var claim: String; var value: String }
        var tee: String
        var image: String
        var launchMeasurement: String
        var commandLine: String
        var initData: String?
        var initDataDocument: String?
        var field: Field
        var claims: [String: String]
        var resources: [String]
        var unpredicted: [String]
    }

    func measure(_ home: String, _ arguments: [String]) throws -> Prediction {
        let result = try coffer(home, ["measure", "--format", "json"] + arguments)
        guard result.status == 0 else { throw TestFailure("coffer measure \(arguments) failed: \(result.stderr)") }
        return try JSONDecoder().decode(Prediction.self, from: Data(result.stdout.utf8))
    }

    func image(_ home: String) throws -> BuildOutput {
        let work = try TemporaryDirectory("coffer-measure")
        let program = try compile("int main(int argc, char **argv) { return argc; }\n", to: "argc", flags: ["-static"], in: work)
        return try build(home, ["--binary", "\(program):/argc", "--entrypoint", "/argc", "-t", "argc:1"])
    }

    @Test func theSampleMeasurementIsWhatRunBoots() throws {
        let home = try RunCLITests().storeWithKernel()
        let built = try image(home.path)
        for command in [[], ["x", "y"]] {
            let prediction = try measure(home.path, ["--tee", "sample", "argc:1"] + command)
            #expect(prediction.image == built.id && prediction.initData == nil && prediction.unpredicted.isEmpty)
            // Without init-data, sample host_data is the image id (what `attest-vm` signs).
            #expect(prediction.field.claim == "host_data" && prediction.field.value == String(built.id.dropFirst(7)))
            #expect(prediction.claims["measurement"] == String(prediction.launchMeasurement.dropFirst(7)) + String(repeating: "0", count: 32))
            let run = try coffer(home.path, ["run", "--verbose", "argc:1"] + command)
            #expect(run.status == Int32(1 + command.count), "\(run.stderr)")
            #expect(run.stderr.contains("coffer: launch measurement \(prediction.launchMeasurement)\n"), "\(run.stderr)")
            #expect(run.stderr.contains("coffer:   cmdline   \(prediction.commandLine)\n"), "\(run.stderr)")
            let text = try coffer(home.path, ["measure", "argc:1"] + command)
            #expect(text.status == 0 && text.stdout.contains("launch measurement  \(prediction.launchMeasurement)\n"), "\(text.stdout)")
        }
        // snp and tdx: the init-data field only; the rest is said to be missing, never guessed.
        let snp = try measure(home.path, ["--tee", "snp", "argc:1"])
        #expect(snp.field.claim == "host_data" && snp.claims["measurement"] == nil && snp.unpredicted.first?.contains("confidential-launch") == true)
        let tdx = try measure(home.path, ["--tee", "tdx", "argc:1"])
        #expect(tdx.field.claim == "mr_config_id" && tdx.field.value == String(built.id.dropFirst(7)) + String(repeating: "0", count: 32))
        let refused = try coffer(home.path, ["measure", "--tee", "snp", "--format", "policy", "argc:1"])
        #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains("not predictable"), "\(refused.stderr)")
    }

    /// The policy of a confidential launch (`--kbs --secret`): set on a real broker with
    /// `coffer kbs admin set-policy`, it admits sample evidence of exactly that launch presenting
    /// its init-data, and refuses another measurement.
    @Test func thePolicyIsAcceptedByARealBrokerAndAdmitsExactlyThatLaunch() async throws {
        let home = try RunCLITests().storeWithKernel()
        _ = try image(home.path)
        let keys = try TemporaryDirectory("coffer-measure-keys")
        let broker = try LoopbackBroker(coffer: coffer, home: home.path)
        let signing = broker.identity
        let options = ["--kbs", broker.url, "--kbs-key", signing, "--secret", "kbs:///default/key/api:/run/secrets/api", "argc:1"]
        let prediction = try measure(home.path, options)
        let document = try #require(prediction.initDataDocument)
        #expect(prediction.commandLine.contains("coffer.initdata=\(try #require(prediction.initData))"))
        #expect(prediction.claims["image_id"] == prediction.image && prediction.resources == ["default/key/api"])

        let policy = try coffer(home.path, ["measure", "--format", "policy"] + options)
        #expect(policy.status == 0, "\(policy.stderr)")
        let file = try keys.write("policy.json", policy.stdout)
        let set = try broker.adminCommand(["set-policy", "--file", file])
        #expect(set.status == 0 && set.stdout == "attestation policy set\nresource policy set\n", "\(set.stderr)")
        let value = try keys.write("api", "the-api-key", mode: 0o600)
        #expect(try broker.adminCommand(["put-resource", "--resource", "default/key/api", "--file", value]).status == 0)

        let initData = try keys.write("init-data.toml", document)
        func attest(measurement: String) throws -> CommandResult {
            try coffer(home.path, ["kbs", "client", "attest-and-get", "--url", broker.url, "--cacert", broker.certificate,
                                   "--launcher-key", broker.launcherKey, "--measurement", measurement, "--host-data", prediction.field.value,
                                   "--init-data", initData, "--resource", "default/key/api", "--kbs-key", signing])
        }
        let measurement = try #require(prediction.claims["measurement"])
        let admitted = try attest(measurement: measurement)
        #expect(admitted.status == 0 && admitted.stdout == "the-api-key", "\(admitted.stderr)")
        let other = try attest(measurement: (measurement.hasPrefix("00") ? "01" : "00") + measurement.dropFirst(2))
        #expect(other.status != 0 && other.stdout.isEmpty && other.stderr.contains("measurement"), "\(other.stderr)")

        // A combined file is checked whole before anything is sent: a bad resource part leaves
        // the attestation policy as it was (the admitted launch still attests).
        let half = try keys.write("half.json", #"{"attestation":{"tees":{"sample":{"reference_values":{"measurement":["00"]}}}},"#
            + #""resource":{"rules":[{"resources":["*"],"image_ids":["abcd"]}]}}"#)
        let refused = try broker.adminCommand(["set-policy", "--file", half])
        #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains(#"resource policy refused: rules[0].image_ids: "abcd""#),
                "\(refused.stderr)")
        #expect(try attest(measurement: measurement).stdout == "the-api-key")
    }
}
