#if canImport(Glibc)
import Glibc
#endif
import CCofferOCIRuntime

/// The SGX device nodes the host has, which an enclave container gets (rune's list for
/// intelSgx, rune/libenclave/check.go: the in-kernel driver's /dev/sgx_enclave and
/// /dev/sgx_provision, the SDK's /dev/sgx/* links to them, and the out-of-tree /dev/isgx).
enum SGXDevices {
    static let paths = ["/dev/sgx_enclave", "/dev/sgx_provision", "/dev/sgx/enclave", "/dev/sgx/provision", "/dev/isgx"]

    static func present() -> [EnclaveBundle.Device] {
        paths.compactMap { path -> EnclaveBundle.Device? in
            var status = stat()
            // stat follows the /dev/sgx/* links: the container gets a node with the target's numbers.
            guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFCHR else { return nil }
            return EnclaveBundle.Device(
                path: path, major: UInt64(coffer_oci_major(UInt(status.st_rdev))), minor: UInt64(coffer_oci_minor(UInt(status.st_rdev))),
                mode: status.st_mode)
        }
    }
}
