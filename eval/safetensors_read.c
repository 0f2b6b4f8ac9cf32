// star: the safetensors reader. The file is untrusted: nothing in the header is used
// before it is checked, and every failure names the file (and, for header entries,
// the line:column and key that libyaml reports).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ydoc.h"
#include "eval/safetensors.h"

struct st_file {
    char path[1024];
    int fd;
    uint64_t data_start, data_len;  // the data buffer: file bytes [data_start, data_start + data_len)
    st_tensor_info *t;
    int n;
    char **mkey, **mval;
    int nm;
};

static int pread_fully(int fd, void *buf, size_t n, uint64_t off) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

// JSON strings are double-quoted scalars; JSON numbers are plain ones.
static int json_string(ydoc *d, ynode *n, const char *key, const char **out, star_error *err) {
    if (!ynode_is_scalar(n) || n->data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        return ynode_fail(d, n, key, err, "expected a JSON string");
    *out = ynode_scalar(n);
    return 0;
}

static int json_uint(ydoc *d, ynode *n, const char *key, long *out, star_error *err) {
    if (!ynode_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return ynode_fail(d, n, key, err, "expected a non-negative integer");
    return ynode_as_long(d, n, key, 0, (1L << 53), out, err);
}

static int parse_metadata(st_file *f, ydoc *d, ynode *m, star_error *err) {
    if (!ynode_is_map(m)) return ynode_fail(d, m, "__metadata__", err, "expected an object of strings");
    size_t n = ynode_len(m);
    f->mkey = star_calloc(n ? n : 1, sizeof *f->mkey);
    f->mval = star_calloc(n ? n : 1, sizeof *f->mval);
    for (size_t i = 0; i < n; i++) {
        const char *k = NULL, *v = NULL;
        if (json_string(d, ynode_map_key(d, m, i), "__metadata__", &k, err) != 0) return -1;
        char path[600];
        snprintf(path, sizeof path, "__metadata__.%s", k);
        if (json_string(d, ynode_map_value(d, m, i), path, &v, err) != 0) return -1;
        for (int j = 0; j < f->nm; j++)
            if (!strcmp(f->mkey[j], k)) return ynode_fail(d, ynode_map_key(d, m, i), path, err, "duplicate key");
        f->mkey[f->nm] = star_strdup(k);
        f->mval[f->nm++] = star_strdup(v);
    }
    return 0;
}

static int parse_tensor(st_file *f, ydoc *d, ynode *val, const char *name, star_error *err) {
    static const char *const allowed[] = {"dtype", "shape", "data_offsets", NULL};
    if (!ynode_is_map(val)) return ynode_fail(d, val, name, err, "expected an object with dtype, shape, data_offsets");
    if (ynode_check_keys(d, val, name, allowed, err) != 0) return -1;
    char path[600];
    st_tensor_info *t = &f->t[f->n];
    memset(t, 0, sizeof *t);
    for (int i = 0; allowed[i]; i++)
        if (!ynode_get(d, val, allowed[i])) return ynode_fail(d, val, name, err, "missing '%s'", allowed[i]);

    snprintf(path, sizeof path, "%s.dtype", name);
    ynode *dn = ynode_get(d, val, "dtype");
    const char *dt = NULL;
    if (json_string(d, dn, path, &dt, err) != 0) return -1;
    if (st_dtype_from_name(dt, &t->dtype) != 0) return ynode_fail(d, dn, path, err, "unknown dtype '%s'", dt);

    snprintf(path, sizeof path, "%s.shape", name);
    ynode *sn = ynode_get(d, val, "shape");
    if (!ynode_is_seq(sn)) return ynode_fail(d, sn, path, err, "expected an array of dimensions");
    if (ynode_len(sn) > ST_MAX_DIMS)
        return ynode_fail(d, sn, path, err, "%zu dimensions, more than the %d supported", ynode_len(sn), ST_MAX_DIMS);
    t->ndim = (int)ynode_len(sn);
    t->numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        long v;
        if (json_uint(d, ynode_seq_item(d, sn, (size_t)i), path, &v, err) != 0) return -1;
        t->shape[i] = v;
        if (v && t->numel > (1ull << 53) / (uint64_t)v) return ynode_fail(d, sn, path, err, "the size overflows");
        t->numel *= (uint64_t)v;
    }

    snprintf(path, sizeof path, "%s.data_offsets", name);
    ynode *on = ynode_get(d, val, "data_offsets");
    if (!ynode_is_seq(on) || ynode_len(on) != 2) return ynode_fail(d, on, path, err, "expected [begin, end]");
    long b, e;
    if (json_uint(d, ynode_seq_item(d, on, 0), path, &b, err) != 0 ||
        json_uint(d, ynode_seq_item(d, on, 1), path, &e, err) != 0)
        return -1;
    if (b > e) return ynode_fail(d, on, path, err, "begin %ld is after end %ld", b, e);
    if ((uint64_t)e > f->data_len)
        return ynode_fail(d, on, path, err, "end %ld is past the %llu data bytes of the file", e,
                          (unsigned long long)f->data_len);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    uint64_t want = t->numel * st_dtype_size(t->dtype);
    if (want != t->end - t->begin)
        return ynode_fail(d, on, path, err, "%llu bytes, but shape and dtype %s need %llu",
                          (unsigned long long)(t->end - t->begin), dt, (unsigned long long)want);
    t->name = star_strdup(name);
    f->n++;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const st_tensor_info *const *)a)->name, (*(const st_tensor_info *const *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const st_tensor_info *x = *(const st_tensor_info *const *)a, *y = *(const st_tensor_info *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

// Names unique; the tensors tile [0, data_len) in offset order without gaps or overlaps.
static int check_layout(st_file *f, star_error *err) {
    const st_tensor_info **ix = star_malloc((size_t)(f->n ? f->n : 1) * sizeof *ix);
    for (int i = 0; i < f->n; i++) ix[i] = &f->t[i];
    qsort(ix, (size_t)f->n, sizeof *ix, by_name);
    for (int i = 1; i < f->n; i++)
        if (!strcmp(ix[i]->name, ix[i - 1]->name)) {
            STAR_FAIL(err, "%s: tensor '%s' appears twice in the header", f->path, ix[i]->name);
            free(ix);
            return -1;
        }
    qsort(ix, (size_t)f->n, sizeof *ix, by_offset);
    uint64_t at = 0;
    for (int i = 0; i < f->n; i++) {
        const st_tensor_info *t = ix[i];
        if (t->begin != at) {
            STAR_FAIL(err, "%s: tensor '%s' starts at data byte %llu, expected %llu (%s)", f->path, t->name,
                      (unsigned long long)t->begin, (unsigned long long)at,
                      t->begin > at ? "a gap before it" : "it overlaps the previous tensor");
            free(ix);
            return -1;
        }
        at = t->end;
    }
    free(ix);
    if (at != f->data_len)
        return STAR_FAIL(err, "%s: the tensors cover %llu data bytes but the file holds %llu after the header", f->path,
                         (unsigned long long)at, (unsigned long long)f->data_len);
    return 0;
}

static int parse_header(st_file *f, const char *text, size_t len, star_error *err) {
    if (len == 0 || text[0] != '{') return STAR_FAIL(err, "%s: the safetensors header is not a JSON object", f->path);
    ydoc d;
    if (ydoc_load_string(&d, text, len, f->path, err) != 0) return -1;
    ynode *root = ydoc_root(&d);
    int rc = 0;
    if (!ynode_is_map(root)) {
        rc = STAR_FAIL(err, "%s: the safetensors header is not a JSON object", f->path);
    } else {
        size_t n = ynode_len(root);
        f->t = star_calloc(n ? n : 1, sizeof *f->t);
        for (size_t i = 0; i < n && rc == 0; i++) {
            ynode *k = ynode_map_key(&d, root, i), *v = ynode_map_value(&d, root, i);
            const char *name = NULL;
            rc = json_string(&d, k, "(header)", &name, err);
            if (rc == 0 && !strcmp(name, "__metadata__")) {
                rc = f->mkey ? ynode_fail(&d, k, name, err, "duplicate key") : parse_metadata(f, &d, v, err);
            } else if (rc == 0) {
                rc = parse_tensor(f, &d, v, name, err);
            }
        }
    }
    ydoc_free(&d);
    if (rc == 0) rc = check_layout(f, err);
    return rc;
}

int st_file_open(const char *path, st_file **out, star_error *err) {
    *out = NULL;
    st_file *f = star_calloc(1, sizeof *f);
    f->fd = -1;
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0) {
        STAR_FAIL(err, "%s: cannot open: %s", path, strerror(errno));
        st_file_close(f);
        return -1;
    }
    struct stat st;
    unsigned char len8[8];
    int rc = 0;
    if (fstat(f->fd, &st) != 0) {
        rc = STAR_FAIL(err, "%s: cannot stat: %s", path, strerror(errno));
    } else if ((uint64_t)st.st_size < 8 || pread_fully(f->fd, len8, 8, 0) != 0) {
        rc = STAR_FAIL(err, "%s: %lld bytes is too short for a safetensors file (8-byte header length)", path,
                       (long long)st.st_size);
    }
    uint64_t hlen = 0, size = (uint64_t)st.st_size;
    if (rc == 0) {
        for (int i = 0; i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
        if (hlen == 0 || hlen > ST_MAX_HEADER)
            rc = STAR_FAIL(err, "%s: header length %llu is outside [1, %u]", path, (unsigned long long)hlen,
                           ST_MAX_HEADER);
        else if (hlen > size - 8)
            rc = STAR_FAIL(err, "%s: header length %llu exceeds the %llu bytes after the length field", path,
                           (unsigned long long)hlen, (unsigned long long)(size - 8));
    }
    if (rc == 0) {
        char *text = star_malloc((size_t)hlen + 1);
        if (pread_fully(f->fd, text, (size_t)hlen, 8) != 0) {
            rc = STAR_FAIL(err, "%s: cannot read the %llu-byte header", path, (unsigned long long)hlen);
        } else {
            text[hlen] = '\0';
            f->data_start = 8 + hlen;
            f->data_len = size - 8 - hlen;
            rc = parse_header(f, text, (size_t)hlen, err);
        }
        free(text);
    }
    if (rc != 0) {
        st_file_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

void st_file_close(st_file *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    for (int i = 0; i < f->nm; i++) {
        free(f->mkey[i]);
        free(f->mval[i]);
    }
    free(f->t);
    free(f->mkey);
    free(f->mval);
    free(f);
}

int st_file_count(const st_file *f) { return f->n; }
const st_tensor_info *st_file_tensor(const st_file *f, int i) { return i >= 0 && i < f->n ? &f->t[i] : NULL; }

const st_tensor_info *st_file_find(const st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

int st_file_metadata_count(const st_file *f) { return f->nm; }
const char *st_file_metadata_key(const st_file *f, int i) { return i >= 0 && i < f->nm ? f->mkey[i] : NULL; }

const char *st_file_metadata(const st_file *f, const char *key) {
    for (int i = 0; i < f->nm; i++)
        if (!strcmp(f->mkey[i], key)) return f->mval[i];
    return NULL;
}

int st_file_read_f32(st_file *f, const char *name, float *out, size_t n, star_error *err) {
    const st_tensor_info *t = st_file_find(f, name);
    if (!t) return STAR_FAIL(err, "%s: no tensor named '%s'", f->path, name);
    if (n != t->numel)
        return STAR_FAIL(err, "%s: tensor '%s' has %llu elements, the caller expects %zu", f->path, name,
                         (unsigned long long)t->numel, n);
    if (t->dtype != ST_F32 && t->dtype != ST_BF16 && t->dtype != ST_F16 && t->dtype != ST_F64)
        return STAR_FAIL(err, "%s: tensor '%s' is %s; only F32, BF16, F16 and F64 read as float", f->path, name,
                         st_dtype_name(t->dtype));
    size_t bytes = (size_t)(t->end - t->begin);
    if (bytes == 0) return 0;
    unsigned char *raw = t->dtype == ST_F32 ? (unsigned char *)out : star_malloc(bytes);
    if (pread_fully(f->fd, raw, bytes, f->data_start + t->begin) != 0) {
        if (raw != (unsigned char *)out) free(raw);
        return STAR_FAIL(err, "%s: cannot read tensor '%s' (%zu bytes at %llu)", f->path, name, bytes,
                         (unsigned long long)(f->data_start + t->begin));
    }
    if (t->dtype == ST_F32) return 0;
    for (size_t i = 0; i < n; i++) {
        if (t->dtype == ST_F64) {
            double v;
            memcpy(&v, raw + 8 * i, 8);
            out[i] = (float)v;
        } else {
            uint16_t h = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
            out[i] = t->dtype == ST_BF16 ? st_bf16_to_f32(h) : st_f16_to_f32(h);
        }
    }
    free(raw);
    return 0;
}
