#include "eval/mad.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "eval/mad_gen.h"
#include "eval/train.h"

static const char *const names[MAD_TASK_COUNT + 1] = {
    "in_context_recall", "fuzzy_in_context_recall", "noisy_in_context_recall", "selective_copying",
    "compression",       "memorization",            NULL,
};
_Static_assert(MAD_TASK_COUNT == 6, "a new MAD task needs a name, defaults, checks and a generator");

const char *mad_task_name(mad_task t) { return t >= 0 && t < MAD_TASK_COUNT ? names[t] : "unknown"; }

const char *const *mad_task_names(void) { return names; }

int mad_task_by_name(const char *name, mad_task *out, star_error *err) {
    char canon[64];
    size_t n = strlen(name);
    if (n < sizeof canon) {
        for (size_t i = 0; i <= n; i++) canon[i] = name[i] == '-' ? '_' : name[i];  // MAD spells them with '-'
        for (int t = 0; t < MAD_TASK_COUNT; t++)
            if (!strcmp(canon, names[t])) {
                *out = (mad_task)t;
                return 0;
            }
    }
    char list[512] = "";
    size_t off = 0;
    for (int t = 0; t < MAD_TASK_COUNT; t++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", t ? ", " : "", names[t]);
    return STAR_FAIL(err, "unknown MAD task '%s' (expected one of: %s)", name, list);
}

void mad_task_defaults(mad_task t, mad_task_params *p) {
    memset(p, 0, sizeof *p);
    p->task = t;
    p->vocab_size = 16;
    p->seq_len = 128;
    p->k_motif_size = 1;
    p->v_motif_size = 1;
    p->multi_query = 1;
    p->num_train_examples = 12800;
    p->num_valid_examples = 1280;
    p->seed = 12345;
    switch (t) {
    case MAD_FUZZY_IN_CONTEXT_RECALL:
        p->k_motif_size = 3;
        p->v_motif_size = 3;
        break;
    case MAD_NOISY_IN_CONTEXT_RECALL:
        p->vocab_size = 32;  // 16 keys and values + 16 noise tokens
        p->noise_vocab_size = 16;
        p->frac_noise = 0.2;
        break;
    case MAD_SELECTIVE_COPYING:
        p->seq_len = 256;
        p->num_tokens_to_copy = 16;
        break;
    case MAD_COMPRESSION:
        p->seq_len = 32;
        break;
    case MAD_MEMORIZATION:
        p->vocab_size = 256;
        p->seq_len = 32;
        p->num_train_examples = 256;
        break;
    default:
        break;
    }
}

#define PFAIL(err, p, ...) mad_param_fail((err), (p), __FILE__, __LINE__, __VA_ARGS__)
__attribute__((format(printf, 5, 6))) static int mad_param_fail(star_error *err, const mad_task_params *p,
                                                                const char *file, int line, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return star_fail_at(err, file, line, "MAD task %s: %s", mad_task_name(p->task), msg);
}

int mad_task_check(const mad_task_params *p, star_error *err) {
    if (p->task < 0 || p->task >= MAD_TASK_COUNT) return STAR_FAIL(err, "MAD task: unknown task id %d", (int)p->task);
    if (p->vocab_size < 2 || p->vocab_size > (1 << 20))
        return PFAIL(err, p, "vocab_size must be in [2, %d], got %d", 1 << 20, p->vocab_size);
    if (p->seq_len < 2 || p->seq_len > (1 << 20))
        return PFAIL(err, p, "seq_len must be in [2, %d], got %d", 1 << 20, p->seq_len);
    if (p->num_train_examples < 0) return PFAIL(err, p, "num_train_examples must be >= 0 (0 = unlimited)");
    if (p->num_valid_examples < 1) return PFAIL(err, p, "num_valid_examples must be >= 1");
    if (!(p->frac_noise >= 0 && p->frac_noise < 1)) return PFAIL(err, p, "frac_noise must be in [0, 1), got %g", p->frac_noise);
    if (p->noise_vocab_size < 0) return PFAIL(err, p, "noise_vocab_size must be >= 0");
    int recall = p->task == MAD_IN_CONTEXT_RECALL || p->task == MAD_NOISY_IN_CONTEXT_RECALL ||
                 p->task == MAD_FUZZY_IN_CONTEXT_RECALL;
    if (!recall && (p->frac_noise > 0 || p->noise_vocab_size > 0))
        return PFAIL(err, p, "noise (frac_noise, noise_vocab_size) is supported only by the recall tasks");
    if (recall && p->frac_noise > 0 && p->noise_vocab_size < 1)
        return PFAIL(err, p, "frac_noise %g needs noise_vocab_size >= 1", p->frac_noise);
    switch (p->task) {
    case MAD_IN_CONTEXT_RECALL:
    case MAD_NOISY_IN_CONTEXT_RECALL: {
        int content = p->vocab_size - (p->multi_query ? 0 : 1) - p->noise_vocab_size;
        if (content < 2)
            return PFAIL(err, p, "vocab_size %d leaves %d key/value tokens (need >= 2) after %d noise%s", p->vocab_size,
                         content, p->noise_vocab_size, p->multi_query ? "" : " and 1 copy-prefix token");
        if (p->seq_len < 4 || p->seq_len % 2)
            return PFAIL(err, p, "seq_len must be even and >= 4 (key-value pairs), got %d", p->seq_len);
        break;
    }
    case MAD_FUZZY_IN_CONTEXT_RECALL: {
        int k = p->k_motif_size, v = p->v_motif_size;
        if (k < 1 || k > MAD_MAX_MOTIF || v < 1 || v > MAD_MAX_MOTIF)
            return PFAIL(err, p, "k_motif_size and v_motif_size must be in [1, %d], got %d and %d", MAD_MAX_MOTIF, k, v);
        int content = p->vocab_size - (p->multi_query ? 1 : 2) - p->noise_vocab_size;
        if (content / 2 < k || content - content / 2 < v)
            return PFAIL(err, p,
                         "vocab_size %d leaves %d key and %d value tokens; motifs of distinct tokens need >= %d "
                         "and >= %d",
                         p->vocab_size, content / 2, content - content / 2, k, v);
        if (p->seq_len < 3 * (k + v))
            return PFAIL(err, p, "seq_len must be >= 3 * (k_motif_size + v_motif_size) = %d, got %d", 3 * (k + v),
                         p->seq_len);
        break;
    }
    case MAD_SELECTIVE_COPYING:
        if (p->vocab_size < 3) return PFAIL(err, p, "vocab_size must be >= 3 (content, blank, copy), got %d", p->vocab_size);
        if (p->num_tokens_to_copy < 1) return PFAIL(err, p, "num_tokens_to_copy must be >= 1");
        if (p->seq_len <= 2 * p->num_tokens_to_copy + 1)
            return PFAIL(err, p, "seq_len must be > 2 * num_tokens_to_copy + 1 = %d, got %d",
                         2 * p->num_tokens_to_copy + 1, p->seq_len);
        break;
    case MAD_COMPRESSION:
        if (p->seq_len > (1 << 19)) return PFAIL(err, p, "seq_len must be <= %d, got %d", 1 << 19, p->seq_len);
        break;
    case MAD_MEMORIZATION:
        if (p->vocab_size < 3) return PFAIL(err, p, "vocab_size must be >= 3 (a key, a value, the insert token)");
        if (p->seq_len % 2) return PFAIL(err, p, "seq_len must be even (key, insert pairs), got %d", p->seq_len);
        break;
    default:
        break;
    }
    return 0;
}

int mad_task_vocab(const mad_task_params *p) { return p->vocab_size; }

int mad_task_seq_len(const mad_task_params *p) {
    return p->task == MAD_COMPRESSION ? 2 * p->seq_len : p->seq_len;
}

void mad_emit_shifted(const int32_t *s, const int32_t *lab, int L, int T, int train, int32_t *in, int32_t *tg) {
    for (int t = 0; t < T; t++) {
        in[t] = t < L ? s[t] : 0;
        tg[t] = t + 1 < L ? (train ? s[t + 1] : lab[t + 1]) : TOKEN_UNSCORED;
    }
}

static pcg32 example_stream(const mad_task_params *p, mad_split split, uint64_t index) {
    uint64_t tag = ((uint64_t)p->task << 56) | ((uint64_t)split << 48) | (index & ((1ull << 48) - 1));
    return pcg32_derive(p->seed, tag);
}

void mad_example(const mad_task_params *p, mad_split split, uint64_t index, int32_t *inputs, int32_t *targets) {
    pcg32 rng = example_stream(p, split, index);
    int train = split == MAD_TRAIN;
    switch (p->task) {
    case MAD_IN_CONTEXT_RECALL:
    case MAD_NOISY_IN_CONTEXT_RECALL: mad_gen_recall(p, train, &rng, inputs, targets); break;
    case MAD_FUZZY_IN_CONTEXT_RECALL: mad_gen_fuzzy_recall(p, train, &rng, inputs, targets); break;
    case MAD_SELECTIVE_COPYING: mad_gen_selective_copying(p, &rng, inputs, targets); break;
    case MAD_COMPRESSION: mad_gen_compression(p, &rng, inputs, targets); break;
    case MAD_MEMORIZATION: mad_gen_memorization(p, &rng, inputs, targets); break;
    default: break;
    }
}

static int check_batch(const mad_task_params *p, const token_batch *b, star_error *err) {
    if (mad_task_check(p, err) != 0 || token_batch_check_shape(b, err) != 0) return -1;
    if (b->T < mad_task_seq_len(p))
        return PFAIL(err, p, "batch T=%d is shorter than the task's sequences (T=%d)", b->T, mad_task_seq_len(p));
    return 0;
}

static void pad_row(int T0, int T, int32_t *in, int32_t *tg) {
    for (int t = T0; t < T; t++) {
        in[t] = 0;
        tg[t] = TOKEN_UNSCORED;
    }
}

int mad_train_batch(const mad_task_params *p, pcg32 *rng, token_batch *b, star_error *err) {
    if (check_batch(p, b, err) != 0) return -1;
    int T0 = mad_task_seq_len(p);
    for (int r = 0; r < b->B; r++) {
        uint64_t index = p->num_train_examples > 0
                             ? pcg32_bounded(rng, (uint32_t)(p->num_train_examples > (long)UINT32_MAX ? UINT32_MAX
                                                                                                    : p->num_train_examples))
                             : (((uint64_t)pcg32_next(rng) << 16) ^ pcg32_next(rng));  // 48 random bits
        int32_t *in = b->inputs + (size_t)r * b->T, *tg = b->targets + (size_t)r * b->T;
        mad_example(p, MAD_TRAIN, index, in, tg);
        pad_row(T0, b->T, in, tg);
    }
    return 0;
}

int mad_valid_batch(const mad_task_params *p, long first, token_batch *b, star_error *err) {
    if (check_batch(p, b, err) != 0) return -1;
    if (first < 0 || first >= p->num_valid_examples)
        return PFAIL(err, p, "validation example %ld requested, but there are %ld", first, p->num_valid_examples);
    int T0 = mad_task_seq_len(p);
    for (int r = 0; r < b->B; r++) {
        int32_t *in = b->inputs + (size_t)r * b->T, *tg = b->targets + (size_t)r * b->T;
        if (first + r < p->num_valid_examples) {
            mad_example(p, MAD_VALID, (uint64_t)(first + r), in, tg);
            pad_row(T0, b->T, in, tg);
        } else {
            pad_row(0, b->T, in, tg);
        }
    }
    return 0;
}

int mad_data_init(mad_data *d, const mad_task_params *p, uint64_t seed, star_error *err) {
    if (mad_task_check(p, err) != 0) return -1;
    d->params = *p;
    d->rng = pcg32_derive(seed, 0x6d6164u + (uint64_t)p->task);  // "mad"
    return 0;
}

static int src_train(void *ctx, token_batch *b, star_error *err) {
    mad_data *d = ctx;
    return mad_train_batch(&d->params, &d->rng, b, err);
}

static int src_val_count(void *ctx, int B, int T) {
    const mad_data *d = ctx;
    if (B < 1 || T < mad_task_seq_len(&d->params)) return 0;
    long n = (d->params.num_valid_examples + B - 1) / B;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

static int src_val_batch(void *ctx, int i, token_batch *b, star_error *err) {
    mad_data *d = ctx;
    if (i < 0) return PFAIL(err, &d->params, "validation batch %d is negative", i);
    return mad_valid_batch(&d->params, (long)i * b->B, b, err);
}

void mad_data_source(mad_data *d, data_source *out) {
    memset(out, 0, sizeof *out);
    out->vocab = mad_task_vocab(&d->params);
    out->is_bytes = 0;
    out->train_batch = src_train;
    out->val_count = src_val_count;
    out->val_batch = src_val_batch;
    out->ctx = d;
}
