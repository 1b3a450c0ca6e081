import CofferKBSProtocol
import CofferWire

/// PLACEHOLDER until the lead wires the volume helper's `GuestVolumeAttacher` (Volume/) as
/// `HostRequestLoop`'s default: a launch with encrypted volumes stops, with reason `.volume`,
/// after the broker released the key and before the workload starts.
struct UnwiredVolumeAttacher: VolumeAttacher {
    func attach(_ volume: LaunchConfiguration.Volume, index: Int, key: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure) {
        throw AgentFailure(.volume, "encrypted volumes are not supported by this agent build (volume \(volume.name) at \(volume.path))")
    }
}
