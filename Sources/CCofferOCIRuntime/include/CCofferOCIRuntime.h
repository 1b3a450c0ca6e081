#ifndef CCOFFEROCIRUNTIME_H
#define CCOFFEROCIRUNTIME_H
/*
 * The PAL host's control socket, shared by coffer-runtime (client, host side) and coffer-pal-host
 * (server, inside the container). One request per connection: the client sends NUL-terminated
 * strings (a verb, then its fields) with up to three descriptors attached to the first bytes
 * (SCM_RIGHTS), shuts its side down, and reads one reply line until the server closes.
 * docs/oci-runtime.md lists the verbs.
 */
#include <stddef.h>

#define COFFER_OCI_MAX_REQUEST (1 << 20)

/* Sends `length` bytes of `payload` with `nfds` descriptors to the socket at `socket_path` and
 * reads the reply into `reply` (NUL-terminated). Returns the reply length or -errno. The path's
 * last component must be a socket itself, not a symbolic link (see the .c file). */
long coffer_oci_request(const char *socket_path, const char *payload, size_t length,
			const int *fds, int nfds, char *reply, size_t reply_capacity);

/* Reads one whole request from `connection` into a malloc'd buffer (`*payload`, `*length`) and
 * stores up to three received descriptors in `fds` (the rest -1). Returns 0 or -errno. */
int coffer_oci_receive(int connection, char **payload, size_t *length, int fds[3]);

/* fork(2) for `exec --detach`: the child keeps the request open and exits with the program's
 * exit value; the parent reports the child's pid, as runc reports its process. Called while
 * coffer-runtime has one thread, so the child is in a consistent state. */
int coffer_oci_fork(void);

/* major(3) and minor(3) of a device number (macros in C, so not callable from Swift). */
unsigned int coffer_oci_major(unsigned long device);
unsigned int coffer_oci_minor(unsigned long device);

/* A pipe whose both ends are close-on-exec (pipe2 is not exported to Swift by Glibc). */
int coffer_oci_pipe(int fds[2]);

#endif
