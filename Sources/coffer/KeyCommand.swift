import ArgumentParser
import CofferCore
import CofferImage
import Foundation

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Manage the builder's signing key.", subcommands: [Generate.self, Show.self])

    static func keyPath(_ store: ImageStore) -> String { "\(store.keysDirectory)/builder.key" }
    static func publicPath(_ store: ImageStore) -> String { "\(store.keysDirectory)/builder.pub" }

    /// The key given with --key, else the store's key if one was generated, else none.
    static func loadKey(explicit: String?, store: ImageStore) throws(CofferError) -> BuilderKey? {
        let path = explicit ?? keyPath(store)
        guard explicit != nil || FileSystem.exists(path) else { return nil }
        return try BuilderKey(pem: String(decoding: try FileSystem.read(path), as: UTF8.self), source: path)
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the builder key (Ed25519 by default).")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "ed25519 or p256") var type: BuilderKey.Algorithm = .ed25519
        @Flag(help: "Replace an existing key.") var force = false

        func run() throws {
            try reportingErrors {
                let store = storeOptions.store
                let path = KeyCommand.keyPath(store)
                guard force || !FileSystem.exists(path) else {
                    throw CofferError(.alreadyExists, "\(path) exists; use --force to replace it")
                }
                try FileSystem.makeDirectory(store.keysDirectory, mode: 0o700)
                let key = BuilderKey.generate(type)
                try AtomicFile.write(Data(key.privatePEM.utf8), to: path, mode: 0o600)
                try AtomicFile.write(Data(key.publicKey.pem.utf8), to: KeyCommand.publicPath(store))
                print(key.publicKey.keyId)
                FileHandle.standardError.write(Data("private key \(path)\npublic key  \(KeyCommand.publicPath(store))\n".utf8))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the builder's public key (PEM) and its id.")
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            try reportingErrors {
                guard let key = try KeyCommand.loadKey(explicit: nil, store: storeOptions.store) else {
                    throw CofferError(.notFound, "no builder key: run `coffer key generate`")
                }
                print(key.publicKey.pem)
                print("key id: \(key.publicKey.keyId)")
            }
        }
    }
}

extension BuilderKey.Algorithm: ExpressibleByArgument {}
