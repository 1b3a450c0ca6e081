#define _GNU_SOURCE
#include "CCofferSys.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
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
                 int stdin_fd, int stdout_fd, int stderr_fd, int32_t *failed_step, int32_t *failed_errno) {
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
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0) child_fail(report[1], COFFER_SPAWN_GROUP);
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
