// star: files that survive a crash. A whole file is replaced atomically (temporary
// file in the same directory, fsync, rename, fsync of the directory); an archive line
// is appended with one write and fsync'd, so a reader sees either all of it or none.
#ifndef STAR_COMMON_FILE_H
#define STAR_COMMON_FILE_H

#include <stddef.h>

#include "common/error.h"

int file_write_atomic(const char *path, const void *data, size_t n, star_error *err);
int file_append_line(const char *path, const char *line, star_error *err);  // adds '\n'
// Reads a whole file into a NUL-terminated buffer the caller frees.
int file_read_all(const char *path, char **out, size_t *len, star_error *err);

// A whole file for reading, without a copy where possible: a non-empty regular file is
// mapped read-only (its pages are the page cache's, loaded as they are touched), anything
// else (a pipe, an empty file) is read into memory. Release with file_view_close.
typedef struct file_view {
    const unsigned char *data;
    size_t len;
    void *map;   // the mapping, or NULL
    char *owned; // the buffer read instead, or NULL
} file_view;
int file_view_open(file_view *v, const char *path, star_error *err);
void file_view_close(file_view *v);
int file_exists(const char *path);
int dir_create(const char *path, star_error *err);  // mkdir -p
// Removes the temporary files (NAME.tmp.PID) that file_write_atomic left in dir when its
// process was killed mid-write: those whose PID is no live process. Adds their number to
// *removed.
int dir_remove_stale_tmp(const char *dir, int *removed, star_error *err);
// Joins a and b with '/' into out (fails if it does not fit).
int path_join(char *out, size_t cap, const char *a, const char *b, star_error *err);

#endif
