/* What the default seccomp profile lets a container do: each probe prints
 * "name=0" when the call succeeded, or "name=ERRNO" (the errno's number). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long r) { printf("%s=%d\n", name, r < 0 ? errno : 0); }

int main(void) {
    long r;
    r = syscall(SYS_io_uring_setup, 1, (void *)0); /* EFAULT if it got to the kernel */
    report("io_uring_setup", r < 0 && errno == EFAULT ? 0 : r);
    r = personality(READ_IMPLIES_EXEC);
    report("personality_read_implies_exec", r);
    r = personality(0xffffffff);
    report("personality_query", r);
    r = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    report("socket_netlink_audit", r);
    r = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    report("socket_netlink_route", r);
    r = socket(AF_INET, SOCK_STREAM, 0);
    report("socket_inet", r);
    r = syscall(SYS_keyctl, 0, 0, 0, 0, 0);
    report("keyctl", r);
    r = unshare(CLONE_NEWUSER);
    report("unshare_user", r);
    r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    report("clone_newns", r);
    r = syscall(999); /* a number no kernel has */
    report("syscall_999", r);
    return 0;
}
