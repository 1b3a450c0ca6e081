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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "CCofferOCI.h"
#include "pal_api.h"

extern char **environ;

static struct {
	int version;
	int (*get_version)(void);
	int (*init)(const void *attr);
	int (*create_process)(pal_create_process_args *);
	int (*exec_v2)(pal_exec_args *);
	int (*exec_v1)(char *path, char *argv[], pal_stdio_fds *stdio, int *exit_code);
	int (*kill)(int pid, int sig);
	int (*destroy)(void);
	int (*get_local_report)(void *targetinfo, int targetinfo_len, void *report, int *report_len);
} pal;

static const char *control_directory;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_changed = PTHREAD_COND_INITIALIZER;
static int started, destroyed;
static int signal_pipe[2];

static void fail(int status, const char *format, ...) __attribute__((format(printf, 2, 3), noreturn));

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

#include <stdarg.h>
static void fail(int status, const char *format, ...)
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

/* pal_destroy once, whoever gets here first (program end, delete, v1 signal). */
static void destroy_once(void)
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

static void load(const char *path, const char *args, const char *log_level)
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

	pal_attr_v3_t attr = { .attr_v1 = { .args = args, .log_level = log_level }, .fd = -1, .addr = 0 };
	/* Version 3 reads fd/addr (an enclave handed over by an enclave manager; none here);
	 * earlier versions read only the leading pal_attr_v1_t, which is the same address. */
	int result = pal.init(&attr);
	if (result < 0)
		fail(125, "pal_init of the enclave runtime PAL %s failed with %d (%s)", name, result, strerror(-result));
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
static int run_program(char **argv, char **env, int in, int out, int err, int *exit_value)
{
	char buffer[4096];
	char *path = (char *)resolve(argv[0], env, buffer, sizeof buffer);
	pal_stdio_fds stdio = { in, out, err };
	if (pal.version == 1)
		return pal.exec_v1(path, argv, &stdio, exit_value);
	int pid = 0;
	pal_create_process_args create = { .path = path, .argv = argv, .env = env, .stdio = &stdio, .pid = &pid };
	int result = pal.create_process(&create);
	if (result < 0)
		return result;
	pal_exec_args exec = { .pid = pid, .exit_value = exit_value };
	return pal.exec_v2(&exec);
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

static void reply(int connection, const char *text)
{
	size_t length = strlen(text);
	while (length > 0) {
		ssize_t n = send(connection, text, length, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		text += n;
		length -= (size_t)n;
	}
}

struct request {
	int connection;
	char *payload;
	size_t length;
	int fds[3];
};

/* Splits the payload into its NUL-terminated strings (the last must be terminated). */
static char **strings_of(char *payload, size_t length, size_t *count)
{
	*count = 0;
	if (length == 0 || payload[length - 1] != 0)
		return NULL;
	for (size_t i = 0; i < length; i++)
		if (payload[i] == 0)
			(*count)++;
	char **list = calloc(*count + 1, sizeof(char *));
	if (!list)
		return NULL;
	char *p = payload;
	for (size_t i = 0; i < *count; i++) {
		list[i] = p;
		p += strlen(p) + 1;
	}
	return list;
}

/* exec: "exec", argc, argv..., env... with stdin, stdout, stderr attached. */
static void serve_exec(struct request *r, char **fields, size_t count)
{
	char line[256];
	long argc = count > 1 ? strtol(fields[1], NULL, 10) : 0;
	if (argc < 1 || (size_t)argc > count - 2 || r->fds[0] < 0 || r->fds[1] < 0 || r->fds[2] < 0) {
		reply(r->connection, "error: malformed exec request (need argv and three descriptors)\n");
		return;
	}
	char **argv = calloc((size_t)argc + 1, sizeof(char *));
	char **env = calloc(count - 2 - (size_t)argc + 1, sizeof(char *));
	if (!argv || !env) {
		reply(r->connection, "error: out of memory\n");
		free(argv);
		free(env);
		return;
	}
	memcpy(argv, fields + 2, (size_t)argc * sizeof(char *));
	memcpy(env, fields + 2 + argc, (count - 2 - (size_t)argc) * sizeof(char *));
	int exit_value = 0;
	int result = run_program(argv, env, r->fds[0], r->fds[1], r->fds[2], &exit_value);
	if (result < 0)
		snprintf(line, sizeof line, "error: the enclave runtime could not run %s: %d (%s)\n",
			 argv[0], result, strerror(-result));
	else
		snprintf(line, sizeof line, "exit %d\n", exit_value);
	reply(r->connection, line);
	free(argv);
	free(env);
}

static void serve_report(struct request *r)
{
	if (pal.version < 3 || !pal.get_local_report) {
		reply(r->connection, "error: the enclave runtime PAL is not version 3 and has no pal_get_local_report\n");
		return;
	}
	unsigned char report[1024];
	int length = sizeof report;
	int result = pal.get_local_report(NULL, 0, report, &length);
	if (result < 0 || length < 0 || length > (int)sizeof report) {
		char line[128];
		snprintf(line, sizeof line, "error: pal_get_local_report failed with %d\n", result);
		reply(r->connection, line);
		return;
	}
	char line[2 * sizeof report + 16] = "report ";
	size_t at = strlen(line);
	for (int i = 0; i < length; i++)
		at += (size_t)snprintf(line + at, sizeof line - at, "%02x", report[i]);
	snprintf(line + at, sizeof line - at, "\n");
	reply(r->connection, line);
}

static void *serve(void *argument)
{
	struct request *r = argument;
	size_t count = 0;
	char **fields = strings_of(r->payload, r->length, &count);
	if (!fields || count == 0) {
		reply(r->connection, "error: malformed request\n");
	} else if (strcmp(fields[0], "start") == 0) {
		pthread_mutex_lock(&state_lock);
		int already = started;
		started = 1;
		pthread_cond_broadcast(&state_changed);
		pthread_mutex_unlock(&state_lock);
		reply(r->connection, already ? "error: the container was already started\n" : "ok\n");
	} else if (strcmp(fields[0], "exec") == 0) {
		serve_exec(r, fields, count);
	} else if (strcmp(fields[0], "report") == 0) {
		serve_report(r);
	} else if (strcmp(fields[0], "destroy") == 0) {
		destroy_once();
		reply(r->connection, "ok\n");
		close(r->connection);
		_exit(137);
	} else {
		reply(r->connection, "error: unknown request\n");
	}
	free(fields);
	for (int i = 0; i < 3; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	close(r->connection);
	free(r->payload);
	free(r);
	return NULL;
}

static void *accept_requests(void *argument)
{
	int listener = (int)(intptr_t)argument;
	for (;;) {
		int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (connection < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		struct request *r = calloc(1, sizeof *r);
		if (!r) {
			close(connection);
			continue;
		}
		r->connection = connection;
		if (coffer_oci_receive(connection, &r->payload, &r->length, r->fds) < 0) {
			close(connection);
			free(r);
			continue;
		}
		/* Each request on its own thread: an exec waits for its program, start must not. */
		pthread_t thread;
		if (pthread_create(&thread, NULL, serve, r) == 0)
			pthread_detach(thread);
		else
			serve(r);
	}
}

static int listen_on_control(void)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	if (snprintf(address.sun_path, sizeof address.sun_path, "%s/pal.sock", control_directory)
	    >= (int)sizeof address.sun_path)
		fail(125, "the control directory path %s is too long for a socket", control_directory);
	unlink(address.sun_path);
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 16) < 0)
		fail(125, "cannot listen on %s: %s", address.sun_path, strerror(errno));
	return listener;
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
			argv[i], result, strerror(-result));
		return 127;
	}
	return exit_value & 0xff;
}
