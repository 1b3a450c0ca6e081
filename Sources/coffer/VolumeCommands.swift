import ArgumentParser
import CofferCore
import CofferImage
import CofferKBSProtocol
import CofferVMM
import Foundation

/// `coffer volume`: encrypted persistent volumes (decision 0023). The host keeps the disk; the key
/// is a broker resource released only to the workloads its policy admits.
struct VolumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Create, list, inspect and remove encrypted persistent volumes.",
        subcommands: [Create.self, List.self, Inspect.self, Remove.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an empty volume disk for a guest to format on first use with the key from the broker.",
            discussion: """
                The key is a broker resource of 96 random bytes (32 for dm-integrity's HMAC-SHA-256, then 64 for \
                dm-crypt's aes-xts-plain64), e.g. `head -c 96 /dev/urandom > key && coffer kbs admin put-resource \
                --url URL --key ADMIN.pem --resource default/volume/data --file key`. The host never sees it. Attach it with `coffer run --kbs URL --kbs-key PEM -v NAME:/PATH` \
                (one running VM at a time); the guest opens it after attestation.
                """)
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The volume's name (lower-case letters, digits, '.', '_', '-').") var name: String
        @Option(help: "Size, e.g. 256M or 10G (binary units, at least 32M).") var size: String
        @Option(help: "The broker resource holding the volume's key, kbs:///REPO/TYPE/TAG.") var key: String

        func run() throws {
            try reportingErrors {
                let bytes = try VolumeStore.parseSize(size)
                do { _ = try ResourceURI(parsing: key) } catch {
                    throw CofferError(.invalidInput, "--key: \(error); give a broker resource as kbs:///REPO/TYPE/TAG")
                }
                let record = try volumes(storeOptions).create(name: name, size: bytes, key: key)
                print(record.name)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes.")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() throws {
            try reportingErrors {
                let store = volumes(storeOptions)
                let rows = store.list().map { Row(record: $0, state: store.state($0.name).rawValue) }
                switch format {
                case .json: try printJSON(rows)
                case .table, .text:
                    var table = [["NAME", "SIZE", "KEY", "STATE"]]
                    for row in rows { table.append([row.name, ImagesCommand.humanSize(Int64(row.size)), row.key, row.state]) }
                    print(TextTable.render(table))
                }
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a volume as JSON.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument var name: String

        func run() throws {
            try reportingErrors {
                let store = volumes(storeOptions)
                let record = try store.record(name)
                try printJSON(Row(record: record, state: store.state(name).rawValue, disk: store.disk(name)))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a volume and its data.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument var name: String

        func run() throws {
            try reportingErrors {
                try volumes(storeOptions).remove(name)
                print(name)
            }
        }
    }

    struct Row: Encodable {
        var name: String
        var size: UInt64
        var key: String
        var format: String
        var created: Double
        /// unformatted, formatted, foreign or missing: what the disk's first bytes say.
        var state: String
        var disk: String?

        init(record: VolumeRecord, state: String, disk: String? = nil) {
            (name, size, key, format, created) = (record.name, record.size, record.key, record.format, record.created)
            self.state = state
            self.disk = disk
        }
    }

    static func volumes(_ options: StoreOptions) -> VolumeStore {
        VolumeStore(home: options.home ?? ImageStore.defaultHome())
    }
}

private func volumes(_ options: StoreOptions) -> VolumeStore { VolumeCommand.volumes(options) }
