// Fuzz harness: the .bin token shard loader (bin_data_open, a training and a validation
// batch; bin_data_open_scan without the scan, a training batch) and the byte-level text loader on the same bytes. The first input byte picks
// the sequence length (1 .. 32) and the vocabulary; the rest is the file.
#include <stdlib.h>
#include <string.h>

#include "eval/data_bin.h"
#include "eval/data_text.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int seq_len = 1 + (data[0] & 31);
    int vocab = (data[0] & 32) ? 65536 : 50304;
    char path[64];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof path);
    if (fd < 0) return 0;
    star_error err;
    bin_data d;
    if (bin_data_open(&d, path, vocab, seq_len, 1, &err) == 0) {
        token_batch b = {0};
        FUZZ_ASSERT(token_batch_alloc(&b, 2, seq_len, &err) == 0, "%s", err.msg);
        FUZZ_ASSERT(bin_data_train_batch(&d, &b, &err) == 0, "training batch: %s", err.msg);
        if (bin_data_valid_sequences(&d, seq_len) > 0)
            FUZZ_ASSERT(bin_data_valid_batch(&d, 0, &b, &err) == 0, "validation batch: %s", err.msg);
        for (int i = 0; i < b.B * b.T; i++) FUZZ_ASSERT(b.inputs[i] >= 0 && b.inputs[i] < vocab, "token out of range");
        token_batch_free(&b);
        bin_data_free(&d);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed open left no message");
    }
    // Opened without the token scan, a batch either fails with a message or holds only
    // tokens < vocab.
    if (bin_data_open_scan(&d, path, vocab, seq_len, 1, 0, &err) == 0) {
        token_batch b = {0};
        FUZZ_ASSERT(token_batch_alloc(&b, 2, seq_len, &err) == 0, "%s", err.msg);
        err.msg[0] = '\0';
        if (bin_data_train_batch(&d, &b, &err) == 0) {
            for (int i = 0; i < b.B * b.T; i++)
                FUZZ_ASSERT(b.inputs[i] >= 0 && b.inputs[i] < vocab, "unscanned: token out of range");
        } else {
            FUZZ_ASSERT(err.msg[0] != '\0', "a failed unscanned batch left no message");
        }
        token_batch_free(&b);
        bin_data_free(&d);
    }
    text_data td;
    if (text_data_open(&td, path, seq_len, 1, &err) == 0) {
        token_batch b = {0};
        FUZZ_ASSERT(token_batch_alloc(&b, 2, seq_len, &err) == 0, "%s", err.msg);
        FUZZ_ASSERT(text_data_train_batch(&td, &b, &err) == 0, "text training batch: %s", err.msg);
        FUZZ_ASSERT(text_data_valid_batch(&td, 0, &b, &err) == 0, "text validation batch: %s", err.msg);
        token_batch_free(&b);
        text_data_free(&td);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed text open left no message");
    }
    close(fd);
    return 0;
}
