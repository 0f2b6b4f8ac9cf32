// MAD tasks: names and defaults, parameter checks, determinism, and the structure of
// each task checked from the generated tokens alone (recall targets are the values
// that followed the same key earlier; selective-copying targets are the content tokens
// in order; noise is never scored; memorization facts are the same in every example).
#include <stdlib.h>

#include "eval/mad.h"
#include "eval/mad_gen.h"
#include "eval/train.h"
#include "tests/test_util.h"

#define NEX 200  // examples checked per task

static int32_t in[4096], tg[4096], in2[4096], tg2[4096];

static void check_ranges(const mad_task_params *p, const char *what) {
    int T = mad_task_seq_len(p), V = mad_task_vocab(p), ok = 1;
    for (int t = 0; t < T; t++) ok &= in[t] >= 0 && in[t] < V && tg[t] >= -1 && tg[t] < V;
    CHECK_MSG(ok, "%s: a token outside [0, %d)", what, V);
}

// In-context recall (validation): position t is scored iff its input is a key seen at
// an earlier even position (multi-query), and the target is the value that followed it.
static void check_recall(const mad_task_params *p, int noise_first) {
    int T = mad_task_seq_len(p), scored = 0, ok = 1;
    int content = p->vocab_size - p->noise_vocab_size, n_keys = content / 2;
    for (int t = 0; t < T; t += 2) {
        int is_noise = in[t] >= noise_first;
        if (is_noise) {
            ok &= in[t + 1] >= noise_first && tg[t] == TOKEN_UNSCORED && tg[t + 1] == TOKEN_UNSCORED;
            continue;
        }
        ok &= in[t] < n_keys && in[t + 1] >= n_keys && in[t + 1] < content;
        int first_value = -1;
        for (int j = 0; j < t && first_value < 0; j += 2)
            if (in[j] == in[t]) first_value = in[j + 1];
        if (first_value >= 0) {
            ok &= tg[t] == first_value && in[t + 1] == first_value;  // a key keeps its value
            scored++;
        } else {
            ok &= tg[t] == TOKEN_UNSCORED;
        }
        ok &= tg[t + 1] == TOKEN_UNSCORED;
    }
    CHECK_MSG(ok, "%s: recall structure broken", mad_task_name(p->task));
    CHECK(tg[T - 2] >= 0);  // the final probe is always asked
    CHECK(scored >= 1);
}

// Fuzzy recall (validation): the tokens after the pad prefix are (key run, value run)
// pairs -- keys and values come from disjoint ranges -- with keys of exactly k tokens.
// A value run is scored iff its key appeared before, and then it equals that value.
static void check_fuzzy(const mad_task_params *p) {
    int T = p->seq_len, content = p->vocab_size - 1, n_keys = content / 2, pad = p->vocab_size - 1;
    int32_t s[4097], scored[4097];
    for (int t = 0; t < T; t++) {
        s[t] = in[t];
        scored[t + 1] = tg[t] >= 0;
    }
    s[T] = tg[T - 1];  // the final value token is the last target
    scored[0] = 0;
    int ok = tg[T - 1] >= 0, i = 0;
    while (i <= T && s[i] == pad) ok &= !scored[i++];
    int kstart[512], klen[512], vstart[512], vlen[512], np = 0;
    while (i <= T && np < 512) {
        kstart[np] = i;
        while (i <= T && s[i] < n_keys) i++;
        klen[np] = i - kstart[np];
        vstart[np] = i;
        while (i <= T && s[i] >= n_keys && s[i] < content) i++;
        vlen[np] = i - vstart[np];
        ok &= klen[np] == p->k_motif_size && vlen[np] >= 1 && vlen[np] <= p->v_motif_size;
        np++;
    }
    int last_key_seen = 0;
    for (int a = 0; a < np; a++) {
        int prev = -1;
        for (int c = 0; c < a && prev < 0; c++)
            if (!memcmp(s + kstart[c], s + kstart[a], (size_t)klen[a] * sizeof *s)) prev = c;
        for (int j = 0; j < klen[a]; j++) ok &= !scored[kstart[a] + j];
        for (int j = 0; j < vlen[a]; j++) ok &= scored[vstart[a] + j] == (prev >= 0);
        if (prev >= 0) ok &= vlen[a] == vlen[prev] && !memcmp(s + vstart[a], s + vstart[prev], (size_t)vlen[a] * sizeof *s);
        if (a == np - 1) last_key_seen = prev >= 0;
    }
    CHECK_MSG(ok, "fuzzy recall structure broken");
    CHECK_MSG(last_key_seen, "the final probe key never appeared before it");
}

