// star: a loaded YAML (or JSON) document, read through libyaml's document API, with
// typed accessors whose errors name the file, line, column and key path:
//   "configs/x.yaml:12:5: algorithm.population: expected an integer >= 2, got 'abc'"
#ifndef STAR_COMMON_YDOC_H
#define STAR_COMMON_YDOC_H

#include <stddef.h>
#include <yaml.h>

#include "common/error.h"

typedef struct ydoc {
    yaml_document_t doc;
    char name[512];  // file path, or a label such as "--set" or "<string>"
    int loaded;
} ydoc;

typedef yaml_node_t ynode;

int ydoc_load_file(ydoc *d, const char *path, star_error *err);
int ydoc_load_string(ydoc *d, const char *text, size_t len, const char *name, star_error *err);
void ydoc_free(ydoc *d);
ynode *ydoc_root(ydoc *d);  // NULL for an empty document

int ynode_is_map(const ynode *n);
int ynode_is_seq(const ynode *n);
int ynode_is_scalar(const ynode *n);
// Map lookup; NULL when absent (n must be a map).
ynode *ynode_get(ydoc *d, ynode *map, const char *key);
// Iteration over a map: the i-th key and value, i < ynode_len(map).
size_t ynode_len(const ynode *n);  // pairs of a map, items of a sequence, 0 for scalars
ynode *ynode_map_key(ydoc *d, ynode *map, size_t i);
ynode *ynode_map_value(ydoc *d, ynode *map, size_t i);
ynode *ynode_seq_item(ydoc *d, ynode *seq, size_t i);
const char *ynode_scalar(const ynode *n);  // NULL if not a scalar
int ynode_line(const ynode *n);            // 1-based
int ynode_col(const ynode *n);             // 1-based

// Fails with "name:line:col: keypath: message".
int ynode_fail(ydoc *d, const ynode *n, const char *keypath, star_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

// Typed reads of a scalar node; each fails with ynode_fail on the wrong type/range.
int ynode_as_long(ydoc *d, const ynode *n, const char *keypath, long lo, long hi, long *out, star_error *err);
int ynode_as_double(ydoc *d, const ynode *n, const char *keypath, double lo, double hi, double *out,
                    star_error *err);
int ynode_as_bool(ydoc *d, const ynode *n, const char *keypath, int *out, star_error *err);
int ynode_as_string(ydoc *d, const ynode *n, const char *keypath, const char **out, star_error *err);

// Checks that every key of a map is in the NULL-terminated list `allowed`; an unknown key
// fails naming it, its line and column, and the allowed keys.
int ynode_check_keys(ydoc *d, ynode *map, const char *keypath, const char *const *allowed, star_error *err);

#endif
