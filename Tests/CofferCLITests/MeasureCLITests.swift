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
        var snp: SNP?
    }

    struct SNP: Decodable {
        var measurement: String
        var commandLine: String?
        var kernelFile: String?
        var initrdFile: String?
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
        // tdx: the init-data field only; the rest is said to be missing, never guessed.
        let tdx = try measure(home.path, ["--tee", "tdx", "argc:1"])
        #expect(tdx.field.claim == "mr_config_id" && tdx.field.value == String(built.id.dropFirst(7)) + String(repeating: "0", count: 32))
        let refused = try coffer(home.path, ["measure", "--tee", "tdx", "--format", "policy", "argc:1"])
        #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains("not predictable"), "\(refused.stderr)")
        // snp without the firmware: refused, naming it (Debian packages no AmdSev OVMF).
        let noFirmware = try coffer(home.path, ["measure", "--tee", "snp", "argc:1"])
        #expect(noFirmware.status != 0 && noFirmware.stderr.contains("--tee snp needs --firmware"), "\(noFirmware.stderr)")
    }

    /// `--tee snp` on Coffer's real kernel, initramfs and command line for an image this test
    /// builds: the MEASUREMENT equals what PyPI's sev-snp-measure computes from the same files,
    /// for several vCPU counts and types; `--format policy` carries it and HOST_DATA.
    @Test func theSNPMeasurementIsSevSnpMeasures() throws {
        let home = try RunCLITests().storeWithKernel()
        let built = try image(home.path)
        let ovmf = try Vectors.path("snp-measure/ovmf_AmdSev_suffix.bin")
        var seen: Set<String> = []
        for (vcpus, type) in [(1, "EPYC-v4"), (2, "EPYC-Milan"), (4, "EPYC-Genoa"), (2, "EPYC-v4")] {
            let prediction = try measure(home.path, ["--tee", "snp", "--firmware", ovmf, "--vcpus", "\(vcpus)", "--vcpu-type", type, "argc:1"])
            let snp = try #require(prediction.snp)
            #expect(snp.commandLine == prediction.commandLine && prediction.claims["measurement"] == snp.measurement)
            #expect(prediction.field.claim == "host_data" && prediction.field.value == String(built.id.dropFirst(7)) && prediction.unpredicted.isEmpty)
            // The command line of the launch `run --tee snp` makes (KVM, coffer.tee=snp), not the plain one.
            let words = prediction.commandLine.split(separator: " ")
            #expect(words.contains("coffer.tee=snp") && !words.contains("cryptomgr.notests") && !words.contains { $0.hasPrefix("tsc_early_khz=") }, "\(prediction.commandLine)")
            let reference = try SEVSNPMeasure.measurement([
                "--vcpus", "\(vcpus)", "--vcpu-type", type, "--ovmf", ovmf, "--kernel", try #require(snp.kernelFile),
                "--initrd", try #require(snp.initrdFile), "--append", prediction.commandLine])
            #expect(snp.measurement == reference, "\(vcpus) x \(type)")
            seen.insert(snp.measurement)
        }
        #expect(seen.count == 4)
        // The same image with another command: another command line, another measurement.
        let other = try measure(home.path, ["--tee", "snp", "--firmware", ovmf, "argc:1", "x"])
        #expect(try #require(other.snp).measurement != (try measure(home.path, ["--tee", "snp", "--firmware", ovmf, "argc:1"])).snp?.measurement)

        let policy = try coffer(home.path, ["measure", "--tee", "snp", "--firmware", ovmf, "--format", "policy", "argc:1"])
        #expect(policy.status == 0, "\(policy.stderr)")
        let prediction = try measure(home.path, ["--tee", "snp", "--firmware", ovmf, "argc:1"])
        #expect(policy.stdout.contains(#""measurement":["\#(prediction.claims["measurement"] ?? "-")"]"#), "\(policy.stdout)")
        #expect(policy.stdout.contains(#""host_data":["\#(prediction.field.value)"]"#), "\(policy.stdout)")

        // Bad inputs: a firmware without SNP metadata, an unknown vCPU type, --initrd with an image.
        let work = try TemporaryDirectory("coffer-measure-snp")
        let plain = try work.write("plain.fd", String(repeating: "\u{0}", count: 8192))
        let noMetadata = try coffer(home.path, ["measure", "--tee", "snp", "--firmware", plain, "argc:1"])
        #expect(noMetadata.status != 0 && noMetadata.stderr.contains("no OVMF GUIDed footer table"), "\(noMetadata.stderr)")
        let badType = try coffer(home.path, ["measure", "--tee", "snp", "--firmware", ovmf, "--vcpu-type", "EPYC-Z", "argc:1"])
        #expect(badType.status != 0 && badType.stderr.contains("unknown vCPU type"), "\(badType.stderr)")
        let initrd = try coffer(home.path, ["measure", "--tee", "snp", "--firmware", ovmf, "--initrd", plain, "argc:1"])
        #expect(initrd.status != 0 && initrd.stderr.contains("--initrd and --append are for"), "\(initrd.stderr)")
    }

    /// Without IMAGE: the explicit inputs, the vectors' rows.
    @Test func explicitSNPInputsGiveTheVectorsRows() throws {
        let home = try TemporaryDirectory("coffer-measure-explicit")
        let ovmf = try Vectors.path("snp-measure/ovmf_AmdSev_suffix.bin")
        let base = ["measure", "--tee", "snp", "--firmware", ovmf, "--kernel", "/dev/null", "--initrd", "/dev/null", "--guest-features", "0x21"]
        let json = try coffer(home.path, base + ["--append", "console=ttyS0 loglevel=7", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let decoded = try JSONDecoder().decode(SNP.self, from: Data(json.stdout.utf8))
        #expect(decoded.measurement == "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977")
        let text = try coffer(home.path, base + ["--append", ""])
        #expect(text.status == 0 && text.stdout.contains(
            "snp measurement     329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198\n"), "\(text.stdout)")
        let noKernel = try coffer(home.path, ["measure", "--tee", "snp", "--firmware", ovmf, "--append", "x"])
        #expect(noKernel.status != 0 && noKernel.stderr.contains("need --kernel"), "\(noKernel.stderr)")
        let sample = try coffer(home.path, ["measure", "--firmware", ovmf])
        #expect(sample.status != 0 && sample.stderr.contains("give an IMAGE"), "\(sample.stderr)")
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
