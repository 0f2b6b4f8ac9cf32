#include "common/ydoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int load_parser(ydoc *d, yaml_parser_t *p, star_error *err) {
    memset(&d->doc, 0, sizeof d->doc);
    if (!yaml_parser_load(p, &d->doc)) {
        int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
        STAR_FAIL(err, "%s:%d:%d: YAML syntax error: %s%s%s", d->name, line, col,
                  p->problem ? p->problem : "unknown problem", p->context ? " " : "",
                  p->context ? p->context : "");
        yaml_parser_delete(p);
        return -1;
    }
    yaml_parser_delete(p);
    d->loaded = 1;
    return 0;
}

int ydoc_load_file(ydoc *d, const char *path, star_error *err) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) return STAR_FAIL(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return STAR_FAIL(err, "%s: is a directory, not a file", path);
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return STAR_FAIL(err, "%s: cannot initialize the YAML parser", path);
    }
    yaml_parser_set_input_file(&p, f);
    int rc = load_parser(d, &p, err);
    fclose(f);
    return rc;
}

int ydoc_load_string(ydoc *d, const char *text, size_t len, const char *name, star_error *err) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return STAR_FAIL(err, "%s: cannot initialize the YAML parser", name);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    return load_parser(d, &p, err);
}

void ydoc_free(ydoc *d) {
    if (d->loaded) yaml_document_delete(&d->doc);
    d->loaded = 0;
}

ynode *ydoc_root(ydoc *d) { return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL; }

int ynode_is_map(const ynode *n) { return n && n->type == YAML_MAPPING_NODE; }
int ynode_is_seq(const ynode *n) { return n && n->type == YAML_SEQUENCE_NODE; }
int ynode_is_scalar(const ynode *n) { return n && n->type == YAML_SCALAR_NODE; }

size_t ynode_len(const ynode *n) {
    if (ynode_is_map(n)) return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (ynode_is_seq(n)) return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

ynode *ynode_map_key(ydoc *d, ynode *map, size_t i) {
    return yaml_document_get_node(&d->doc, map->data.mapping.pairs.start[i].key);
}

ynode *ynode_map_value(ydoc *d, ynode *map, size_t i) {
    return yaml_document_get_node(&d->doc, map->data.mapping.pairs.start[i].value);
}

ynode *ynode_seq_item(ydoc *d, ynode *seq, size_t i) {
    return yaml_document_get_node(&d->doc, seq->data.sequence.items.start[i]);
}

const char *ynode_scalar(const ynode *n) {
    return ynode_is_scalar(n) ? (const char *)n->data.scalar.value : NULL;
}

int ynode_line(const ynode *n) { return n ? (int)n->start_mark.line + 1 : 0; }
int ynode_col(const ynode *n) { return n ? (int)n->start_mark.column + 1 : 0; }

ynode *ynode_get(ydoc *d, ynode *map, const char *key) {
    if (!ynode_is_map(map)) return NULL;
    size_t n = ynode_len(map);
    for (size_t i = 0; i < n; i++) {
        const char *k = ynode_scalar(ynode_map_key(d, map, i));
        if (k && strcmp(k, key) == 0) return ynode_map_value(d, map, i);
    }
    return NULL;
}

int ynode_fail(ydoc *d, const ynode *n, const char *keypath, star_error *err, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        return STAR_FAIL(err, "%s:%d:%d: %s: %s", d->name, ynode_line(n), ynode_col(n),
                         keypath && keypath[0] ? keypath : "(root)", msg);
    return STAR_FAIL(err, "%s: %s: %s", d->name, keypath && keypath[0] ? keypath : "(root)", msg);
}

static const char *scalar_or_kind(const ynode *n) {
    if (ynode_is_map(n)) return "a mapping";
    if (ynode_is_seq(n)) return "a sequence";
    return "nothing";
}

int ynode_as_long(ydoc *d, const ynode *n, const char *keypath, long lo, long hi, long *out, star_error *err) {
    const char *s = ynode_scalar(n);
    if (!s) return ynode_fail(d, n, keypath, err, "expected an integer, got %s", scalar_or_kind(n));
    char *end;
    errno = 0;
    double v = strtod(s, &end);  // accepts 1e6 and 150e6 as integers when exact
    if (end == s || *end != '\0' || errno || v != floor(v) || fabs(v) > 9.0e15)
        return ynode_fail(d, n, keypath, err, "expected an integer, got '%s'", s);
    if (v < (double)lo || v > (double)hi)
        return ynode_fail(d, n, keypath, err, "expected an integer in [%ld, %ld], got %s", lo, hi, s);
    *out = (long)v;
    return 0;
}

int ynode_as_double(ydoc *d, const ynode *n, const char *keypath, double lo, double hi, double *out,
                    star_error *err) {
    const char *s = ynode_scalar(n);
    if (!s) return ynode_fail(d, n, keypath, err, "expected a number, got %s", scalar_or_kind(n));
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v))
        return ynode_fail(d, n, keypath, err, "expected a number, got '%s'", s);
    if (v < lo || v > hi) return ynode_fail(d, n, keypath, err, "expected a number in [%g, %g], got %s", lo, hi, s);
    *out = v;
    return 0;
}

int ynode_as_bool(ydoc *d, const ynode *n, const char *keypath, int *out, star_error *err) {
    const char *s = ynode_scalar(n);
    if (!s) return ynode_fail(d, n, keypath, err, "expected true or false, got %s", scalar_or_kind(n));
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = 0;
        return 0;
    }
    return ynode_fail(d, n, keypath, err, "expected true or false, got '%s'", s);
}

int ynode_as_string(ydoc *d, const ynode *n, const char *keypath, const char **out, star_error *err) {
    const char *s = ynode_scalar(n);
    if (!s) return ynode_fail(d, n, keypath, err, "expected a string, got %s", scalar_or_kind(n));
    *out = s;
    return 0;
}

int ynode_check_keys(ydoc *d, ynode *map, const char *keypath, const char *const *allowed, star_error *err) {
    if (!ynode_is_map(map)) return ynode_fail(d, map, keypath, err, "expected a mapping, got %s",
                                              ynode_is_seq(map) ? "a sequence" : "a scalar");
    size_t n = ynode_len(map);
    for (size_t i = 0; i < n; i++) {
        ynode *kn = ynode_map_key(d, map, i);
        const char *k = ynode_scalar(kn);
        if (!k) return ynode_fail(d, kn, keypath, err, "keys must be plain strings");
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp(*a, k)) ok = 1;
        for (size_t j = 0; j < i && ok; j++) {
            const char *kj = ynode_scalar(ynode_map_key(d, map, j));
            if (kj && !strcmp(kj, k)) {
                char path[512];
                snprintf(path, sizeof path, "%s%s%s", keypath && keypath[0] ? keypath : "", keypath && keypath[0] ? "." : "", k);
                return ynode_fail(d, kn, path, err, "duplicate key");
            }
        }
        if (!ok) {
            char list[512] = "";
            size_t off = 0;
            for (const char *const *a = allowed; *a && off < sizeof list - 2; a++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", a == allowed ? "" : ", ", *a);
            char path[512];
            snprintf(path, sizeof path, "%s%s%s", keypath && keypath[0] ? keypath : "", keypath && keypath[0] ? "." : "", k);
            return ynode_fail(d, kn, path, err, "unknown key (expected one of: %s)", list);
        }
    }
    return 0;
}
