#include "eval/data_bin.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file.h"
#include "eval/data_split.h"
#include "eval/train.h"

// Shards are little-endian and mapped as they lie on disk.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "eval/data_bin.c maps little-endian uint16 tokens directly; add byte swapping for this host"
#endif

#define HEADER_BYTES (BIN_HEADER_INTS * 4)

static int32_t le_i32(const unsigned char *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int shard_open(bin_shard *s, const char *path, int vocab, int scan, star_error *err) {
    memset(s, 0, sizeof *s);
    if (snprintf(s->path, sizeof s->path, "%s", path) >= (int)sizeof s->path)
        return STAR_FAIL(err, "%s: path too long", path);
    struct stat st;
    if (stat(path, &st) != 0) return STAR_FAIL(err, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return STAR_FAIL(err, "%s: not a regular file (a .bin token shard is expected)", path);
    if (file_view_open(&s->file, path, err) != 0) return -1;
    uint64_t size = s->file.len;
    if (size < HEADER_BYTES) {
        file_view_close(&s->file);
        return STAR_FAIL(err, "%s: %llu bytes is shorter than the %d-byte header of a .bin token shard", path,
                         (unsigned long long)size, HEADER_BYTES);
    }
    const unsigned char *header = s->file.data;
    int32_t magic = le_i32(header), version = le_i32(header + 4), ntok = le_i32(header + 8);
    const char *fail = NULL;
    char why[256];
    if (magic != BIN_MAGIC) {
        snprintf(why, sizeof why, "wrong magic %d (expected %d: an llm.c uint16 token shard)", magic, BIN_MAGIC);
        fail = why;
    } else if (version != BIN_VERSION) {
        snprintf(why, sizeof why, "unsupported version %d (expected %d: uint16 tokens)", version, BIN_VERSION);
        fail = why;
    } else if (ntok < 0) {
        snprintf(why, sizeof why, "negative token count %d in the header", ntok);
        fail = why;
    } else if (size < HEADER_BYTES + 2 * (uint64_t)ntok) {
        snprintf(why, sizeof why, "truncated: the header says %d tokens but the file holds %llu", ntok,
                 (unsigned long long)((size - HEADER_BYTES) / 2));
        fail = why;
    } else if (size > HEADER_BYTES + 2 * (uint64_t)ntok) {
        snprintf(why, sizeof why, "%llu bytes follow the %d tokens the header announces",
                 (unsigned long long)(size - HEADER_BYTES - 2 * (uint64_t)ntok), ntok);
        fail = why;
    }
    if (fail) {
        file_view_close(&s->file);
        return STAR_FAIL(err, "%s: %s", path, fail);
    }
    s->tokens = (const uint16_t *)(s->file.data + HEADER_BYTES);
    s->n = (uint64_t)ntok;
    for (uint64_t i = 0; scan && i < s->n; i++) {
        if (s->tokens[i] >= vocab) {
            STAR_FAIL(err, "%s: token %u at position %llu is >= the vocabulary size %d", path, s->tokens[i],
                      (unsigned long long)i, vocab);
            file_view_close(&s->file);
            return -1;
        }
    }
    return 0;
}

static int has_glob_chars(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// The matching paths, sorted bytewise (not by locale) so the split is the same anywhere.
static int match_paths(const char *pattern, char ***out, int *n, star_error *err) {
    if (!has_glob_chars(pattern)) {
        *out = star_malloc(sizeof **out);
        (*out)[0] = star_strdup(pattern);
        *n = 1;
        return 0;
    }
    glob_t g;
    int rc = glob(pattern, GLOB_ERR, NULL, &g);
    if (rc == GLOB_NOMATCH) return STAR_FAIL(err, "%s: no file matches the pattern", pattern);
    if (rc != 0) {
        globfree(&g);
        return STAR_FAIL(err, "%s: cannot expand the pattern (%s)", pattern,
                         rc == GLOB_ABORTED ? "read error" : "out of memory");
    }
    *out = star_malloc(g.gl_pathc * sizeof **out);
    for (size_t i = 0; i < g.gl_pathc; i++) (*out)[i] = star_strdup(g.gl_pathv[i]);
    *n = (int)g.gl_pathc;
    globfree(&g);
    qsort(*out, (size_t)*n, sizeof **out, cmp_str);
    return 0;
}

static int span_check(const bin_data *d, const bin_span *s, const char *what, star_error *err) {
    if (s->n < (uint64_t)d->seq_len + 1)
        return STAR_FAIL(err, "%s: %s has %llu tokens, fewer than seq_len + 1 = %d", d->shards[s->shard].path, what,
                         (unsigned long long)s->n, d->seq_len + 1);
    return 0;
}

int bin_data_open(bin_data *d, const char *pattern, int vocab, int seq_len, uint64_t seed, star_error *err) {
    return bin_data_open_scan(d, pattern, vocab, seq_len, seed, 1, err);
}

int bin_data_open_scan(bin_data *d, const char *pattern, int vocab, int seq_len, uint64_t seed, int scan,
                       star_error *err) {
    memset(d, 0, sizeof *d);
    if (seq_len < 1) return STAR_FAIL(err, "%s: seq_len must be >= 1, got %d", pattern, seq_len);
    if (vocab < 1 || vocab > 65536) return STAR_FAIL(err, "%s: vocab must be in [1, 65536], got %d", pattern, vocab);
    snprintf(d->pattern, sizeof d->pattern, "%s", pattern);
    d->vocab = vocab;
    d->seq_len = seq_len;
    d->rng = pcg32_derive(seed, 0x62696eu);  // "bin"
    char **paths = NULL;
    int n = 0;
    if (match_paths(pattern, &paths, &n, err) != 0) return -1;
    d->shards = star_calloc((size_t)n, sizeof *d->shards);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = shard_open(&d->shards[i], paths[i], vocab, scan, err);
        if (rc == 0) d->n_shards++;
    }
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    if (rc != 0) {
        bin_data_free(d);
        return -1;
    }
    d->train = star_calloc((size_t)(n > 1 ? n - 1 : 1), sizeof *d->train);
    if (n == 1) {
        const bin_shard *s = &d->shards[0];
        uint64_t valid = data_split_valid_len(s->n, seq_len);
        if (valid == 0) {
            STAR_FAIL(err,
                      "%s: %llu tokens is too short for seq_len %d: a single shard is split into training and "
                      "validation, each needing seq_len + 1 = %d tokens",
                      s->path, (unsigned long long)s->n, seq_len, seq_len + 1);
            bin_data_free(d);
            return -1;
        }
        d->train[0] = (bin_span){s->tokens, s->n - valid, 0};
        d->n_train = 1;
        d->valid = (bin_span){s->tokens + (s->n - valid), valid, 0};
        return 0;
    }
    for (int i = 0; i < n - 1; i++) {
        d->train[i] = (bin_span){d->shards[i].tokens, d->shards[i].n, i};
        d->n_train++;
        if (span_check(d, &d->train[i], "training shard", err) != 0) {
            bin_data_free(d);
            return -1;
        }
    }
    d->valid = (bin_span){d->shards[n - 1].tokens, d->shards[n - 1].n, n - 1};
    if (span_check(d, &d->valid, "validation shard (the last one)", err) != 0) {
        bin_data_free(d);
        return -1;
    }
    return 0;
}

void bin_data_free(bin_data *d) {
    for (int i = 0; i < d->n_shards; i++)
        file_view_close(&d->shards[i].file);
    free(d->shards);
    free(d->train);
    memset(d, 0, sizeof *d);
}

static int check_T(const bin_data *d, const token_batch *b, star_error *err) {
    if (token_batch_check_shape(b, err) != 0) return -1;
    if (b->T > d->seq_len)
        return STAR_FAIL(err, "%s: batch T=%d exceeds the seq_len %d the data was opened for", d->pattern, b->T,
                         d->seq_len);
    return 0;
}

// Copies the window src[0 .. T] as inputs and targets; every token is checked against
// the vocabulary (an open without the scan relies on it): the error names the shard and
// the token's position in it.
static int copy_window(const bin_data *d, const bin_span *sp, uint64_t at, int T, int32_t *in, int32_t *tg,
                       star_error *err) {
    const uint16_t *src = sp->tokens + at;
    for (int t = 0; t <= T; t++)
        if (src[t] >= d->vocab) {
            const bin_shard *sh = &d->shards[sp->shard];
            return STAR_FAIL(err, "%s: token %u at position %llu is >= the vocabulary size %d", sh->path, src[t],
                             (unsigned long long)(src + t - sh->tokens), d->vocab);
        }
    for (int t = 0; t < T; t++) {
        in[t] = src[t];
        tg[t] = src[t + 1];
    }
    return 0;
}

int bin_data_train_batch(bin_data *d, token_batch *b, star_error *err) {
    if (check_T(d, b, err) != 0) return -1;
    uint64_t total = 0;  // window starts over all spans: each span has n - T
    for (int i = 0; i < d->n_train; i++) total += d->train[i].n - (uint64_t)b->T;
    for (int r = 0; r < b->B; r++) {
        uint64_t k = data_uniform_u64(&d->rng, total);
        int i = 0;
        while (k >= d->train[i].n - (uint64_t)b->T) k -= d->train[i++].n - (uint64_t)b->T;
        if (copy_window(d, &d->train[i], k, b->T, b->inputs + (size_t)r * b->T, b->targets + (size_t)r * b->T, err) !=
            0)
            return -1;
    }
    return 0;
}

uint64_t bin_data_valid_sequences(const bin_data *d, int T) {
    if (T > d->seq_len) return 0;
    return data_split_valid_sequences(d->valid.n, T);
}

int bin_data_valid_batch(const bin_data *d, uint64_t first, token_batch *b, star_error *err) {
    if (check_T(d, b, err) != 0) return -1;
    uint64_t count = bin_data_valid_sequences(d, b->T);
    if (first >= count)
        return STAR_FAIL(err, "%s: validation sequence %llu requested, but there are %llu of length %d", d->pattern,
                         (unsigned long long)first, (unsigned long long)count, b->T);
    for (int r = 0; r < b->B; r++) {
        int32_t *in = b->inputs + (size_t)r * b->T, *tg = b->targets + (size_t)r * b->T;
        uint64_t i = first + (uint64_t)r;
        if (i < count) {
            if (copy_window(d, &d->valid, i * (uint64_t)b->T, b->T, in, tg, err) != 0) return -1;
        } else {
            memset(in, 0, (size_t)b->T * sizeof *in);
            for (int t = 0; t < b->T; t++) tg[t] = TOKEN_UNSCORED;
        }
    }
    return 0;
}

int bin_shard_write(const char *path, const uint16_t *tokens, uint64_t n, star_error *err) {
    if (n > INT32_MAX) return STAR_FAIL(err, "%s: %llu tokens do not fit one shard", path, (unsigned long long)n);
    size_t bytes = HEADER_BYTES + 2 * (size_t)n;
    unsigned char *buf = star_calloc(bytes, 1);
    const int32_t head[3] = {BIN_MAGIC, BIN_VERSION, (int32_t)n};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++) buf[4 * i + k] = (unsigned char)((uint32_t)head[i] >> (8 * k));
    for (uint64_t i = 0; i < n; i++) {
        buf[HEADER_BYTES + 2 * i] = (unsigned char)(tokens[i] & 0xff);
        buf[HEADER_BYTES + 2 * i + 1] = (unsigned char)(tokens[i] >> 8);
    }
    int rc = file_write_atomic(path, buf, bytes, err);
    free(buf);
    return rc;
}

static int src_train(void *ctx, token_batch *b, star_error *err) { return bin_data_train_batch(ctx, b, err); }

static int src_val_count(void *ctx, int B, int T) {
    uint64_t n = bin_data_valid_sequences(ctx, T);
    uint64_t batches = B > 0 ? (n + (uint64_t)B - 1) / (uint64_t)B : 0;
    return batches > INT32_MAX ? INT32_MAX : (int)batches;
}

static int src_val_batch(void *ctx, int i, token_batch *b, star_error *err) {
    if (i < 0) return STAR_FAIL(err, "%s: validation batch %d is negative", ((bin_data *)ctx)->pattern, i);
    return bin_data_valid_batch(ctx, (uint64_t)i * (uint64_t)b->B, b, err);
}

void bin_data_source(bin_data *d, data_source *out) {
    memset(out, 0, sizeof *out);
    out->vocab = d->vocab;
    out->is_bytes = 0;
    out->train_batch = src_train;
    out->val_count = src_val_count;
    out->val_batch = src_val_batch;
    out->ctx = d;
}
