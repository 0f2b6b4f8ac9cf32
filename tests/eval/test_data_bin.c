// llm.c .bin token shards: loading by glob (sorted; last shard validation) and by a
// single path (last 10% validation), windows that never cross a shard, fixed
// validation windows, and each malformed shard failing with its file named; opened
// without the token scan, a token >= vocab fails the batch whose window holds it.
#include <sys/stat.h>

#include "eval/data_bin.h"
#include "eval/train.h"
#include "tests/eval/data_test_util.h"
#include "tests/test_util.h"

enum { SEQ = 16, VOCAB = 4000 };

// Token of shard s at position i: 1000*s + i, so every window is consecutive integers
// and the thousands digit names the shard.
static void write_shard(const char *name, int s, int n) {
    uint16_t *tok = malloc((size_t)n * sizeof *tok);
    for (int i = 0; i < n; i++) tok[i] = (uint16_t)(1000 * s + i);
    char p[512];
    scratch_path(p, sizeof p, name);
    star_error err;
    if (bin_shard_write(p, tok, (uint64_t)n, &err) != 0) {
        star_error_print(&err);
        exit(2);
    }
    free(tok);
}

// A raw shard: header ints (magic, version, count) and n tokens as written.
static void write_raw(const char *name, int magic, int version, int count, const uint16_t *tok, int n) {
    unsigned char *buf = calloc(1, 1024 + 2 * (size_t)n);
    int32_t h[3] = {magic, version, count};
    memcpy(buf, h, sizeof h);  // the test host is little-endian, as the loader requires
    memcpy(buf + 1024, tok, 2 * (size_t)n);
    scratch_write(name, buf, 1024 + 2 * (size_t)n);
    free(buf);
}

static int expect_fail(const char *name, int vocab, const char *what) {
    char p[512];
    scratch_path(p, sizeof p, name);
    bin_data d;
    star_error err;
    memset(&err, 0, sizeof err);
    int rc = bin_data_open(&d, p, vocab, SEQ, 1, &err);
    CHECK_MSG(rc != 0, "%s should fail", name);
    CHECK_STR_CONTAINS(err.msg, p);
    CHECK_STR_CONTAINS(err.msg, what);
    return rc;
}

