/*
 * The Enclave Runtime PAL API's structures, as rune passes them (Inclavare Containers,
 * rune/libenclave/internal/runtime/pal/skeleton/liberpal-skeleton.h and the cgo preambles of
 * api_v1_linux.go, api_v2_linux.go, api_v3_linux.go). Natural alignment, not packed: spec_v2.md
 * writes __attribute__((packed)), but rune, the caller every PAL is built against, does not pack
 * (docs/pal-api.md explains the one place where it matters, pal_exec_args).
 */
#ifndef COFFER_PAL_API_H
#define COFFER_PAL_API_H
#include <stdint.h>

/* pal_init's argument for versions 1 and 2 (spec_v1.md "struct pal_attr_t"). */
typedef struct {
	const char *args;      /* ENCLAVE_RUNTIME_ARGS, commas turned into spaces */
	const char *log_level; /* ENCLAVE_RUNTIME_LOGLEVEL: trace debug info warning error fatal panic off */
} pal_attr_v1_t;

/* pal_init's argument for version 3: the v1 fields first, then a pre-created enclave. */
typedef struct {
	pal_attr_v1_t attr_v1;
	int fd;        /* enclave device fd from an enclave manager, or -1 */
	uint64_t addr; /* its mapping address, or 0 */
} pal_attr_v3_t;

typedef struct {
	int stdin, stdout, stderr;
} pal_stdio_fds;

/* pal_create_process (v2+). argv and env end with NULL. */
typedef struct {
	char *path;
	char **argv;
	char **env;
	pal_stdio_fds *stdio;
	int *pid; /* out: the process number inside the enclave runtime */
} pal_create_process_args;

/* pal_exec (v2+): runs the created process to its end. */
typedef struct {
	int pid;
	int *exit_value;
} pal_exec_args;

#endif
