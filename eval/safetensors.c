#include "eval/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/json.h"
#include "common/ydoc.h"

// Tensor bytes are little-endian and copied as they lie in memory.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "eval/safetensors.c copies little-endian tensor bytes directly; add byte swapping for this host"
#endif

static const struct {
    const char *name;
    size_t size;
} dtypes[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},   [ST_F8_E5M2] = {"F8_E5M2", 1},
    [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_I16] = {"I16", 2}, [ST_U16] = {"U16", 2}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4}, [ST_U32] = {"U32", 4}, [ST_F32] = {"F32", 4},
    [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8}, [ST_U64] = {"U64", 8},
};

const char *st_dtype_name(st_dtype t) { return t >= 0 && t < ST_DTYPE_COUNT ? dtypes[t].name : "?"; }
size_t st_dtype_size(st_dtype t) { return t >= 0 && t < ST_DTYPE_COUNT ? dtypes[t].size : 0; }

int st_dtype_from_name(const char *name, st_dtype *out) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (!strcmp(name, dtypes[i].name)) {
            *out = (st_dtype)i;
            return 0;
        }
    return -1;
}

uint16_t st_f32_to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                             // round to nearest even
    return (uint16_t)(u >> 16);
}

float st_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

float st_f16_to_f32(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float v;
    if (exp == 0) v = ldexpf((float)man, -24);  // zero and subnormals
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexpf((float)(man | 0x400), exp - 25);
    return sign ? -v : v;
}

// Product of the dims, failing (returning -1) past 2^53 elements.
static int shape_numel(int ndim, const int64_t *shape, uint64_t *out) {
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] && n > (1ull << 53) / (uint64_t)shape[i]) return -1;
        n *= (uint64_t)shape[i];
    }
    *out = n;
    return 0;
}

// ---------------------------------------------------------------- writer

typedef struct st_entry {
    char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    unsigned char *bytes;
    size_t nbytes;
} st_entry;

struct st_writer {
    st_entry *t;
    int n, cap;
    char **mkey, **mval;
    int nm, mcap;
};

st_writer *st_writer_create(void) { return star_calloc(1, sizeof(st_writer)); }

void st_writer_free(st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].bytes);
    }
    for (int i = 0; i < w->nm; i++) {
        free(w->mkey[i]);
        free(w->mval[i]);
    }
    free(w->t);
    free(w->mkey);
    free(w->mval);
    free(w);
}

int st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim, const int64_t *shape, const float *data,
                  star_error *err) {
    if (!name || !name[0]) return STAR_FAIL(err, "safetensors: a tensor needs a non-empty name");
    if (!strcmp(name, "__metadata__")) return STAR_FAIL(err, "safetensors: '__metadata__' is reserved, not a tensor name");
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name)) return STAR_FAIL(err, "safetensors: tensor '%s' added twice", name);
    if (dtype != ST_F32 && dtype != ST_BF16)
        return STAR_FAIL(err, "safetensors: tensor '%s': can write F32 or BF16 from float, not %s", name,
                         st_dtype_name(dtype));
    if (ndim < 0 || ndim > ST_MAX_DIMS)
        return STAR_FAIL(err, "safetensors: tensor '%s': ndim %d outside [0, %d]", name, ndim, ST_MAX_DIMS);
    uint64_t numel;
    if (shape_numel(ndim, shape, &numel) != 0)
        return STAR_FAIL(err, "safetensors: tensor '%s': a dimension is negative or the size overflows", name);
    if (numel && !data) return STAR_FAIL(err, "safetensors: tensor '%s': no data", name);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->t = star_realloc(w->t, (size_t)w->cap * sizeof *w->t);
    }
    st_entry *e = &w->t[w->n++];
    memset(e, 0, sizeof *e);
    e->name = star_strdup(name);
    e->dtype = dtype;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->nbytes = (size_t)numel * st_dtype_size(dtype);
    e->bytes = star_malloc(e->nbytes ? e->nbytes : 1);
    if (dtype == ST_F32) {
        if (numel) memcpy(e->bytes, data, e->nbytes);
    } else {
        for (uint64_t i = 0; i < numel; i++) {
            uint16_t h = st_f32_to_bf16(data[i]);
            e->bytes[2 * i] = (unsigned char)(h & 0xff);
            e->bytes[2 * i + 1] = (unsigned char)(h >> 8);
        }
    }
    return 0;
}

int st_writer_add_metadata(st_writer *w, const char *key, const char *value, star_error *err) {
    if (!key || !value) return STAR_FAIL(err, "safetensors: metadata needs a key and a value");
    for (int i = 0; i < w->nm; i++)
        if (!strcmp(w->mkey[i], key)) return STAR_FAIL(err, "safetensors: metadata key '%s' added twice", key);
    if (w->nm == w->mcap) {
        w->mcap = w->mcap ? 2 * w->mcap : 8;
        w->mkey = star_realloc(w->mkey, (size_t)w->mcap * sizeof *w->mkey);
        w->mval = star_realloc(w->mval, (size_t)w->mcap * sizeof *w->mval);
    }
    w->mkey[w->nm] = star_strdup(key);
    w->mval[w->nm++] = star_strdup(value);
    return 0;
}

int st_writer_write(const st_writer *w, const char *path, star_error *err) {
    json_writer j;
    jw_init(&j);
    jw_obj_begin(&j);
    if (w->nm) {
        jw_key(&j, "__metadata__");
        jw_obj_begin(&j);
        for (int i = 0; i < w->nm; i++) jw_kv_str(&j, w->mkey[i], w->mval[i]);
        jw_obj_end(&j);
    }
    uint64_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const st_entry *e = &w->t[i];
        jw_key(&j, e->name);
        jw_obj_begin(&j);
        jw_kv_str(&j, "dtype", st_dtype_name(e->dtype));
        jw_key(&j, "shape");
        jw_arr_begin(&j);
        for (int d = 0; d < e->ndim; d++) jw_int(&j, e->shape[d]);
        jw_arr_end(&j);
        jw_key(&j, "data_offsets");
        jw_arr_begin(&j);
        jw_int(&j, (int64_t)off);
        jw_int(&j, (int64_t)(off + e->nbytes));
        jw_arr_end(&j);
        jw_obj_end(&j);
        off += e->nbytes;
    }
    jw_obj_end(&j);
    size_t hlen = (j.len + 7) / 8 * 8;  // spaces pad the header so the data starts 8-aligned
    if (hlen > ST_MAX_HEADER) {
        jw_free(&j);
        return STAR_FAIL(err, "%s: the safetensors header would be %zu bytes, over the %u limit", path, hlen,
                         ST_MAX_HEADER);
    }
    size_t total = 8 + hlen + (size_t)off;
    unsigned char *buf = star_malloc(total);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, j.buf, j.len);
    memset(buf + 8 + j.len, ' ', hlen - j.len);
    jw_free(&j);
    size_t pos = 8 + hlen;
    for (int i = 0; i < w->n; i++) {
        if (w->t[i].nbytes) memcpy(buf + pos, w->t[i].bytes, w->t[i].nbytes);
        pos += w->t[i].nbytes;
    }
    int rc = file_write_atomic(path, buf, total, err);
    free(buf);
    return rc;
}
