#define _GNU_SOURCE
#include "CCofferSys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

// One buffer for every device-mapper ioctl: struct dm_ioctl, then (for DM_TABLE_LOAD) one
// dm_target_spec and its NUL-terminated parameter string, 8-byte aligned as the kernel expects.
// Layout: <linux/dm-ioctl.h>, and the kernel's Documentation/admin-guide/device-mapper/.
#define COFFER_DM_BUFFER 16384

static void dm_header(struct dm_ioctl *io, const char *name, uint32_t size) {
    memset(io, 0, size);
    // Major 4 is the only ioctl ABI; minor 0 asks for nothing newer than the kernel has.
    io->version[0] = DM_VERSION_MAJOR;
    io->version[1] = 0;
    io->version[2] = 0;
    io->data_size = size;
    io->data_start = sizeof(struct dm_ioctl);
    strncpy(io->name, name, DM_NAME_LEN - 1);
}

int coffer_dm_create_readonly(const char *name, const char *target, uint64_t sectors, const char *params,
                              uint32_t *major_out, uint32_t *minor_out) {
    return coffer_dm_create(name, target, sectors, params, 1, major_out, minor_out);
}

int coffer_dm_create(const char *name, const char *target, uint64_t sectors, const char *params, int read_only,
                     uint32_t *major_out, uint32_t *minor_out) {
    size_t name_length = strlen(name), target_length = strlen(target), params_length = strlen(params);
    if (name_length == 0 || name_length >= DM_NAME_LEN || target_length >= DM_MAX_TYPE_NAME ||
        sizeof(struct dm_ioctl) + sizeof(struct dm_target_spec) + params_length + 8 > COFFER_DM_BUFFER) {
        errno = EINVAL;
        return -1;
    }
    int control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    if (control < 0) return -1;
    _Alignas(8) unsigned char buffer[COFFER_DM_BUFFER];
    struct dm_ioctl *io = (struct dm_ioctl *)buffer;

    dm_header(io, name, sizeof(struct dm_ioctl));
    if (ioctl(control, DM_DEV_CREATE, io) != 0) goto fail;

    // The table: one target over the whole device, read-only.
    uint32_t spec_size = (uint32_t)((sizeof(struct dm_target_spec) + params_length + 1 + 7) & ~(size_t)7);
    dm_header(io, name, (uint32_t)sizeof(struct dm_ioctl) + spec_size);
    io->target_count = 1;
    io->flags = read_only ? DM_READONLY_FLAG : 0;
    struct dm_target_spec *spec = (struct dm_target_spec *)(buffer + sizeof(struct dm_ioctl));
    spec->sector_start = 0;
    spec->length = sectors;
    spec->next = 0;
    memcpy(spec->target_type, target, target_length);
    memcpy((char *)(spec + 1), params, params_length + 1);
    int loaded = ioctl(control, DM_TABLE_LOAD, io);
    // The parameters may hold keys (dm-crypt, dm-integrity): gone from this stack once loaded.
    explicit_bzero(buffer, sizeof buffer);
    if (loaded != 0) goto fail_remove;

    // DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table goes live.
    dm_header(io, name, sizeof(struct dm_ioctl));
    if (ioctl(control, DM_DEV_SUSPEND, io) != 0) goto fail_remove;
    // The kernel returns huge_encode_dev(devt): major in bits 8-19, minor split around it.
    *major_out = (uint32_t)((io->dev >> 8) & 0xfff);
    *minor_out = (uint32_t)((io->dev & 0xff) | ((io->dev >> 12) & 0xfff00));
    close(control);
    return 0;

fail_remove: {
        int saved = errno;
        dm_header(io, name, sizeof(struct dm_ioctl));
        ioctl(control, DM_DEV_REMOVE, io);
        errno = saved;
    }
fail: {
        int saved = errno;
        close(control);
        errno = saved;
        return -1;
    }
}

int coffer_dm_remove(const char *name) {
    if (strlen(name) == 0 || strlen(name) >= DM_NAME_LEN) {
        errno = EINVAL;
        return -1;
    }
    int control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    if (control < 0) return -1;
    struct dm_ioctl io;
    dm_header(&io, name, sizeof io);
    int result = ioctl(control, DM_DEV_REMOVE, &io);
    int saved = errno;
    close(control);
    errno = saved;
    return result;
}

int coffer_dm_status(const char *name, char *status, uint32_t capacity) {
    if (capacity == 0 || strlen(name) >= DM_NAME_LEN) {
        errno = EINVAL;
        return -1;
    }
    int control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    if (control < 0) return -1;
    _Alignas(8) unsigned char buffer[COFFER_DM_BUFFER];
    struct dm_ioctl *io = (struct dm_ioctl *)buffer;
    dm_header(io, name, COFFER_DM_BUFFER);
    // Without DM_STATUS_TABLE_FLAG the kernel returns each target's status (STATUSTYPE_INFO).
    int result = ioctl(control, DM_TABLE_STATUS, io);
    int saved = errno;
    close(control);
    if (result != 0) {
        errno = saved;
        return -1;
    }
    status[0] = 0;
    if (io->target_count < 1 || (io->flags & DM_BUFFER_FULL_FLAG) || io->data_start + sizeof(struct dm_target_spec) >= io->data_size ||
        io->data_size > COFFER_DM_BUFFER) {
        errno = EPROTO;
        return -1;
    }
    const char *text = (const char *)(buffer + io->data_start + sizeof(struct dm_target_spec));
    size_t limit = io->data_size - io->data_start - sizeof(struct dm_target_spec);
    size_t length = strnlen(text, limit);
    if (length >= capacity) length = capacity - 1;
    memcpy(status, text, length);
    status[length] = 0;
    return 0;
}
