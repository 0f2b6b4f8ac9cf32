// star: the weights a search keeps in its run directory (eval/run_weights.h).
#include "eval/run_weights.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

static int is_dir(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// Removes path and, when it is a directory, what it holds (at most `depth` levels down:
// a weights directory holds files and task directories of files, nothing deeper).
static void remove_tree(const char *path, int depth) {
    if (!is_dir(path)) {
        unlink(path);
        return;
    }
    DIR *d = depth > 0 ? opendir(path) : NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) continue;
            remove_tree(sub, depth - 1);
        }
        closedir(d);
    }
    rmdir(path);
}

static void fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int run_weights_begin(const char *run_dir, uint64_t hash, int steps, char *final_dir, char *tmp_dir, star_error *err) {
    char weights[4096], name[64];
    if (path_join(weights, sizeof weights, run_dir, "weights", err) != 0 || dir_create(weights, err) != 0) return -1;
    snprintf(name, sizeof name, "%016llx-f%d", (unsigned long long)hash, steps);
    if (path_join(final_dir, 4096, weights, name, err) != 0) return -1;
    snprintf(name, sizeof name, ".%016llx-f%d.tmp", (unsigned long long)hash, steps);
    if (path_join(tmp_dir, 4096, weights, name, err) != 0) return -1;
    // Left by a process killed while it saved this candidate: it is trained again now.
    remove_tree(tmp_dir, 2);
    return dir_create(tmp_dir, err);
}

int run_weights_commit(const char *tmp_dir, const char *final_dir, star_error *err) {
    // A whole directory of an earlier training of the same candidate (a run killed after
    // the rename, before its archive line): training is deterministic, so it is replaced.
    if (is_dir(final_dir)) remove_tree(final_dir, 2);
    if (rename(tmp_dir, final_dir) != 0)
        return STAR_FAIL(err, "%s: cannot rename into place: %s", final_dir, strerror(errno));
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", final_dir);
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        fsync_dir(parent[0] ? parent : "/");
    }
    return 0;
}

void run_weights_discard(const char *tmp_dir) { remove_tree(tmp_dir, 2); }

static int has_model(const char *dir) {
    char path[4096];
    return snprintf(path, sizeof path, "%s/model.safetensors", dir) < (int)sizeof path && file_exists(path);
}

int run_weights_find(const char *run_dir, const char *hash, const char *task, char *out, size_t cap, star_error *err) {
    char weights[4096], best[4096] = "";
    if (path_join(weights, sizeof weights, run_dir, "weights", err) != 0) return -1;
    DIR *d = opendir(weights);
    long best_steps = -1;
    size_t hl = strlen(hash);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            // <hash>-f<steps>, the hash in any case (--pick HASH is case-insensitive).
            if (strncasecmp(e->d_name, hash, hl) || strncmp(e->d_name + hl, "-f", 2)) continue;
            char *end;
            long steps = strtol(e->d_name + hl + 2, &end, 10);
            if (end == e->d_name + hl + 2 || *end || steps < 0 || steps <= best_steps) continue;
            best_steps = steps;
            snprintf(best, sizeof best, "%s/%s", weights, e->d_name);
        }
        closedir(d);
    }
    if (best_steps < 0)
        return STAR_FAIL(err, "%s: no weights kept for candidate %s: it was not trained (no quality objective, or "
                              "over a hard limit), or its training failed, or the run keeps none (run.keep_weights)",
                         weights, hash);
    if (has_model(best)) {
        if (task) return STAR_FAIL(err, "%s: --task %s: this run trained one model per candidate (not MAD tasks)", best, task);
        if (strlen(best) >= cap) return STAR_FAIL(err, "%s: path too long", best);
        snprintf(out, cap, "%s", best);
        return 0;
    }
    // MAD: one checkpoint per task.
    char tasks[1024] = "", only[4096] = "";
    int n = 0;
    d = opendir(best);
    if (!d) return STAR_FAIL(err, "%s: %s", best, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", best, e->d_name) >= (int)sizeof sub || !has_model(sub)) continue;
        if (task && !strcmp(task, e->d_name)) {
            closedir(d);
            if (strlen(sub) >= cap) return STAR_FAIL(err, "%s: path too long", sub);
            snprintf(out, cap, "%s", sub);
            return 0;
        }
        snprintf(tasks + strlen(tasks), sizeof tasks - strlen(tasks), "%s%s", n ? ", " : "", e->d_name);
        snprintf(only, sizeof only, "%s", sub);
        n++;
    }
    closedir(d);
    if (n == 0) return STAR_FAIL(err, "%s: holds no model.safetensors", best);
    if (task) return STAR_FAIL(err, "%s: --task %s: no such task (it has: %s)", best, task, tasks);
    if (n > 1)
        return STAR_FAIL(err, "%s: one model per MAD task; say which with --task NAME (it has: %s)", best, tasks);
    if (strlen(only) >= cap) return STAR_FAIL(err, "%s: path too long", only);
    snprintf(out, cap, "%s", only);
    return 0;
}