static void check_selective_copying(const mad_task_params *p) {
    int T = p->seq_len, n = p->num_tokens_to_copy, blank = p->vocab_size - 2, copy = p->vocab_size - 1;
    int32_t content[1024];
    int nc = 0, ok = in[T - n - 1] == copy;
    for (int t = 0; t < T - n - 1; t++) {
        ok &= tg[t] == TOKEN_UNSCORED && in[t] != copy;
        if (in[t] != blank) content[nc++] = in[t];
    }
    ok &= nc == n && tg[T - n - 1] == TOKEN_UNSCORED;
    for (int j = 0; j < n && nc == n; j++) ok &= in[T - n + j] == blank && tg[T - n + j] == content[j];
    CHECK_MSG(ok, "selective copying structure broken");
}

static void check_compression(const mad_task_params *p) {
    int n = p->seq_len, marker = p->vocab_size - 1, ok = 1;
    for (int t = 0; t < n - 1; t++) ok &= in[t] != marker && tg[t] == TOKEN_UNSCORED && tg[n - 1 + t] == in[t];
    for (int t = n - 1; t < 2 * n; t++) ok &= in[t] == marker;
    ok &= tg[2 * n - 2] == TOKEN_UNSCORED && tg[2 * n - 1] == TOKEN_UNSCORED;
    CHECK_MSG(ok, "compression structure broken");
}

// Facts: fact[key] = value, learned across examples; must never disagree.
static void check_memorization(const mad_task_params *p, int32_t *fact) {
    int insert = p->vocab_size - 1, n_keys = mad_memorization_keys(p), ok = 1;
    for (int t = 0; t < p->seq_len; t += 2) {
        ok &= in[t] < n_keys && in[t + 1] == insert && tg[t] == TOKEN_UNSCORED && tg[t + 1] >= n_keys;
        if (fact[in[t]] < 0) fact[in[t]] = tg[t + 1];
        ok &= fact[in[t]] == tg[t + 1];
    }
    CHECK_MSG(ok, "memorization structure broken");
}

