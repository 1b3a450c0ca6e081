import CofferOCIRuntime

#if canImport(Glibc)
import Glibc
#endif

// coffer-runtime: an OCI runtime (runc's command line) that runs SGX enclave containers through
// an enclave runtime's PAL and hands every other container to runc (docs/oci-runtime.md).
exit(CofferRuntime(arguments: Array(CommandLine.arguments.dropFirst())).main())
