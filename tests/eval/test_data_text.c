// Byte-level text data: the split rule (last 10%, at least seq_len + 1 bytes), random
// training windows inside the training part only, fixed validation windows, padding
// rows, determinism for a seed, the trainer adapter, and each error naming the file.
#include "eval/data_text.h"
#include "eval/train.h"
#include "tests/eval/data_test_util.h"
#include "tests/test_util.h"

enum { N = 1000, TRAIN = 900, SEQ = 16 };
static unsigned char text[N];

// Training bytes are pseudo-random in [0, 128) so every 17-byte window is unique;
// validation bytes are in [128, 256), so a byte tells which part it came from.
static void make_text(void) {
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        text[i] = (unsigned char)((x >> 16) & 127) | (i >= TRAIN ? 128 : 0);
    }
}

static long find_train_window(const int32_t *in, const int32_t *tg, int T) {
    for (long s = 0; s + T < TRAIN; s++) {
        int ok = 1;
        for (int t = 0; t < T && ok; t++) ok = in[t] == text[s + t] && tg[t] == text[s + t + 1];
        if (ok) return s;
    }
    return -1;
}

int main(void) {
    star_error err;
    make_text();
    scratch_open("text");
    scratch_write("corpus.txt", text, N);
    char path[512];
    scratch_path(path, sizeof path, "corpus.txt");

    text_data d;
    CHECK(text_data_open(&d, path, SEQ, 7, &err) == 0);
    CHECK(d.n == N && d.valid_len == 100 && d.train_len == TRAIN);

    // Training windows: inside the training part, targets shifted by one, every start
    // from the first to the last reachable over enough draws.
    token_batch b;
    CHECK(token_batch_alloc(&b, 8, SEQ, &err) == 0);
    long lo = N, hi = -1, bad = 0;
    for (int it = 0; it < 2000; it++) {
        CHECK(text_data_train_batch(&d, &b, &err) == 0);
        for (int r = 0; r < b.B; r++) {
            long s = find_train_window(b.inputs + r * SEQ, b.targets + r * SEQ, SEQ);
            if (s < 0) bad++;
            if (s >= 0 && s < lo) lo = s;
            if (s > hi) hi = s;
        }
    }
    CHECK_MSG(bad == 0, "%ld training rows are not windows of the training part", bad);
    CHECK_MSG(lo == 0 && hi == TRAIN - SEQ - 1, "starts seen in [%ld, %ld]", lo, hi);

    // Same seed, same windows; another seed, other windows.
    text_data d2, d3;
    CHECK(text_data_open(&d2, path, SEQ, 7, &err) == 0);
    CHECK(text_data_open(&d3, path, SEQ, 8, &err) == 0);
    token_batch b2, b3;
    CHECK(token_batch_alloc(&b2, 8, SEQ, &err) == 0 && token_batch_alloc(&b3, 8, SEQ, &err) == 0);
    text_data_free(&d);
    CHECK(text_data_open(&d, path, SEQ, 7, &err) == 0);
    CHECK(text_data_train_batch(&d, &b, &err) == 0 && text_data_train_batch(&d2, &b2, &err) == 0 &&
          text_data_train_batch(&d3, &b3, &err) == 0);
    CHECK(memcmp(b.inputs, b2.inputs, sizeof(int32_t) * 8 * SEQ) == 0);
    CHECK(memcmp(b.inputs, b3.inputs, sizeof(int32_t) * 8 * SEQ) != 0);
    text_data_free(&d2);

    // Validation: (100 - 1) / 16 = 6 sequences; sequence i is bytes [900 + 16i, 900 + 16i + 16].
    CHECK(text_data_valid_sequences(&d, SEQ) == 6);
    b.B = 4;
    CHECK(text_data_valid_batch(&d, 0, &b, &err) == 0);
    int ok = 1;
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < SEQ; t++)
            ok &= b.inputs[r * SEQ + t] == text[TRAIN + r * SEQ + t] && b.targets[r * SEQ + t] == text[TRAIN + r * SEQ + t + 1];
    CHECK(ok);
    CHECK(text_data_valid_batch(&d, 4, &b, &err) == 0);  // rows 4, 5 real; 6, 7 padding
    CHECK(b.inputs[0] == text[TRAIN + 4 * SEQ] && b.targets[2 * SEQ - 1] == text[TRAIN + 6 * SEQ]);
    int pad_ok = 1;
    for (int i = 2 * SEQ; i < 4 * SEQ; i++) pad_ok &= b.targets[i] == TOKEN_UNSCORED;
    CHECK(pad_ok);
    CHECK(token_batch_scored(&b) == 2 * SEQ);
    CHECK(text_data_valid_batch(&d, 6, &b, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "validation sequence 6");

    // Through the trainer's interface: batch i is sequences i*B .. i*B+B-1.
    data_source src;
    text_data_source(&d, &src);
    CHECK(src.vocab == 256 && src.is_bytes == 1);
    CHECK(src.val_count(src.ctx, 4, SEQ) == 2);
    CHECK(src.val_batch(src.ctx, 1, &b, &err) == 0);
    CHECK(b.inputs[0] == text[TRAIN + 4 * SEQ]);
    CHECK(src.train_batch(src.ctx, &b, &err) == 0);

    // A longer T than the data was opened for is refused.
    token_batch big;
    CHECK(token_batch_alloc(&big, 1, SEQ + 1, &err) == 0);
    CHECK(text_data_train_batch(&d, &big, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "exceeds the seq_len");
    // So is a shape past the allocation.
    b.B = 9;
    CHECK(text_data_train_batch(&d, &b, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "exceeds the");

    // Errors name the file.
    char missing[512], empty[512], shortf[512], exact[512];
    scratch_path(missing, sizeof missing, "missing.txt");
    CHECK(text_data_open(&d2, missing, SEQ, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, missing);
    scratch_write("empty.txt", "", 0);
    scratch_path(empty, sizeof empty, "empty.txt");
    CHECK(text_data_open(&d2, empty, SEQ, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, empty);
    CHECK_STR_CONTAINS(err.msg, "empty");
    scratch_write("short.txt", text, 2 * (SEQ + 1) - 1);  // one byte short of both splits
    scratch_path(shortf, sizeof shortf, "short.txt");
    CHECK(text_data_open(&d2, shortf, SEQ, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, shortf);
    CHECK_STR_CONTAINS(err.msg, "too short");
    scratch_write("exact.txt", text, 2 * (SEQ + 1));  // just enough: 17 + 17
    scratch_path(exact, sizeof exact, "exact.txt");
    CHECK(text_data_open(&d2, exact, SEQ, 1, &err) == 0);
    CHECK(d2.train_len == SEQ + 1 && d2.valid_len == SEQ + 1);
    CHECK(text_data_valid_sequences(&d2, SEQ) == 1);
    text_data_free(&d2);

    text_data_free(&d);
    text_data_free(&d3);
    token_batch_free(&b);
    token_batch_free(&b2);
    token_batch_free(&b3);
    token_batch_free(&big);
    scratch_close();
    TEST_END();
}
