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

#endif
