#define _GNU_SOURCE
#include "CCofferSys.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

// Between fork and exec only async-signal-safe calls: the child of a (single-threaded) agent
// writes its failing step and errno to `report` (close-on-exec, so a successful exec closes it
// and the parent reads end of file).
static void child_fail(int report, int32_t step) {
    int32_t message[2] = {step, errno};
    (void)!write(report, message, sizeof message);
    _exit(127);
}

int coffer_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, uint32_t uid, uint32_t gid,
                 const uint32_t *groups, uint32_t group_count, int stdin_fd, int stdout_fd, int stderr_fd,
                 int controlling_tty, int32_t *failed_step, int32_t *failed_errno) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        // A new session: the workload is not in PID 1's process group.
        setsid();
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) child_fail(report[1], COFFER_SPAWN_STDIO);
        // The new session's first terminal: job control and ^C work as on a login terminal.
        if (controlling_tty && ioctl(0, TIOCSCTTY, 0) != 0) child_fail(report[1], COFFER_SPAWN_TERMINAL);
        if (setgroups(group_count, (const gid_t *)groups) != 0 || setgid(gid) != 0) child_fail(report[1], COFFER_SPAWN_GROUP);
        if (setuid(uid) != 0) child_fail(report[1], COFFER_SPAWN_USER);
        if (chdir(cwd) != 0) child_fail(report[1], COFFER_SPAWN_CWD);
        execve(path, argv, envp);
        child_fail(report[1], COFFER_SPAWN_EXEC);
    }
    close(report[1]);
    int32_t message[2] = {0, 0};
    ssize_t count;
    do {
        count = read(report[0], message, sizeof message);
    } while (count < 0 && errno == EINTR);
    close(report[0]);
    if (count == (ssize_t)sizeof message) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *failed_step = message[0];
        *failed_errno = message[1];
        return 0;
    }
    *failed_step = 0;
    *failed_errno = 0;
    return pid;
}

int coffer_mknod_block(const char *path, uint32_t major_number, uint32_t minor_number) {
    return mknod(path, S_IFBLK | 0600, makedev(major_number, minor_number));
}

int coffer_wait_status_exited(int status) { return WIFEXITED(status); }
int coffer_wait_status_code(int status) { return WEXITSTATUS(status); }
int coffer_wait_status_signaled(int status) { return WIFSIGNALED(status); }
int coffer_wait_status_signal(int status) { return WTERMSIG(status); }

int coffer_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int coffer_open_pty(int *master_fd, int *slave_fd, uint16_t rows, uint16_t cols) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    char name[64];
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof name) != 0) {
        int saved = errno;
        close(master);
        errno = saved;
        return -1;
    }
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0 || coffer_set_window_size(master, rows, cols) != 0 || fcntl(master, F_SETFL, O_NONBLOCK) != 0) {
        int saved = errno;
        if (slave >= 0) close(slave);
        close(master);
        errno = saved;
        return -1;
    }
    *master_fd = master;
    *slave_fd = slave;
    return 0;
}

int coffer_set_window_size(int fd, uint16_t rows, uint16_t cols) {
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    return ioctl(fd, TIOCSWINSZ, &size);
}

int coffer_child_signal_fd(void) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) return -1;
    return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

void coffer_drain_signal_fd(int fd) {
    struct signalfd_siginfo info;
    while (read(fd, &info, sizeof info) == (ssize_t)sizeof info) {}
}

static volatile sig_atomic_t coffer_relay_fd = -1;

static void coffer_relay_handler(int number) {
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    int fd = coffer_relay_fd;
    if (fd >= 0) (void)!write(fd, &byte, 1);  // a full pipe drops the byte: the reader is behind anyway
    errno = saved;
}

int coffer_signal_relay_open(const int *signals, int count) {
    if (coffer_relay_fd >= 0) {
        errno = EBUSY;
        return -1;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    coffer_relay_fd = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = coffer_relay_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    // A parent may have left them blocked (the mask survives exec): unblock them in this thread.
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int i = 0; i < count; i++) sigaddset(&unblock, signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) {
            int saved = errno;
            coffer_signal_relay_close(fds[0], signals, i);
            errno = saved;
            return -1;
        }
    }
    return fds[0];
}

void coffer_signal_relay_close(int read_fd, const int *signals, int count) {
    for (int i = 0; i < count; i++) signal(signals[i], SIG_DFL);
    int write_fd = coffer_relay_fd;
    coffer_relay_fd = -1;
    if (write_fd >= 0) close(write_fd);
    if (read_fd >= 0) close(read_fd);
}

int coffer_spawn_tied(const char *path, char *const argv[], char *const envp[], int output_fd) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    for (int number = 1; number < NSIG; number++) signal(number, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) _exit(127);
    // Nothing else the launcher holds (an inherited pipe or socket) reaches QEMU.
    closefrom(3);
    execve(path, argv, envp);
    _exit(127);
}
