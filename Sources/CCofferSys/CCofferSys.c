#define _GNU_SOURCE
#include "CCofferSys.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

int coffer_finit_module(int fd, const char *params, int flags) {
    return (int)syscall(SYS_finit_module, fd, params, flags);
}

int coffer_ioctl_ptr(int fd, unsigned long request, void *argument) {
    return ioctl(fd, request, argument);
}

int coffer_o_direct(void) { return O_DIRECT; }

int coffer_power_off(void) {
    sync();
    return reboot(RB_POWER_OFF);
}

int coffer_open(const char *path, int flags, uint32_t mode) {
    return open(path, flags | O_CLOEXEC, (mode_t)mode);
}

int coffer_openat(int directory, const char *name, int flags, uint32_t mode) {
    return openat(directory, name, flags | O_CLOEXEC, (mode_t)mode);
}
