import ArgumentParser
import CofferCore
import CofferImage
import Foundation

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images in the store.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "table or json") var format: OutputFormat = .table

    func run() throws {
        try reportingErrors {
            let store = storeOptions.store
            let images = try store.allIDs().map { id throws(CofferError) in try store.load(id: id) }
            let rows = images.flatMap { image in
                (image.tags.isEmpty ? [nil] : image.tags.map(Optional.some)).map { tag in
                    Row(repository: tag?.name ?? "<none>", tag: tag?.tag ?? "<none>", id: image.id,
                        rootHash: image.manifest.rootfs.verity.rootHash,
                        size: image.manifest.rootfs.size + image.manifest.rootfs.verity.hashSize,
                        signed: FileSystem.exists(image.signaturePath))
                }
            }.sorted { ($0.repository, $0.tag, $0.id) < ($1.repository, $1.tag, $1.id) }
            switch format {
            case .json: try printJSON(rows)
            case .table, .text:
                var table = [["REPOSITORY", "TAG", "IMAGE ID", "ROOT HASH", "SIZE", "SIGNED"]]
                for row in rows {
                    table.append([row.repository, row.tag, String(row.id.dropFirst(7).prefix(12)),
                        String(row.rootHash.prefix(16)), Self.humanSize(row.size), row.signed ? "yes" : "no"])
                }
                print(TextTable.render(table))
            }
        }
    }

    struct Row: Encodable {
        var repository: String
        var tag: String
        var id: String
        var rootHash: String
        var size: Int64
        var signed: Bool
    }

    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes)B" : "\((value * 10).rounded() / 10)\(units[unit])"
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, text, json
}

/// Left-aligned columns separated by three spaces, as `docker images` prints.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "   ")
        }.joined(separator: "\n")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show an image's manifest and store facts as JSON.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "NAME[:TAG], an image id, or an id prefix.") var image: String

    func run() throws {
        try reportingErrors {
            let stored = try storeOptions.store.resolve(image)
            let signature = FileSystem.exists(stored.signaturePath)
                ? try? JSONDecoder().decode(ManifestSignature.self, from: FileSystem.read(stored.signaturePath)) : nil
            try printJSON(Inspection(id: stored.id, tags: stored.tags.map(\.description), directory: stored.directory,
                signedBy: signature?.keyId, manifest: stored.manifest))
        }
    }

    struct Inspection: Encodable {
        var id: String
        var tags: [String]
        var directory: String
        var signedBy: String?
        var manifest: ImageManifest
    }
}

struct RemoveImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove a tag, and the image when no tag is left (an id removes the image).")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "NAME[:TAG] or image id.") var images: [String]

    func run() throws {
        try reportingErrors {
            for image in images {
                let (untagged, deleted) = try storeOptions.store.remove(image)
                for tag in untagged { print("Untagged: \(tag)") }
                if let deleted { print("Deleted: \(deleted)") }
            }
        }
    }
}
