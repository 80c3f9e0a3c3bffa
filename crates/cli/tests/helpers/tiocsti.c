/* A hostile process in a container: reports whether fds 0-2 are terminals
 * and tries to push "INJECTED" plus a newline into the input of every
 * terminal it can reach (fds 0-2 and /dev/tty) with ioctl(TIOCSTI).
 * Built static by the attack tests and bound into the container. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int inject(int fd) {
    const char *s = "INJECTED\n";
    int pushed = 0;
    for (size_t i = 0; i < strlen(s); i++)
        if (ioctl(fd, TIOCSTI, &s[i]) == 0) pushed++;
    return pushed;
}

int main(int argc, char **argv) {
    char line[128];
    int n = 0;
    for (int fd = 0; fd <= 2; fd++)
        n += snprintf(line + n, sizeof line - n, "fd%d:%d:%d ", fd, isatty(fd), inject(fd));
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
    n += snprintf(line + n, sizeof line - n, "tty:%d", tty >= 0 ? inject(tty) : -1);
    /* To a file, so the report does not depend on the stdio under test. */
    int out = open(argc > 1 ? argv[1] : "/report", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
        dprintf(out, "%s\n", line);
        close(out);
    }
    return 0;
}
