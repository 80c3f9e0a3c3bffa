/* A hostile container with CAP_SYS_PTRACE: scans /proc/<pid>/exe of every
 * process it can see, over and over, and opens each (as CVE-2019-5736's
 * exploit did, to reopen it for writing once the binary stops running,
 * which ETXTBSY forbids until then). For each file it got a handle on, it
 * reports "dev:ino writable target" once, where writable is 1 unless the
 * file is on a read-only mount or a memfd sealed against writes. Stops
 * when STOP exists; the last line is "scans N". */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    FILE *report = fopen(argv[1], "w");
    if (!report) return 1;
    static char seen[4096][32];
    int nseen = 0;
    long scans = 0;
    while (access(argv[2], F_OK) != 0) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            char path[64], target[256] = "", key[32];
            snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            struct stat st;
            struct statvfs vfs;
            if (fstat(fd, &st) == 0 && fstatvfs(fd, &vfs) == 0) {
                int seals = fcntl(fd, F_GET_SEALS);
                int writable = !(vfs.f_flag & ST_RDONLY) && !(seals >= 0 && (seals & F_SEAL_WRITE));
                snprintf(key, sizeof key, "%lu:%lu %d", (unsigned long)st.st_dev, (unsigned long)st.st_ino, writable);
                int known = 0;
                for (int i = 0; i < nseen; i++)
                    if (!strcmp(seen[i], key)) known = 1;
                if (!known && nseen < 4096) {
                    strcpy(seen[nseen++], key);
                    ssize_t n = readlink(path, target, sizeof target - 1);
                    if (n > 0) target[n] = 0;
                    fprintf(report, "%s %s\n", key, target);
                    fflush(report);
                }
            }
            close(fd);
        }
        if (d) closedir(d);
        scans++;
    }
    fprintf(report, "scans %ld\n", scans);
    fclose(report);
    return 0;
}
