/* The control socket's server side: one request per connection, each on its own thread
 * (docs/oci-runtime.md, "The control socket"). */
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
			 argv[0], result, pal_error_text(result));
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

void *accept_requests(void *argument)
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

int listen_on_control(void)
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
