#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_fully(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fsync_dir_of(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int file_write_atomic(const char *path, const void *data, size_t n, star_error *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return STAR_FAIL(err, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return STAR_FAIL(err, "%s: cannot create: %s", tmp, strerror(errno));
    if (write_fully(fd, data, n) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return STAR_FAIL(err, "%s: cannot write: %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return STAR_FAIL(err, "%s: cannot close: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return STAR_FAIL(err, "%s: cannot rename into place: %s", path, strerror(e));
    }
    fsync_dir_of(path);
    return 0;
}

int file_append_line(const char *path, const char *line, star_error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return STAR_FAIL(err, "%s: cannot open for append: %s", path, strerror(errno));
    size_t n = strlen(line);
    char *buf = star_malloc(n + 1);
    memcpy(buf, line, n);
    buf[n] = '\n';
    int rc = write_fully(fd, buf, n + 1);
    int e = errno;
    free(buf);
    // EINVAL/EROFS: the file (a pipe, /dev/null) cannot be synced; nothing to make durable.
    if (rc != 0 || (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)) {
        if (rc == 0) e = errno;
        close(fd);
        return STAR_FAIL(err, "%s: cannot append: %s", path, strerror(e));
    }
    if (close(fd) != 0) return STAR_FAIL(err, "%s: cannot close: %s", path, strerror(errno));
    return 0;
}

int file_read_all(const char *path, char **out, size_t *len, star_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return STAR_FAIL(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return STAR_FAIL(err, "%s: is a directory, not a file", path);
    }
    size_t cap = 4096, n = 0;
    char *buf = star_malloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            buf = star_realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return STAR_FAIL(err, "%s: read error: %s", path, strerror(e));
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return 0;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int dir_create(const char *path, star_error *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return STAR_FAIL(err, "%s: path too long", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return STAR_FAIL(err, "%s: cannot create directory: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return STAR_FAIL(err, "%s: cannot create directory: %s", tmp, strerror(errno));
    return 0;
}

int path_join(char *out, size_t cap, const char *a, const char *b, star_error *err) {
    if (snprintf(out, cap, "%s/%s", a, b) >= (int)cap) return STAR_FAIL(err, "path too long: %s/%s", a, b);
    return 0;
}

int dir_remove_stale_tmp(const char *dir, int *removed, star_error *err) {
    DIR *d = opendir(dir);
    if (!d) return STAR_FAIL(err, "%s: cannot open directory: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || t == e->d_name) continue;
        char *end;
        long pid = strtol(t + 5, &end, 10);
        if (*end != '\0' || end == t + 5 || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still be at work
        char path[4096];
        if (path_join(path, sizeof path, dir, e->d_name, err) != 0) {
            rc = -1;
            break;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = STAR_FAIL(err, "%s: cannot remove: %s", path, strerror(errno));
            break;
        }
        (*removed)++;
    }
    closedir(d);
    return rc;
}

int file_view_open(file_view *v, const char *path, star_error *err) {
    memset(v, 0, sizeof *v);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) return STAR_FAIL(err, "%s: cannot open: %s", path, strerror(errno));
        // The size again from the open file: the one that is mapped.
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (map != MAP_FAILED) {
                close(fd);
                v->map = map;
                v->data = map;
                v->len = (size_t)st.st_size;
                return 0;
            }
        }
        close(fd);  // not mappable after all: read it
    }
    size_t len = 0;
    if (file_read_all(path, &v->owned, &len, err) != 0) return -1;
    v->data = (const unsigned char *)v->owned;
    v->len = len;
    return 0;
}

void file_view_close(file_view *v) {
    if (v->map) munmap(v->map, v->len);
    free(v->owned);
    memset(v, 0, sizeof *v);
}
