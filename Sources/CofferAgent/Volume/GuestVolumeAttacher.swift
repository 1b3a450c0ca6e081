import CofferKBSProtocol
import CofferWire

/// `VolumeAttacher` in the guest: the disk with serial `coffer-vol<index>`, opened (or on first use
/// formatted) by `VolumeOpener` over the real system, and mounted at the volume's path.
///
/// Every failure is one `AgentFailure(.volume, …)` for the workload (`id: .main`), whose message
/// names the volume and what was wrong. The key is never part of it: errors carry the volume's
/// name, the device names and the kernel's errno, never a table's parameters.
struct GuestVolumeAttacher: VolumeAttacher {
    var system: any VolumeSystem = GuestVolumeSystem()
    var disks = VirtioDisks()

    /// The virtio-blk serial the launcher gives volume `index`'s disk.
    static func serial(index: Int) -> String { "coffer-vol\(index)" }

    func attach(_ volume: LaunchConfiguration.Volume, index: Int, key: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure) {
        let name = String(volume.name.prefix(64))
        let volumeKey: EncryptedVolume.Key
        do { volumeKey = try EncryptedVolume.Key(key) } catch { throw AgentFailure(.volume, "volume \(name): \(error)", id: .main) }
        let disk: String
        do { disk = try disks.node(serial: Self.serial(index: index)) } catch {
            throw AgentFailure(.volume, "volume \(name): no disk attached for it (\(error))", id: .main)
        }
        do {
            try VolumeOpener(system: system).open(name: name, index: index, disk: disk, key: volumeKey, path: volume.path, owner: owner)
        } catch {
            throw AgentFailure(.volume, "\(error)", id: .main)
        }
    }
}
