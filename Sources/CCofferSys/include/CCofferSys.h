// The few system calls the guest agent needs that Swift cannot call directly: variadic C
// functions (ioctl, syscall) and calls glibc does not wrap (finit_module). Each wrapper is a
// single call that returns -1 with errno set on failure, exactly as the kernel reports it.
#ifndef CCOFFERSYS_H
#define CCOFFERSYS_H

#include <stdint.h>

/// finit_module(2): loads the kernel module open on `fd` with `params` ("" for none).
int coffer_finit_module(int fd, const char *params, int flags);

/// ioctl(2) with a pointer argument (device-mapper, terminals).
int coffer_ioctl_ptr(int fd, unsigned long request, void *argument);

/// reboot(2) with LINUX_REBOOT_CMD_POWER_OFF: halts the VM. Returns only on failure.
int coffer_power_off(void);

/// open(2) with O_CLOEXEC added; `mode` is used when `flags` has O_CREAT.
int coffer_open(const char *path, int flags, uint32_t mode);
/// openat(2) with O_CLOEXEC added (openat is variadic, which Swift cannot call).
int coffer_openat(int directory, const char *name, int flags, uint32_t mode);
/// O_DIRECT, which <fcntl.h> defines only under _GNU_SOURCE (and whose value differs by architecture).
int coffer_o_direct(void);

/// Creates device-mapper device `name` with one read-only `target` of `sectors` 512-byte sectors
/// and parameter string `params`, and activates it (DM_DEV_CREATE, DM_TABLE_LOAD, DM_DEV_SUSPEND
/// to resume). On success stores the new block device's major and minor. On failure removes what
/// it created and returns -1 with errno set.
int coffer_dm_create_readonly(const char *name, const char *target, uint64_t sectors, const char *params,
                              uint32_t *major_out, uint32_t *minor_out);

/// Like coffer_dm_create_readonly; read_only 0 makes a writable device (dm-integrity, dm-crypt).
/// The parameter buffer is wiped after the table load: it may hold keys.
int coffer_dm_create(const char *name, const char *target, uint64_t sectors, const char *params, int read_only,
                     uint32_t *major_out, uint32_t *minor_out);
/// Removes device `name` (DM_DEV_REMOVE); fails with EBUSY while it is open or mounted.
int coffer_dm_remove(const char *name);

/// DM_TABLE_STATUS of device `name`: copies its first target's status line (for verity: "V" while
/// every block read verified, "C" once one failed) into `status`, NUL-terminated.
int coffer_dm_status(const char *name, char *status, uint32_t capacity);

/// Steps of coffer_spawn's child, reported when one fails.
enum {
    COFFER_SPAWN_STDIO = 1,
    COFFER_SPAWN_GROUP = 2,
    COFFER_SPAWN_USER = 3,
    COFFER_SPAWN_CWD = 4,
    COFFER_SPAWN_EXEC = 5,
    COFFER_SPAWN_TERMINAL = 6,
};

/// fork + (in the child) setsid, stdio dup2, the controlling terminal (when `controlling_tty`:
/// standard input must then be a terminal), setgroups/setgid/setuid, chdir, execve. Returns the
/// child's pid once execve succeeded; 0 when the child failed before or at execve (then
/// `failed_step` and `failed_errno` say where and why, and the child has been reaped); -1 with
/// errno when fork itself failed.
int coffer_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, uint32_t uid, uint32_t gid,
                 const uint32_t *groups, uint32_t group_count, int stdin_fd, int stdout_fd, int stderr_fd,
                 int controlling_tty, int32_t *failed_step, int32_t *failed_errno);

/// fork + (in the child) PR_SET_PDEATHSIG(SIGKILL), default signal dispositions and mask, stdout
/// and stderr onto `output_fd`, stdin from /dev/null, execve. The child is killed by the kernel
/// when the calling *thread* ends, so it must be the launcher's long-lived (main) thread. Returns
/// the pid, or -1 with errno (fork failed). An execve failure shows as exit status 127.
int coffer_spawn_tied(const char *path, char *const argv[], char *const envp[], int output_fd);

/// Brings network interface `name` up (SIOCSIFFLAGS with IFF_UP). 0, or -1 with errno.
int coffer_interface_up(const char *name);

/// Sets an IPv4 address and netmask (host byte order) on `name`. 0, or -1 with errno.
int coffer_interface_address(const char *name, uint32_t address, uint32_t netmask);

/// Adds the default IPv4 route via `gateway` (host byte order). 0, or -1 with errno.
int coffer_default_route(uint32_t gateway);

/// A new pseudo-terminal: the master (close-on-exec, non-blocking) and the slave (close-on-exec),
/// sized rows x cols. 0, or -1 with errno.
int coffer_open_pty(int *master_fd, int *slave_fd, uint16_t rows, uint16_t cols);

/// TIOCSWINSZ on a terminal.
int coffer_set_window_size(int fd, uint16_t rows, uint16_t cols);

/// Blocks SIGCHLD in the calling thread and returns a close-on-exec, non-blocking signalfd that
/// becomes readable when a child changes state; -1 with errno.
int coffer_child_signal_fd(void);

/// Empties a signalfd without blocking.
void coffer_drain_signal_fd(int fd);

/// Catches `signals` with a handler that writes each signal's number (one byte) to a pipe and
/// returns the pipe's read end (close-on-exec, non-blocking), for a poll loop; -1 with errno, EBUSY
/// if a relay is already installed. Works whichever thread the kernel delivers a signal to (unlike
/// a signalfd, which needs the signal blocked in every thread). The signals are unblocked in the
/// calling thread: a parent may have left them blocked, and the mask survives exec.
int coffer_signal_relay_open(const int *signals, int count);

/// Restores the default disposition of `signals` and closes the relay's pipe.
void coffer_signal_relay_close(int read_fd, const int *signals, int count);

/// mknod(2) of a block device node, mode 0600 (makedev is a macro Swift cannot call).
int coffer_mknod_block(const char *path, uint32_t major_number, uint32_t minor_number);

/// pipe2(2) with O_CLOEXEC (glibc declares pipe2 only under _GNU_SOURCE).
int coffer_pipe_cloexec(int fds[2]);

/// The wait(2) status macros.
int coffer_wait_status_exited(int status);
int coffer_wait_status_code(int status);
int coffer_wait_status_signaled(int status);
int coffer_wait_status_signal(int status);

#endif
