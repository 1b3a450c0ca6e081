import CofferKBSProtocol
import CofferWire

/// How provisioning opens one encrypted volume once the broker released its key: find the disk
/// the launcher attached for it (virtio-blk serial `coffer-vol<index>`), open it with
/// device-mapper (formatting it on first use), and mount it at the volume's path for the workload's
/// user. The real one is `GuestVolumeAttacher` (Volume/); tests use a recording fake.
protocol VolumeAttacher {
    /// `key` is the resource's plaintext (96 bytes for a Coffer volume, decision 0023); the
    /// attacher checks its length and never logs it.
    func attach(_ volume: LaunchConfiguration.Volume, index: Int, key: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure)
}
