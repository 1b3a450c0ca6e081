#define _GNU_SOURCE
#include "CCofferSys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

// The agent configures the guest's network with the classic ioctls (no netlink, no ip(8)).

static int with_socket(int (*body)(int, const void *), const void *argument) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int result = body(fd, argument);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

static void set_ipv4(struct sockaddr *target, uint32_t address) {
    struct sockaddr_in *inet = (struct sockaddr_in *)target;
    memset(inet, 0, sizeof *inet);
    inet->sin_family = AF_INET;
    inet->sin_addr.s_addr = htonl(address);
}

static int up(int fd, const void *argument) {
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, (const char *)argument, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) return -1;
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(fd, SIOCSIFFLAGS, &request);
}

int coffer_interface_up(const char *name) { return with_socket(up, name); }

struct address_request {
    const char *name;
    uint32_t address, netmask;
};

static int address(int fd, const void *argument) {
    const struct address_request *wanted = argument;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, wanted->name, IFNAMSIZ - 1);
    set_ipv4(&request.ifr_addr, wanted->address);
    if (ioctl(fd, SIOCSIFADDR, &request) != 0) return -1;
    set_ipv4(&request.ifr_netmask, wanted->netmask);
    return ioctl(fd, SIOCSIFNETMASK, &request);
}

int coffer_interface_address(const char *name, uint32_t address_value, uint32_t netmask) {
    struct address_request request = {name, address_value, netmask};
    return with_socket(address, &request);
}

static int route(int fd, const void *argument) {
    struct rtentry entry;
    memset(&entry, 0, sizeof entry);
    set_ipv4(&entry.rt_dst, 0);
    set_ipv4(&entry.rt_genmask, 0);
    set_ipv4(&entry.rt_gateway, *(const uint32_t *)argument);
    entry.rt_flags = RTF_UP | RTF_GATEWAY;
    return ioctl(fd, SIOCADDRT, &entry);
}

int coffer_default_route(uint32_t gateway) { return with_socket(route, &gateway); }