int main(void) {
    star_error err;
    scratch_open("bin");
    // Written out of order: loading sorts by name.
    write_shard("shard_002.bin", 2, 200);
    write_shard("shard_000.bin", 0, 500);
    write_shard("shard_001.bin", 1, 300);
    char pattern[512];
    scratch_path(pattern, sizeof pattern, "shard_*.bin");

    bin_data d;
    CHECK(bin_data_open(&d, pattern, VOCAB, SEQ, 3, &err) == 0);
    CHECK(d.n_shards == 3 && d.n_train == 2);
    CHECK(strstr(d.shards[0].path, "shard_000") && strstr(d.shards[2].path, "shard_002"));
    CHECK(d.valid.n == 200 && d.valid.tokens[0] == 2000);

    token_batch b;
    CHECK(token_batch_alloc(&b, 8, SEQ, &err) == 0);
    long rows = 0, from1 = 0, broken = 0;
    for (int it = 0; it < 500; it++) {
        CHECK(bin_data_train_batch(&d, &b, &err) == 0);
        for (int r = 0; r < b.B; r++, rows++) {
            const int32_t *in = b.inputs + r * SEQ, *tg = b.targets + r * SEQ;
            int shard = in[0] / 1000;
            for (int t = 0; t < SEQ; t++)
                broken += tg[t] != in[t] + 1 || in[t] / 1000 != shard || tg[t] / 1000 != shard || shard > 1;
            from1 += shard == 1;
        }
    }
    CHECK_MSG(broken == 0, "%ld positions cross a shard, leave the training shards or mis-shift", broken);
    // Starts are uniform over all windows: shard 1 holds 284 of the 768 (37%).
    CHECK_MSG(from1 > rows * 30 / 100 && from1 < rows * 44 / 100, "%ld of %ld rows from shard 1", from1, rows);

    // Validation: sequence i starts at token 16i of the last shard; (200-1)/16 = 12.
    CHECK(bin_data_valid_sequences(&d, SEQ) == 12);
    CHECK(bin_data_valid_batch(&d, 8, &b, &err) == 0);
    CHECK(b.inputs[0] == 2000 + 8 * SEQ && b.targets[3 * SEQ + SEQ - 1] == 2000 + 12 * SEQ);
    CHECK(token_batch_scored(&b) == 4 * SEQ);  // rows 12..15 are padding
    data_source src;
    bin_data_source(&d, &src);
    CHECK(src.vocab == VOCAB && !src.is_bytes && src.val_count(src.ctx, 8, SEQ) == 2);
    bin_data_free(&d);

    // One shard by plain path: its last 10% is validation.
    write_shard("single.bin", 3, 1000);
    char single[512];
    scratch_path(single, sizeof single, "single.bin");
    CHECK(bin_data_open(&d, single, VOCAB, SEQ, 3, &err) == 0);
    CHECK(d.n_shards == 1 && d.train[0].n == 900 && d.valid.n == 100 && d.valid.tokens[0] == 3900);
    int inside = 1;
    for (int it = 0; it < 200; it++) {
        CHECK(bin_data_train_batch(&d, &b, &err) == 0);
        for (int i = 0; i < 8 * SEQ; i++) inside &= b.inputs[i] >= 3000 && b.targets[i] < 3900;
    }
    CHECK(inside);
    bin_data_free(&d);

    // Each malformed shard fails naming its file.
    uint16_t tok[64];
    for (int i = 0; i < 64; i++) tok[i] = (uint16_t)i;
    write_raw("magic.bin", 20240521, 1, 64, tok, 64);
    expect_fail("magic.bin", VOCAB, "magic");
    write_raw("version.bin", BIN_MAGIC, 2, 64, tok, 64);
    expect_fail("version.bin", VOCAB, "version");
    write_raw("truncated.bin", BIN_MAGIC, 1, 64, tok, 60);  // header says 64, body holds 60
    expect_fail("truncated.bin", VOCAB, "truncated");
    write_raw("long.bin", BIN_MAGIC, 1, 60, tok, 64);
    expect_fail("long.bin", VOCAB, "follow");
    scratch_write("tiny.bin", "abc", 3);
    expect_fail("tiny.bin", VOCAB, "header");
    tok[40] = 4000;
    write_raw("vocab.bin", BIN_MAGIC, 1, 64, tok, 64);
    expect_fail("vocab.bin", VOCAB, "token 4000 at position 40");
    // Without the scan (a search's opens after its first) the shard opens, and the batches
    // check every token they copy: a window over the bad token fails naming the file and
    // the position. 64 tokens, SEQ 16: training is positions 0 .. 46, validation 47 .. 63.
    {
        char vp[512];
        scratch_path(vp, sizeof vp, "vocab.bin");
        token_batch vb;
        CHECK(token_batch_alloc(&vb, 4, SEQ, &err) == 0);
        CHECK(bin_data_open_scan(&d, vp, VOCAB, SEQ, 1, 0, &err) == 0);
        CHECK(bin_data_valid_batch(&d, 0, &vb, &err) == 0);  // clean
        int failed = 0;
        for (int i = 0; i < 200 && !failed; i++) failed = bin_data_train_batch(&d, &vb, &err) != 0;
        CHECK(failed);
        CHECK_STR_CONTAINS(err.msg, vp);
        CHECK_STR_CONTAINS(err.msg, "token 4000 at position 40");
        bin_data_free(&d);
        tok[40] = 40;
        tok[50] = 4000;
        write_raw("vocab_valid.bin", BIN_MAGIC, 1, 64, tok, 64);
        scratch_path(vp, sizeof vp, "vocab_valid.bin");
        CHECK(bin_data_open_scan(&d, vp, VOCAB, SEQ, 1, 0, &err) == 0);
        failed = 0;
        for (int i = 0; i < 200; i++) failed += bin_data_train_batch(&d, &vb, &err) != 0;
        CHECK(failed == 0);  // no training window reaches position 50
        CHECK(bin_data_valid_batch(&d, 0, &vb, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, "token 4000 at position 50");
        bin_data_free(&d);
        tok[50] = 50;
        tok[40] = 4000;
        token_batch_free(&vb);
    }
    write_raw("small.bin", BIN_MAGIC, 1, 20, tok, 20);  // one shard of 20 tokens: too short to split
    expect_fail("small.bin", VOCAB, "too short");
    expect_fail("missing.bin", VOCAB, "cannot open");

    // A bad shard inside a pattern is named, not the pattern.
    write_raw("set_000.bin", BIN_MAGIC, 1, 64, tok, 64);  // holds token 4000
    char set[512], bad[512];
    scratch_path(set, sizeof set, "set_*.bin");
    scratch_path(bad, sizeof bad, "set_000.bin");
    CHECK(bin_data_open(&d, set, VOCAB, SEQ, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, bad);
    CHECK(bin_data_open(&d, set, 5000, SEQ, 1, &err) == 0);  // a larger vocabulary accepts it
    bin_data_free(&d);
    scratch_path(set, sizeof set, "nothing_*.bin");
    CHECK(bin_data_open(&d, set, VOCAB, SEQ, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "no file matches");
    // A validation shard shorter than one window.
    write_shard("pair_000.bin", 0, 100);
    write_shard("pair_001.bin", 1, 10);
    scratch_path(set, sizeof set, "pair_*.bin");
    scratch_path(bad, sizeof bad, "pair_001.bin");
    CHECK(bin_data_open(&d, set, VOCAB, SEQ, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, bad);
    CHECK_STR_CONTAINS(err.msg, "validation shard");

    token_batch_free(&b);
    scratch_close();
    TEST_END();
}
