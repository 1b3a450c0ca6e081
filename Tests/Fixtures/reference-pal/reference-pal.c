/*
 * Coffer's reference enclave runtime: a PAL (Enclave Runtime PAL API, Inclavare Containers rune,
 * rune/libenclave/internal/runtime/pal/spec_v2.md and api_v3_linux.go) that runs the requested
 * program as an ordinary child process. There is no SGX and no enclave here: it is "simulation"
 * in the SGX SDK's sense, says so in its log, and its local report is a marked fake.
 *
 * Build variants (tests compile each with gcc -shared -fPIC):
 *   -DPAL_VERSION=1|2|3   what pal_get_version returns (default 3); 1 exports the v1 pal_exec.
 *   -DOMIT_PAL_EXEC       leaves out pal_exec (a PAL missing a required symbol).
 *   -DINIT_FAILS          pal_init returns -EINVAL (an enclave that cannot be built).
 *   -DOCCLUM_SHAPED       shaped like Occlum's PAL (occlum/occlum src/pal/src/pal_api.c): the
 *                         functions also exported as occlum_pal_*, and pal_exec's exit value a
 *                         wait(2) status, as occlum_pal_api.h documents it.
 * The structures are declared here from the specification, as any enclave runtime does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>

#ifndef PAL_VERSION
#define PAL_VERSION 3
#endif

typedef struct { const char *args; const char *log_level; } pal_attr_v1_t;
typedef struct { pal_attr_v1_t attr_v1; int fd; uint64_t addr; } pal_attr_v3_t;
typedef struct { int stdin, stdout, stderr; } pal_stdio_fds;
typedef struct { char *path; char **argv; char **env; pal_stdio_fds *stdio; int *pid; } pal_create_process_args;
typedef struct { int pid; int *exit_value; } pal_exec_args;

#define MAX_PROCESSES 64

/* A created process waits on `go` until pal_exec releases it. */
static struct { pid_t pid; int go; } processes[MAX_PROCESSES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;

static void say(const char *format, const char *detail)
{
	fprintf(stderr, "reference-pal: ");
	fprintf(stderr, format, detail);
	fputc('\n', stderr);
}

int pal_get_version(void)
{
	return PAL_VERSION;
}

int pal_init(const void *attr)
{
	const pal_attr_v1_t *v1 = attr;
#ifdef INIT_FAILS
	say("pal_init: refusing to build the enclave (built with INIT_FAILS)%s", "");
	return -EINVAL;
#endif
	if (!attr)
		return -EINVAL;
	say("SGX simulation: no SGX hardware is used and no enclave is built; args=%s", v1->args ? v1->args : "");
	if (v1->log_level && strcmp(v1->log_level, "debug") == 0)
		say("log level %s", v1->log_level);
#if PAL_VERSION >= 3
	{
		const pal_attr_v3_t *v3 = attr;
		char detail[64];
		snprintf(detail, sizeof detail, "fd=%d addr=%llu", v3->fd, (unsigned long long)v3->addr);
		say("v3 attributes: %s", detail);
	}
#endif
	initialized = 1;
	return 0;
}

/* Forks the program, stopped on a pipe until pal_exec; returns its slot or a negative errno. */
static int spawn(const char *path, char **argv, char **env, const pal_stdio_fds *stdio)
{
	int go[2];
	if (!initialized || !path || !argv || !stdio)
		return -EINVAL;
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	pthread_mutex_lock(&lock);
	int slot = -1;
	for (int i = 0; i < MAX_PROCESSES; i++)
		if (processes[i].pid == 0) { slot = i; break; }
	if (slot < 0) {
		pthread_mutex_unlock(&lock);
		close(go[0]); close(go[1]);
		return -EAGAIN;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char byte;
		close(go[1]);
		/* The host may have blocked or caught signals: the program starts with the defaults. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		dup2(stdio->stdin, 0);
		dup2(stdio->stdout, 1);
		dup2(stdio->stderr, 2);
		execve(path, argv, env ? env : (char *[]){ NULL });
		fprintf(stderr, "reference-pal: cannot execute %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(go[0]);
	if (pid < 0) {
		pthread_mutex_unlock(&lock);
		close(go[1]);
		return -EAGAIN;
	}
	processes[slot].pid = pid;
	processes[slot].go = go[1];
	pthread_mutex_unlock(&lock);
	return slot;
}

/* Releases the process in `slot` and waits for it; the exit value is as a shell reports it. */
static __attribute__((unused)) int run(int slot, int *exit_value)
{
	int status = 0;
	pthread_mutex_lock(&lock);
	pid_t pid = processes[slot].pid;
	int go = processes[slot].go;
	pthread_mutex_unlock(&lock);
	if (write(go, "x", 1) != 1) {
		close(go);
		return -EIO;
	}
	close(go);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) return -errno;
	pthread_mutex_lock(&lock);
	processes[slot].pid = 0;
	pthread_mutex_unlock(&lock);
#ifdef OCCLUM_SHAPED
	if (exit_value)
		*exit_value = status;
#else
	if (exit_value)
		*exit_value = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
#endif
	return 0;
}

#if PAL_VERSION == 1
int pal_exec(char *path, char *argv[], pal_stdio_fds *stdio, int *exit_code)
{
	int slot = spawn(path, argv, NULL, stdio);
	return slot < 0 ? slot : run(slot, exit_code);
}
#else
int pal_create_process(pal_create_process_args *args)
{
	if (!args || !args->pid)
		return -EINVAL;
	int slot = spawn(args->path, args->argv, args->env, args->stdio);
	if (slot < 0)
		return slot;
	*args->pid = slot + 1; /* the PAL's own process numbers, as a library OS has */
	return 0;
}

#ifndef OMIT_PAL_EXEC
int pal_exec(pal_exec_args *args)
{
	if (!args || args->pid < 1 || args->pid > MAX_PROCESSES)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	int known = processes[args->pid - 1].pid != 0;
	pthread_mutex_unlock(&lock);
	return known ? run(args->pid - 1, args->exit_value) : -ESRCH;
}
#endif

int pal_kill(int pid, int sig)
{
	int sent = 0;
	char detail[32];
	snprintf(detail, sizeof detail, "%d to %d", sig, pid);
	say("pal_kill: signal %s", detail);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_PROCESSES; i++) {
		if (processes[i].pid == 0 || (pid > 0 && pid != i + 1))
			continue;
		kill(processes[i].pid, sig);
		sent++;
	}
	pthread_mutex_unlock(&lock);
	return sent || pid == -1 ? 0 : -ESRCH;
}
#endif

#if PAL_VERSION >= 3
/* SGX REPORT is 432 bytes (Intel SDM vol. 3D, 38.15 "REPORT"). This one is fake and says so. */
int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	static const char marker[] = "COFFER REFERENCE PAL: SIMULATED REPORT, NOT FROM SGX";
	(void)targetinfo; (void)targetinfo_len;
	if (!report || !report_len || *report_len < 432)
		return -EINVAL;
	memset(report, 0, 432);
	memcpy(report, marker, sizeof marker);
	*report_len = 432;
	say("pal_get_local_report: %s", "returning a simulated report (no SGX)");
	return 0;
}
#endif

int pal_destroy(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_PROCESSES; i++) {
		if (processes[i].pid == 0)
			continue;
		kill(processes[i].pid, SIGKILL);
		waitpid(processes[i].pid, NULL, 0);
		close(processes[i].go);
		processes[i].pid = 0;
	}
	pthread_mutex_unlock(&lock);
	initialized = 0;
	say("pal_destroy: %s", "simulated enclave destroyed");
	return 0;
}

#ifdef OCCLUM_SHAPED
int occlum_pal_get_version(void) __attribute__((alias("pal_get_version")));
int occlum_pal_init(const void *attr) __attribute__((alias("pal_init")));
int occlum_pal_create_process(pal_create_process_args *args) __attribute__((alias("pal_create_process")));
int occlum_pal_exec(pal_exec_args *args) __attribute__((alias("pal_exec")));
int occlum_pal_kill(int pid, int sig) __attribute__((alias("pal_kill")));
int occlum_pal_destroy(void) __attribute__((alias("pal_destroy")));
#endif
