#define _GNU_SOURCE
#include "CCofferOCIRuntime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

long coffer_oci_request(const char *socket_path, const char *payload, size_t length,
			const int *fds, int nfds, char *reply, size_t reply_capacity)
{
	/* The socket lives in a directory the container can write: a process there could replace
	 * it by a symbolic link to some host socket. Opening it with O_PATH|O_NOFOLLOW, checking it
	 * is a socket, and connecting through /proc/self/fd pins the very inode checked. */
	int pinned = open(socket_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pinned < 0)
		return -errno;
	struct stat st;
	if (fstat(pinned, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(pinned);
		return -ENOTSOCK;
	}
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d", pinned);
	int connection = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connection < 0) {
		int e = errno;
		close(pinned);
		return -e;
	}
	if (connect(connection, (struct sockaddr *)&address, sizeof address) < 0) {
		int e = errno;
		close(pinned);
		close(connection);
		return -e;
	}
	close(pinned);

	size_t sent = 0;
	while (sent < length) {
		struct iovec io = { .iov_base = (char *)payload + sent, .iov_len = length - sent };
		union { char buffer[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr align; } control;
		struct msghdr message = { .msg_iov = &io, .msg_iovlen = 1 };
		if (sent == 0 && nfds > 0 && nfds <= 3) {
			memset(&control, 0, sizeof control);
			message.msg_control = control.buffer;
			message.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			struct cmsghdr *header = CMSG_FIRSTHDR(&message);
			header->cmsg_level = SOL_SOCKET;
			header->cmsg_type = SCM_RIGHTS;
			header->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(header), fds, nfds * sizeof(int));
		}
		ssize_t n = sendmsg(connection, &message, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EPIPE;
			close(connection);
			return -e;
		}
		sent += (size_t)n;
	}
	shutdown(connection, SHUT_WR);

	size_t received = 0;
	while (received + 1 < reply_capacity) {
		ssize_t n = read(connection, reply + received, reply_capacity - 1 - received);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(connection);
			return -e;
		}
		if (n == 0)
			break;
		received += (size_t)n;
	}
	reply[received] = 0;
	close(connection);
	return (long)received;
}

int coffer_oci_receive(int connection, char **payload, size_t *length, int fds[3])
{
	size_t capacity = 4096, used = 0;
	char *buffer = malloc(capacity);
	fds[0] = fds[1] = fds[2] = -1;
	if (!buffer)
		return -ENOMEM;
	for (;;) {
		if (used == capacity) {
			/* Bounded: a request is argv and env, never near a megabyte in practice. */
			if (capacity >= COFFER_OCI_MAX_REQUEST) {
				free(buffer);
				return -E2BIG;
			}
			char *larger = realloc(buffer, capacity * 2);
			if (!larger) {
				free(buffer);
				return -ENOMEM;
			}
			buffer = larger;
			capacity *= 2;
		}
		struct iovec io = { .iov_base = buffer + used, .iov_len = capacity - used };
		union { char buffer[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr align; } control;
		struct msghdr message = { .msg_iov = &io, .msg_iovlen = 1,
					  .msg_control = control.buffer, .msg_controllen = sizeof control.buffer };
		ssize_t n = recvmsg(connection, &message, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buffer);
			return -e;
		}
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&message); h; h = CMSG_NXTHDR(&message, h)) {
			if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
				continue;
			int count = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int *received = (int *)CMSG_DATA(h);
			for (int i = 0; i < count; i++) {
				/* More than three, or a second batch: not ours to keep. */
				if (i < 3 && fds[i] < 0)
					fds[i] = received[i];
				else
					close(received[i]);
			}
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*payload = buffer;
	*length = used;
	return 0;
}

int coffer_oci_fork(void)
{
	return fork();
}

unsigned int coffer_oci_major(unsigned long device)
{
	return major(device);
}

unsigned int coffer_oci_minor(unsigned long device)
{
	return minor(device);
}

int coffer_oci_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}
