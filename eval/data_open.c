#include "eval/data_open.h"

#include <string.h>

static int open_data(data_handle *h, data_kind kind, const char *path, int seq_len, int vocab, uint64_t seed,
                     int scan, data_source *src, star_error *err) {
    memset(h, 0, sizeof *h);
    h->kind = kind;
    h->seq_len = seq_len;
    switch (kind) {
    case DATA_TEXT:
        if (vocab < 256) return STAR_FAIL(err, "byte-level text needs a vocabulary of 256, the model has %d", vocab);
        if (text_data_open(&h->td, path, seq_len, seed, err) != 0) return -1;
        text_data_source(&h->td, src);
        h->open = 1;
        return 0;
    case DATA_BIN:
        if (bin_data_open_scan(&h->bd, path, vocab, seq_len, seed, scan, err) != 0) return -1;
        bin_data_source(&h->bd, src);
        h->open = 1;
        return 0;
    case DATA_MAD: {
        mad_task task;
        if (mad_task_by_name(path, &task, err) != 0) return -1;
        mad_task_params mp;
        mad_task_defaults(task, &mp);
        mp.seq_len = seq_len;
        if (mad_task_check(&mp, err) != 0) return star_error_prefix(err, "MAD task %s at length %d", path, seq_len);
        if (mad_task_vocab(&mp) > vocab)
            return STAR_FAIL(err, "MAD task %s needs a vocabulary of %d, the model has %d", path, mad_task_vocab(&mp),
                             vocab);
        if (mad_data_init(&h->md, &mp, seed, err) != 0) return -1;
        mad_data_source(&h->md, src);
        h->seq_len = mad_task_seq_len(&mp);
        h->open = 1;
        return 0;
    }
    }
    return STAR_FAIL(err, "unknown data kind %d", (int)kind);
}

int data_open(data_handle *h, data_kind kind, const char *path, int seq_len, int vocab, uint64_t seed,
              data_source *src, star_error *err) {
    return open_data(h, kind, path, seq_len, vocab, seed, 1, src, err);
}

int data_open_again(data_handle *h, data_kind kind, const char *path, int seq_len, int vocab, uint64_t seed,
                    data_source *src, star_error *err) {
    return open_data(h, kind, path, seq_len, vocab, seed, 0, src, err);
}

void data_close(data_handle *h) {
    if (!h->open) return;
    if (h->kind == DATA_TEXT) text_data_free(&h->td);
    if (h->kind == DATA_BIN) bin_data_free(&h->bd);
    memset(h, 0, sizeof *h);
}
