import ArgumentParser
import CofferCore
import CofferImage
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an image's signature and, by default, that its files match its manifest.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "NAME[:TAG] or image id.") var image: String
    @Option(help: "The builder public key (PEM) to trust; default: the store's own builder key, if any.")
    var key: String?
    @Flag(help: "Check only the manifest and signature, not the root file system and verity tree.")
    var signatureOnly = false

    func run() throws {
        try reportingErrors {
            let store = storeOptions.store
            let stored = try store.resolve(image)
            var trusted: BuilderPublicKey?
            if let key {
                trusted = try BuilderPublicKey(pem: String(decoding: try FileSystem.read(key), as: UTF8.self), source: key)
            } else if let own = try KeyCommand.loadKey(explicit: nil, store: store) {
                trusted = own.publicKey
            }
            let result = try ImageVerification.verify(stored, trusted: trusted, checkContents: !signatureOnly)
            print("\(result.id): verified")
            print("  signed by \(result.signer)\(result.signerTrusted ? " (trusted key)" : " (embedded key only: pass --key to check who signed)")")
            print("  contents  \(result.contentsChecked ? "rootfs digest, verity tree and root hash match the manifest" : "not checked (--signature-only)")")
        }
    }
}
