// libFuzzer's driver entry point (compiler-rt, FuzzerInterface.h), declared for Swift. Defined
// only when linking with -sanitize=fuzzer; referenced only in that build.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
