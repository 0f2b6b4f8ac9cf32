// star: opening any data source by kind (text, .bin shards, a MAD task) behind the
// data_source interface, for the search's quality objective and the commands alike.
#ifndef STAR_EVAL_DATA_OPEN_H
#define STAR_EVAL_DATA_OPEN_H

#include <stdint.h>

#include "common/error.h"
#include "eval/data_bin.h"
#include "eval/data_text.h"
#include "eval/mad.h"
#include "eval/train.h"

typedef enum { DATA_TEXT, DATA_BIN, DATA_MAD } data_kind;

typedef struct data_handle {
    data_kind kind;
    text_data td;
    bin_data bd;
    mad_data md;
    int seq_len;  // the sequence length its batches have
    int open;
} data_handle;

// path: a text file, a shard pattern, or a MAD task name. For MAD, seq_len sets the
// task's length (the rest are MAD's defaults) and vocab must hold the task's tokens.
int data_open(data_handle *h, data_kind kind, const char *path, int seq_len, int vocab, uint64_t seed,
              data_source *src, star_error *err);
// The same for data this process has opened before with data_open: .bin shards skip the
// scan of every token (bin_data_open_scan). A search opens its data once per candidate.
int data_open_again(data_handle *h, data_kind kind, const char *path, int seq_len, int vocab, uint64_t seed,
                    data_source *src, star_error *err);
void data_close(data_handle *h);

#endif
