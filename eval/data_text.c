#include "eval/data_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "eval/data_split.h"
#include "eval/train.h"

int text_data_open(text_data *d, const char *path, int seq_len, uint64_t seed, star_error *err) {
    memset(d, 0, sizeof *d);
    if (seq_len < 1) return STAR_FAIL(err, "%s: seq_len must be >= 1, got %d", path, seq_len);
    if (snprintf(d->path, sizeof d->path, "%s", path) >= (int)sizeof d->path)
        return STAR_FAIL(err, "%s: path too long", path);
    if (file_view_open(&d->file, path, err) != 0) return -1;
    size_t len = d->file.len;
    if (len == 0) {
        file_view_close(&d->file);
        return STAR_FAIL(err, "%s: the text file is empty", path);
    }
    uint64_t valid = data_split_valid_len(len, seq_len);
    if (valid == 0) {
        file_view_close(&d->file);
        return STAR_FAIL(err,
                         "%s: %zu bytes is too short for seq_len %d: training and validation each need "
                         "seq_len + 1 = %d bytes, so the file needs at least %d",
                         path, len, seq_len, seq_len + 1, 2 * (seq_len + 1));
    }
    d->n = len;
    d->valid_len = valid;
    d->train_len = len - valid;
    d->seq_len = seq_len;
    d->rng = pcg32_derive(seed, 0x74657874u);  // "text"
    return 0;
}

void text_data_free(text_data *d) {
    file_view_close(&d->file);
    memset(d, 0, sizeof *d);
}

static int check_T(const text_data *d, const token_batch *b, star_error *err) {
    if (token_batch_check_shape(b, err) != 0) return -1;
    if (b->T > d->seq_len)
        return STAR_FAIL(err, "%s: batch T=%d exceeds the seq_len %d the data was opened for", d->path, b->T,
                         d->seq_len);
    return 0;
}

static void copy_window(const uint8_t *src, int T, int32_t *in, int32_t *tg) {
    for (int t = 0; t < T; t++) {
        in[t] = src[t];
        tg[t] = src[t + 1];
    }
}

int text_data_train_batch(text_data *d, token_batch *b, star_error *err) {
    if (check_T(d, b, err) != 0) return -1;
    uint64_t starts = d->train_len - (uint64_t)b->T;  // window needs T + 1 bytes
    for (int r = 0; r < b->B; r++) {
        uint64_t s = data_uniform_u64(&d->rng, starts);
        copy_window(d->file.data + s, b->T, b->inputs + (size_t)r * b->T, b->targets + (size_t)r * b->T);
    }
    return 0;
}

uint64_t text_data_valid_sequences(const text_data *d, int T) {
    if (T > d->seq_len) return 0;
    return data_split_valid_sequences(d->valid_len, T);
}

int text_data_valid_batch(const text_data *d, uint64_t first, token_batch *b, star_error *err) {
    if (check_T(d, b, err) != 0) return -1;
    uint64_t count = text_data_valid_sequences(d, b->T);
    if (first >= count)
        return STAR_FAIL(err, "%s: validation sequence %llu requested, but there are %llu of length %d", d->path,
                         (unsigned long long)first, (unsigned long long)count, b->T);
    const uint8_t *valid = d->file.data + d->train_len;
    for (int r = 0; r < b->B; r++) {
        int32_t *in = b->inputs + (size_t)r * b->T, *tg = b->targets + (size_t)r * b->T;
        uint64_t i = first + (uint64_t)r;
        if (i < count) {
            copy_window(valid + i * (uint64_t)b->T, b->T, in, tg);
        } else {
            memset(in, 0, (size_t)b->T * sizeof *in);
            for (int t = 0; t < b->T; t++) tg[t] = TOKEN_UNSCORED;
        }
    }
    return 0;
}

static int src_train(void *ctx, token_batch *b, star_error *err) { return text_data_train_batch(ctx, b, err); }

static int src_val_count(void *ctx, int B, int T) {
    uint64_t n = text_data_valid_sequences(ctx, T);
    uint64_t batches = B > 0 ? (n + (uint64_t)B - 1) / (uint64_t)B : 0;
    return batches > INT32_MAX ? INT32_MAX : (int)batches;
}

static int src_val_batch(void *ctx, int i, token_batch *b, star_error *err) {
    if (i < 0) return STAR_FAIL(err, "%s: validation batch %d is negative", ((text_data *)ctx)->path, i);
    return text_data_valid_batch(ctx, (uint64_t)i * (uint64_t)b->B, b, err);
}

void text_data_source(text_data *d, data_source *out) {
    memset(out, 0, sizeof *out);
    out->vocab = TEXT_VOCAB;
    out->is_bytes = 1;
    out->train_batch = src_train;
    out->val_count = src_val_count;
    out->val_batch = src_val_batch;
    out->ctx = d;
}
