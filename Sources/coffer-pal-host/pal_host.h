#ifndef COFFER_PAL_HOST_H
#define COFFER_PAL_HOST_H
/* The PAL host's parts: PAL.c drives the enclave runtime, ControlServer.c serves coffer-runtime,
 * main.c ties them to the container's life (arguments, signals, init-result). */
#include <pthread.h>
#include "pal_api.h"

/* The loaded PAL: the version it reports and its entry points (PAL.c). */
struct pal {
	int version;
	int (*get_version)(void);
	int (*init)(const void *attr);
	int (*create_process)(pal_create_process_args *);
	int (*exec_v2)(pal_exec_args *);
	int (*exec_v1)(char *path, char *argv[], pal_stdio_fds *stdio, int *exit_code);
	int (*kill)(int pid, int sig);
	int (*destroy)(void);
	int (*get_local_report)(void *targetinfo, int targetinfo_len, void *report, int *report_len);
	/* Occlum documents pal_exec's exit value as a wait(2) status (occlum_pal_api.h); rune's
	 * other PALs return the exit code itself (spec_v2.md "the exit value of the process"). */
	int exit_is_wait_status;
};
extern struct pal pal;

/* main.c: the control directory; `started` (under state_lock, signalled by state_changed) turns
 * 1 when the program may run. */
extern const char *control_directory;
extern pthread_mutex_t state_lock;
extern pthread_cond_t state_changed;
extern int started;

/* Reports `format` on stderr and in DIR/init-result, then exits with `status`. */
void fail(int status, const char *format, ...) __attribute__((format(printf, 2, 3), noreturn));

void load(const char *path, const char *args, const char *log_level);
int run_program(char **argv, char **env, int in, int out, int err, int *exit_value);
void destroy_once(void);
/* What a PAL's negative result means: -errno as the specification says, or -1 with errno set as
 * Occlum does. Call right after the PAL returned, on the same thread. */
const char *pal_error_text(int result);

int listen_on_control(void);
void *accept_requests(void *listener);

#endif