int main(void) {
    star_error err;
    // Names, both spellings, and the list.
    const char *const *names = mad_task_names();
    int count = 0;
    while (names[count]) count++;
    CHECK(count == MAD_TASK_COUNT);
    mad_task t;
    CHECK(mad_task_by_name("noisy-in-context-recall", &t, &err) == 0 && t == MAD_NOISY_IN_CONTEXT_RECALL);
    CHECK(mad_task_by_name("selective_copying", &t, &err) == 0 && t == MAD_SELECTIVE_COPYING);
    CHECK(mad_task_by_name("recall", &t, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "fuzzy_in_context_recall");

    // MAD's baselines.
    mad_task_params p;
    mad_task_defaults(MAD_IN_CONTEXT_RECALL, &p);
    CHECK(p.vocab_size == 16 && p.seq_len == 128 && p.multi_query == 1 && p.seed == 12345);
    mad_task_defaults(MAD_NOISY_IN_CONTEXT_RECALL, &p);
    CHECK(p.vocab_size == 32 && p.noise_vocab_size == 16 && p.frac_noise == 0.2);
    mad_task_defaults(MAD_SELECTIVE_COPYING, &p);
    CHECK(p.seq_len == 256 && p.num_tokens_to_copy == 16 && mad_task_seq_len(&p) == 256);
    mad_task_defaults(MAD_COMPRESSION, &p);
    CHECK(p.seq_len == 32 && mad_task_seq_len(&p) == 64);
    mad_task_defaults(MAD_MEMORIZATION, &p);
    CHECK(p.vocab_size == 256 && p.seq_len == 32 && p.num_train_examples == 256);

    for (int k = 0; k < MAD_TASK_COUNT; k++) {
        mad_task_defaults((mad_task)k, &p);
        CHECK_MSG(mad_task_check(&p, &err) == 0, "%s defaults: %s", names[k], err.msg);
        int T = mad_task_seq_len(&p);
        // Determinism: the same index gives the same example; neighbours differ.
        mad_example(&p, MAD_VALID, 5, in, tg);
        mad_example(&p, MAD_VALID, 5, in2, tg2);
        CHECK(!memcmp(in, in2, (size_t)T * 4) && !memcmp(tg, tg2, (size_t)T * 4));
        mad_example(&p, MAD_VALID, 6, in2, tg2);
        CHECK_MSG(memcmp(in, in2, (size_t)T * 4) != 0, "%s: examples 5 and 6 are equal", names[k]);
        mad_example(&p, MAD_TRAIN, 5, in2, tg2);
        CHECK_MSG(memcmp(in, in2, (size_t)T * 4) != 0, "%s: training and validation share a stream", names[k]);
        // Structure over many examples of both splits.
        int32_t *fact = malloc(sizeof(int32_t) * (size_t)p.vocab_size);
        for (int v = 0; v < p.vocab_size; v++) fact[v] = -1;
        for (int e = 0; e < NEX; e++) {
            for (int split = 0; split < 2; split++) {
                mad_example(&p, (mad_split)split, (uint64_t)e, in, tg);
                check_ranges(&p, names[k]);
                int valid = split == MAD_VALID;
                switch (p.task) {
                case MAD_IN_CONTEXT_RECALL:
                case MAD_NOISY_IN_CONTEXT_RECALL:
                case MAD_FUZZY_IN_CONTEXT_RECALL:
                    if (valid) {
                        if (p.task == MAD_FUZZY_IN_CONTEXT_RECALL) check_fuzzy(&p);
                        else check_recall(&p, p.vocab_size - p.noise_vocab_size);
                    } else {  // training scores every next token, as MAD trains these tasks
                        // Fuzzy sequences are seq_len + 1 tokens long (the last one is a target);
                        // multi-query recall ones seq_len, so their last position has no target.
                        int fuzzy = p.task == MAD_FUZZY_IN_CONTEXT_RECALL;
                        int ok = fuzzy ? tg[T - 1] >= 0 : tg[T - 1] == TOKEN_UNSCORED;
                        for (int i = 0; i + 1 < T; i++) ok &= tg[i] == in[i + 1];
                        CHECK_MSG(ok, "%s: training targets are not the shifted inputs", names[k]);
                    }
                    break;
                case MAD_SELECTIVE_COPYING: check_selective_copying(&p); break;
                case MAD_COMPRESSION: check_compression(&p); break;
                case MAD_MEMORIZATION: check_memorization(&p, fact); break;
                default: break;
                }
            }
        }
        free(fact);
    }

    // Noisy recall: about frac_noise of the slots (never the last) are noise.
    mad_task_defaults(MAD_NOISY_IN_CONTEXT_RECALL, &p);
    long noise = 0, slots = 0;
    for (int e = 0; e < NEX; e++) {
        mad_example(&p, MAD_VALID, (uint64_t)e, in, tg);
        for (int i = 0; i < p.seq_len - 2; i += 2, slots++) noise += in[i] >= 16;
    }
    CHECK_MSG(noise > slots * 0.17 && noise < slots * 0.23, "noise fraction %g", (double)noise / slots);

    // Memorization: distinct keys get distinct values (the map is injective).
    mad_task_defaults(MAD_MEMORIZATION, &p);
    int32_t map[127];
    mad_memorization_map(&p, map);
    int injective = 1;
    for (int a = 0; a < 127; a++)
        for (int c = 0; c < a; c++) injective &= map[a] != map[c];
    CHECK(injective && mad_memorization_keys(&p) == 127);

    // Single-query recall: only the probe (after the copy prefix) is scored.
    mad_task_defaults(MAD_IN_CONTEXT_RECALL, &p);
    p.multi_query = 0;
    CHECK(mad_task_check(&p, &err) == 0);
    mad_example(&p, MAD_VALID, 3, in, tg);
    token_batch one = {.B = 1, .T = p.seq_len, .inputs = in, .targets = tg, .capacity = (size_t)p.seq_len};
    CHECK(token_batch_scored(&one) == 1 && tg[p.seq_len - 1] >= 0 && in[p.seq_len - 2] == 15);

    // Batches: validation rows are examples first..first+B-1, padded past the set and
    // past the task's T; training draws come from the rng.
    mad_task_defaults(MAD_SELECTIVE_COPYING, &p);
    p.num_valid_examples = 10;
    token_batch b;
    CHECK(token_batch_alloc(&b, 4, 260, &err) == 0);
    CHECK(mad_valid_batch(&p, 8, &b, &err) == 0);
    mad_example(&p, MAD_VALID, 9, in, tg);
    CHECK(!memcmp(b.inputs + 260, in, 256 * 4) && !memcmp(b.targets + 260, tg, 256 * 4));
    CHECK(token_batch_scored(&b) == 2 * 16);
    CHECK(b.targets[259] == TOKEN_UNSCORED && b.targets[3 * 260 + 255] == TOKEN_UNSCORED);
    CHECK(token_batch_correct(&b, b.targets) == 32);
    CHECK(mad_valid_batch(&p, 10, &b, &err) != 0);
    pcg32 r1 = pcg32_derive(9, 1), r2 = pcg32_derive(9, 1);
    token_batch b2;
    CHECK(token_batch_alloc(&b2, 4, 260, &err) == 0);
    CHECK(mad_train_batch(&p, &r1, &b, &err) == 0 && mad_train_batch(&p, &r2, &b2, &err) == 0);
    CHECK(!memcmp(b.inputs, b2.inputs, 4 * 260 * 4));
    CHECK(mad_train_batch(&p, &r1, &b2, &err) == 0 && memcmp(b.inputs, b2.inputs, 4 * 260 * 4) != 0);
    b.T = 128;
    CHECK(mad_train_batch(&p, &r1, &b, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "shorter");

    // The trainer's interface.
    mad_data md;
    data_source src;
    CHECK(mad_data_init(&md, &p, 4, &err) == 0);
    mad_data_source(&md, &src);
    CHECK(src.vocab == 16 && src.val_count(src.ctx, 4, 256) == 3 && src.val_count(src.ctx, 4, 128) == 0);
    b.T = 256;
    CHECK(src.val_batch(src.ctx, 2, &b, &err) == 0 && token_batch_scored(&b) == 2 * 16);
    CHECK(src.train_batch(src.ctx, &b, &err) == 0 && token_batch_scored(&b) == 4 * 16);

    // Bad parameters name the task and the parameter.
    mad_task_defaults(MAD_IN_CONTEXT_RECALL, &p);
    p.seq_len = 127;
    CHECK(mad_task_check(&p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "in_context_recall");
    CHECK_STR_CONTAINS(err.msg, "seq_len");
    mad_task_defaults(MAD_COMPRESSION, &p);
    p.frac_noise = 0.1;
    CHECK(mad_task_check(&p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "noise");
    mad_task_defaults(MAD_FUZZY_IN_CONTEXT_RECALL, &p);
    p.vocab_size = 6;  // 5 content tokens: 2 keys cannot make 3-token motifs
    CHECK(mad_task_check(&p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "motifs");
    mad_task_defaults(MAD_SELECTIVE_COPYING, &p);
    p.seq_len = 33;
    CHECK(mad_task_check(&p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "num_tokens_to_copy");

    token_batch_free(&b);
    token_batch_free(&b2);
    TEST_END();
}
