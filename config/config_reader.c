// star: typed access to the config document with messages that name where each value
// came from (the file, or the `--set` that wrote it).
#include "config/config_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ydoc *cfg_doc(cfg_reader *r, const ynode *n) {
    if (!n || !r->d->loaded) return r->d;
    int id = (int)(n - r->d->doc.nodes.start) + 1;
    // A later override's nodes have higher ids; ranges never overlap.
    for (int i = 0; i < r->n_origins; i++)
        if (id >= r->origins[i].first && id <= r->origins[i].last) return &r->origins[i].view;
    return r->d;
}

int cfg_fail(cfg_reader *r, const ynode *n, const char *path, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ynode_fail(cfg_doc(r, n), n, path, r->err, "%s", msg);
}

int cfg_is_null(const ynode *n) {
    if (!n) return 1;
    if (!ynode_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *s = ynode_scalar(n);
    return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

ynode *cfg_get(cfg_reader *r, ynode *map, const char *key) {
    ynode *n = ynode_get(r->d, map, key);
    return cfg_is_null(n) ? NULL : n;
}

void cfg_path(char *out, size_t cap, const char *section, const char *key) {
    if (section && section[0])
        snprintf(out, cap, "%s.%s", section, key);
    else
        snprintf(out, cap, "%s", key);
}

static const char *kind_of(const ynode *n) {
    if (ynode_is_map(n)) return "a mapping";
    if (ynode_is_seq(n)) return "a sequence";
    return "a scalar";
}

// Like ynode_check_keys, but each key is reported against the document it came from:
// an override may add a key to a mapping written in the file.
int cfg_check_keys(cfg_reader *r, ynode *n, const char *path, const char *const *allowed) {
    if (!ynode_is_map(n)) return cfg_fail(r, n, path, "expected a mapping, got %s", kind_of(n));
    size_t len = ynode_len(n);
    for (size_t i = 0; i < len; i++) {
        ynode *kn = ynode_map_key(r->d, n, i);
        const char *k = ynode_scalar(kn);
        if (!k) return cfg_fail(r, kn, path, "keys must be plain strings");
        char kpath[512];
        cfg_path(kpath, sizeof kpath, path, k);
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp(*a, k)) ok = 1;
        if (!ok) {
            char list[512] = "";
            size_t off = 0;
            for (const char *const *a = allowed; *a && off < sizeof list; a++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", a == allowed ? "" : ", ", *a);
            return cfg_fail(r, kn, kpath, "unknown key (expected one of: %s)", list);
        }
        for (size_t j = 0; j < i; j++) {
            const char *kj = ynode_scalar(ynode_map_key(r->d, n, j));
            if (kj && !strcmp(kj, k)) return cfg_fail(r, kn, kpath, "duplicate key");
        }
    }
    return 0;
}

int cfg_expect_seq(cfg_reader *r, ynode *n, const char *path) {
    if (!ynode_is_seq(n)) return cfg_fail(r, n, path, "expected a list, got %s", kind_of(n));
    return 0;
}

int cfg_long(cfg_reader *r, ynode *map, const char *section, const char *key, long lo, long hi, long *out) {
    ynode *n = cfg_get(r, map, key);
    if (!n) return 0;
    char path[512];
    cfg_path(path, sizeof path, section, key);
    return ynode_as_long(cfg_doc(r, n), n, path, lo, hi, out, r->err);
}

int cfg_int(cfg_reader *r, ynode *map, const char *section, const char *key, long lo, long hi, int *out) {
    long v = *out;
    if (cfg_long(r, map, section, key, lo, hi, &v)) return -1;
    *out = (int)v;  // lo and hi are within int range at every call
    return 0;
}

int cfg_double(cfg_reader *r, ynode *map, const char *section, const char *key, double lo, double hi,
               double *out) {
    ynode *n = cfg_get(r, map, key);
    if (!n) return 0;
    char path[512];
    cfg_path(path, sizeof path, section, key);
    return ynode_as_double(cfg_doc(r, n), n, path, lo, hi, out, r->err);
}

int cfg_bool(cfg_reader *r, ynode *map, const char *section, const char *key, int *out) {
    ynode *n = cfg_get(r, map, key);
    if (!n) return 0;
    char path[512];
    cfg_path(path, sizeof path, section, key);
    return ynode_as_bool(cfg_doc(r, n), n, path, out, r->err);
}

int cfg_string_node(cfg_reader *r, ynode *n, const char *path, char *out, size_t cap) {
    const char *s;
    if (ynode_as_string(cfg_doc(r, n), n, path, &s, r->err)) return -1;
    if (!s[0]) return cfg_fail(r, n, path, "expected a non-empty string");
    if (strlen(s) >= cap) return cfg_fail(r, n, path, "longer than %zu characters", cap - 1);
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int cfg_string(cfg_reader *r, ynode *map, const char *section, const char *key, char *out, size_t cap) {
    ynode *n = cfg_get(r, map, key);
    if (!n) return 0;
    char path[512];
    cfg_path(path, sizeof path, section, key);
    return cfg_string_node(r, n, path, out, cap);
}

int cfg_choice_node(cfg_reader *r, ynode *n, const char *path, const char *const *names, int count, int *out) {
    const char *s;
    if (ynode_as_string(cfg_doc(r, n), n, path, &s, r->err)) return -1;
    for (int i = 0; i < count; i++)
        if (names[i] && !strcmp(names[i], s)) {
            *out = i;
            return 0;
        }
    char list[512] = "";
    size_t off = 0;
    for (int i = 0; i < count && off < sizeof list; i++)
        if (names[i]) off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", names[i]);
    return cfg_fail(r, n, path, "unknown name '%s' (expected one of: %s)", s, list);
}

int cfg_choice(cfg_reader *r, ynode *map, const char *section, const char *key, const char *const *names,
               int count, int *out) {
    ynode *n = cfg_get(r, map, key);
    if (!n) return 0;
    char path[512];
    cfg_path(path, sizeof path, section, key);
    return cfg_choice_node(r, n, path, names, count, out);
}
