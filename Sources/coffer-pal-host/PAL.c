/* Loading and driving the enclave runtime's PAL by the version it reports (docs/pal-api.md). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "CCofferOCIRuntime.h"
#include "pal_host.h"

struct pal pal;
static int destroyed;

/* pal_destroy once, whoever gets here first (program end, delete, v1 signal). */
void destroy_once(void)
{
	pthread_mutex_lock(&state_lock);
	if (!destroyed) {
		destroyed = 1;
		int result = pal.destroy();
		if (result < 0)
			fprintf(stderr, "coffer-pal-host: pal_destroy failed with %d\n", result);
	}
	pthread_mutex_unlock(&state_lock);
}

void load(const char *path, const char *args, const char *log_level)
{
	/* Messages name the library by its file name: `path` is where it is mounted in the
	 * container, which is not the host path the user gave. */
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!library)
		fail(125, "cannot load the enclave runtime PAL: %s", dlerror());
	/* Version 1 PALs may lack pal_get_version (spec_v2.md, section 1): rune assumes 1. */
	pal.get_version = (int (*)(void))dlsym(library, "pal_get_version");
	pal.version = pal.get_version ? pal.get_version() : 1;
	if (pal.version < 1 || pal.version > 3)
		fail(125, "the enclave runtime PAL %s reports PAL API version %d; Coffer supports versions 1 to 3",
		     name, pal.version);
	pal.init = (int (*)(const void *))dlsym(library, "pal_init");
	pal.destroy = (int (*)(void))dlsym(library, "pal_destroy");
	void *exec = dlsym(library, "pal_exec");
	const char *required[] = { "pal_init", "pal_exec", "pal_destroy", "pal_create_process", "pal_kill" };
	int count = pal.version == 1 ? 3 : 5;
	for (int i = 0; i < count; i++)
		if (!dlsym(library, required[i]))
			fail(125, "the enclave runtime PAL %s (PAL API version %d) does not export %s",
			     name, pal.version, required[i]);
	if (pal.version == 1) {
		pal.exec_v1 = (int (*)(char *, char **, pal_stdio_fds *, int *))exec;
	} else {
		pal.exec_v2 = (int (*)(pal_exec_args *))exec;
		pal.create_process = (int (*)(pal_create_process_args *))dlsym(library, "pal_create_process");
		pal.kill = (int (*)(int, int))dlsym(library, "pal_kill");
	}
	pal.get_local_report = (int (*)(void *, int, void *, int *))dlsym(library, "pal_get_local_report");

	pal.exit_is_wait_status = dlsym(library, "occlum_pal_exec") != NULL;

	pal_attr_v3_t attr = { .attr_v1 = { .args = args, .log_level = log_level }, .fd = -1, .addr = 0 };
	/* Version 3 reads fd/addr (an enclave handed over by an enclave manager; none here);
	 * earlier versions read only the leading pal_attr_v1_t, which is the same address. */
	errno = 0;
	int result = pal.init(&attr);
	if (result < 0)
		fail(125, "pal_init of the enclave runtime PAL %s failed with %d (%s)", name, result, pal_error_text(result));
}

/* As rune does (exec.LookPath before Exec): a bare name found on PATH in the container becomes
 * its full path; otherwise it is passed as is (Occlum resolves paths in its own file system). */
static const char *resolve(const char *name, char **env, char *buffer, size_t capacity)
{
	if (strchr(name, '/'))
		return name;
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	while (*path) {
		size_t length = strcspn(path, ":");
		snprintf(buffer, capacity, "%.*s/%s", (int)length, path, name);
		if (length > 0 && access(buffer, X_OK) == 0)
			return buffer;
		path += length;
		if (*path == ':')
			path++;
	}
	return name;
}

/* Runs one program through the PAL; returns 0 and its exit value, or the PAL's negative error. */
int run_program(char **argv, char **env, int in, int out, int err, int *exit_value)
{
	char buffer[4096];
	char *path = (char *)resolve(argv[0], env, buffer, sizeof buffer);
	pal_stdio_fds stdio = { in, out, err };
	errno = 0;
	if (pal.version == 1)
		return pal.exec_v1(path, argv, &stdio, exit_value);
	int pid = 0;
	pal_create_process_args create = { .path = path, .argv = argv, .env = env, .stdio = &stdio, .pid = &pid };
	int result = pal.create_process(&create);
	if (result < 0)
		return result;
	pal_exec_args exec = { .pid = pid, .exit_value = exit_value };
	result = pal.exec_v2(&exec);
	if (result == 0 && pal.exit_is_wait_status) {
		/* As Occlum's own `occlum run` reads it (src/run/main.c). */
		int status = *exit_value;
		*exit_value = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	return result;
}

const char *pal_error_text(int result)
{
	return strerror(result == -1 && errno != 0 ? errno : -result);
}
