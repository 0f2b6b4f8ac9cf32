// star: byte-level text from any file. Every byte is a token (vocabulary 256), so the
// validation loss converts directly to bits per byte.
//
// Split (eval/data_split.h, docs/data.md): the last 10% of the file's bytes (at least
// seq_len + 1) are validation, the rest training; both parts need seq_len + 1 bytes,
// so the file needs at least 2 * (seq_len + 1). Training rows are windows at uniformly
// random offsets of the training part, drawn from the loader's own pcg32 stream;
// validation sequence i is bytes [i*T, i*T + T] of the validation part (fixed).
#ifndef STAR_EVAL_DATA_TEXT_H
#define STAR_EVAL_DATA_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/file.h"
#include "common/pcg32.h"
#include "eval/batch.h"

#define TEXT_VOCAB 256

typedef struct text_data {
    char path[1024];
    file_view file;       // the whole file, mapped (a search opens it for every candidate)
    uint64_t n;           // bytes in the file
    uint64_t train_len;   // bytes [0, train_len) are training
    uint64_t valid_len;   // bytes [train_len, n) are validation
    int seq_len;          // the longest T batches may ask for
    pcg32 rng;            // training windows
} text_data;

// Opens the file (mapped, not copied) and splits it for sequences of up to seq_len
// tokens. Fails naming the file when it is missing, empty, or too short for both splits.
int text_data_open(text_data *d, const char *path, int seq_len, uint64_t seed, star_error *err);
void text_data_free(text_data *d);

// Fills b (b->B, b->T set by the caller, T <= seq_len) with random training windows:
// targets are the inputs shifted by one byte, all scored.
int text_data_train_batch(text_data *d, token_batch *b, star_error *err);

// Number of validation sequences of length T, and rows first .. first+B-1 of them;
// rows past the last sequence are padding (input 0, unscored).
uint64_t text_data_valid_sequences(const text_data *d, int T);
int text_data_valid_batch(const text_data *d, uint64_t first, token_batch *b, star_error *err);

struct data_source;
// Presents d through the trainer's data interface (eval/train.h); d must outlive it.
void text_data_source(text_data *d, struct data_source *out);

#endif
