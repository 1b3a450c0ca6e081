/*
 * coffer-pal-host: the init of an enclave container. It loads an enclave runtime's PAL (Enclave
 * Runtime PAL API, Inclavare Containers rune/libenclave/internal/runtime/pal; docs/pal-api.md),
 * drives it by the version it reports, and serves coffer-runtime on a control socket:
 *
 *   coffer-pal-host --pal PATH --control DIR [--args A] [--log-level L] [--wait-start] -- PROGRAM ARG...
 *
 * Lifecycle as rune maps it: load + pal_get_version + pal_init at create (the result is written to
 * DIR/init-result), pal_create_process + pal_exec for the program at start and for each exec,
 * pal_kill for signals the container receives, pal_destroy when the program ends or at delete.
 */
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
#include <unistd.h>

#include "CCofferOCIRuntime.h"
#include "pal_host.h"

extern char **environ;

const char *control_directory;
pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t state_changed = PTHREAD_COND_INITIALIZER;
int started;
static int signal_pipe[2];

/* Writes DIR/init-result atomically: coffer-runtime create waits for it. */
static void write_result(const char *text)
{
	char path[4096], temporary[4096];
	snprintf(path, sizeof path, "%s/init-result", control_directory);
	snprintf(temporary, sizeof temporary, "%s/.init-result", control_directory);
	int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	ssize_t ignored = write(fd, text, strlen(text));
	(void)ignored;
	close(fd);
	rename(temporary, path);
}

void fail(int status, const char *format, ...)
{
	char message[2048];
	va_list list;
	va_start(list, format);
	vsnprintf(message, sizeof message, format, list);
	va_end(list);
	fprintf(stderr, "coffer-pal-host: %s\n", message);
	char line[2100];
	snprintf(line, sizeof line, "error: %s\n", message);
	if (control_directory)
		write_result(line);
	_exit(status);
}

/* Signals the container's init receives go to the enclave: pal_kill(-1, sig) (all its
 * processes, spec_v2.md section 5). A v1 PAL has no pal_kill: the host destroys and exits.
 * The handler only writes the signal number to a pipe; a thread does the rest. */
static void on_signal(int sig)
{
	unsigned char byte = (unsigned char)sig;
	ssize_t ignored = write(signal_pipe[1], &byte, 1);
	(void)ignored;
}

static void *forward_signals(void *unused)
{
	(void)unused;
	unsigned char byte;
	while (read(signal_pipe[0], &byte, 1) == 1) {
		pthread_mutex_lock(&state_lock);
		int running = started;
		pthread_mutex_unlock(&state_lock);
		if (!running) {
			/* Created, never started: the signal ends the container, as it would end a
			 * process runc had not yet started. */
			destroy_once();
			_exit(128 + byte);
		}
		if (pal.version >= 2) {
			int result = pal.kill(-1, byte);
			if (result < 0)
				fprintf(stderr, "coffer-pal-host: pal_kill(-1, %d) failed with %d\n", byte, result);
		} else {
			destroy_once();
			_exit(128 + byte);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *pal_path = NULL, *args = "", *log_level = "info";
	int wait_start = 0, i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--wait-start") == 0) {
			wait_start = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--pal") == 0) {
			pal_path = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--control") == 0) {
			control_directory = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--args") == 0) {
			args = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--log-level") == 0) {
			log_level = argv[++i];
		} else {
			fail(125, "unknown argument %s", argv[i]);
		}
	}
	if (!pal_path || !control_directory || i >= argc)
		fail(125, "usage: coffer-pal-host --pal PATH --control DIR [--args A] [--log-level L] [--wait-start] -- PROGRAM ARG...");

	load(pal_path, args, log_level);

	if (pipe2(signal_pipe, O_CLOEXEC) < 0)
		fail(125, "pipe: %s", strerror(errno));
	/* Handlers, not a blocked mask: handlers reset at execve, a blocked mask would be inherited
	 * by every program a PAL forks and make them deaf to the very signals forwarded here. */
	int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct sigaction action = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	for (size_t s = 0; s < sizeof forwarded / sizeof forwarded[0]; s++)
		sigaction(forwarded[s], &action, NULL);
	pthread_t thread;
	pthread_create(&thread, NULL, forward_signals, NULL);
	int listener = listen_on_control();
	pthread_create(&thread, NULL, accept_requests, (void *)(intptr_t)listener);
	write_result("ok\n");

	pthread_mutex_lock(&state_lock);
	if (!wait_start)
		started = 1;
	while (!started)
		pthread_cond_wait(&state_changed, &state_lock);
	pthread_mutex_unlock(&state_lock);

	int exit_value = 0;
	int result = run_program(argv + i, environ, 0, 1, 2, &exit_value);
	destroy_once();
	if (result < 0) {
		fprintf(stderr, "coffer-pal-host: the enclave runtime could not run %s: %d (%s)\n",
			argv[i], result, pal_error_text(result));
		return 127;
	}
	return exit_value & 0xff;
}
