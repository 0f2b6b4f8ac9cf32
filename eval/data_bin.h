// star: llm.c's token shards (.bin). A shard is a header of 256 little-endian int32 --
// [0] magic 20240520, [1] version 1, [2] number of tokens -- followed by exactly that
// many little-endian uint16 tokens (GPT-2 ids, for instance).
//
// A data set is one path or a glob(3) pattern; the matching shards are sorted by name.
// With two or more shards the last is validation and the others training; with one
// shard its last 10% of tokens (at least seq_len + 1) is validation, the rest training
// (the rule of eval/data_split.h). Shards are memory-mapped and checked when opened:
// magic, version, size against the header's count, every token < vocab (and every
// token a batch copies again).
// Training windows never cross a shard boundary.
#ifndef STAR_EVAL_DATA_BIN_H
#define STAR_EVAL_DATA_BIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/file.h"
#include "common/pcg32.h"
#include "eval/batch.h"

#define BIN_MAGIC 20240520
#define BIN_VERSION 1
#define BIN_HEADER_INTS 256

typedef struct bin_shard {
    char path[1024];
    file_view file;          // the whole file, mapped read-only
    const uint16_t *tokens;  // map + header
    uint64_t n;              // tokens
} bin_shard;

typedef struct bin_span {
    const uint16_t *tokens;
    uint64_t n;
    int shard;
} bin_span;

typedef struct bin_data {
    char pattern[1024];
    bin_shard *shards;
    int n_shards;
    bin_span *train;  // one span per training shard (or the head of the single shard)
    int n_train;
    bin_span valid;
    int vocab;
    int seq_len;      // the longest T batches may ask for
    pcg32 rng;        // training windows
} bin_data;

// Opens every shard matching pattern. Fails naming the file on a missing file, wrong
// magic or version, a body shorter or longer than the header says, a token >= vocab,
// or a shard (split part) shorter than seq_len + 1 tokens.
int bin_data_open(bin_data *d, const char *pattern, int vocab, int seq_len, uint64_t seed, star_error *err);
// The same with scan 0: no pass over every token at open (on 100M-token shards, tenths
// of a second each), for a process that opens the same shards again and again (a search:
// once per candidate, after one open with the scan). The batches check every token they
// copy either way, so a token >= vocab still fails, when its window is drawn.
int bin_data_open_scan(bin_data *d, const char *pattern, int vocab, int seq_len, uint64_t seed, int scan,
                       star_error *err);
void bin_data_free(bin_data *d);

// Training windows drawn uniformly over all window starts of all training spans.
int bin_data_train_batch(bin_data *d, token_batch *b, star_error *err);
// Validation sequence i reads tokens [i*T, i*T + T] of the validation span; rows past
// the last sequence are padding (input 0, unscored).
uint64_t bin_data_valid_sequences(const bin_data *d, int T);
int bin_data_valid_batch(const bin_data *d, uint64_t first, token_batch *b, star_error *err);

// Writes a shard (the tests and small tools make their own data with it).
int bin_shard_write(const char *path, const uint16_t *tokens, uint64_t n, star_error *err);

struct data_source;
// Presents d through the trainer's data interface (eval/train.h); d must outlive it.
void bin_data_source(bin_data *d, struct data_source *out);

#endif
