// star: MAD's in-context recall (plain and noisy) and fuzzy in-context recall.
// Token layout (as MAD): keys are the first half of the content tokens, values the
// second half, noise tokens follow the content, special tokens (copy prefix, pad) are
// the last ids of the vocabulary. A repeated key always carries its first value.
#include <stdlib.h>
#include <string.h>

#include "eval/mad_gen.h"

// In-context recall: seq_len/2 slots; all but the last hold a key-value pair (or, with
// frac_noise, two noise tokens); the last is a probe of a key already presented. With
// multi_query every repeat of a presented key is scored too; without it, only the
// probe, which follows a copy-prefix token.
void mad_gen_recall(const mad_task_params *p, int train, pcg32 *rng, int32_t *in, int32_t *tg) {
    int content = p->vocab_size - (p->multi_query ? 0 : 1) - p->noise_vocab_size;
    int n_keys = content / 2, n_values = content - n_keys;
    int copy_prefix = p->vocab_size - 1;
    int slots = p->seq_len / 2;
    int L_max = p->seq_len + 1;
    int32_t *s = star_malloc((size_t)L_max * sizeof *s), *lab = star_malloc((size_t)L_max * sizeof *lab);
    int32_t *value_of = star_malloc((size_t)n_keys * sizeof *value_of);
    int32_t *presented = star_malloc((size_t)n_keys * sizeof *presented);  // keys in order of first appearance
    for (int k = 0; k < n_keys; k++) value_of[k] = -1;
    int n_presented = 0, L = 0;
    // One slot is never noise, so a key is always there to probe (MAD draws it among
    // all slots, the probe included, and could leave none with frac_noise near 1).
    int not_noise = (int)pcg32_bounded(rng, (uint32_t)(slots - 1));
    for (int i = 0; i < slots - 1; i++) {
        int noise = p->frac_noise > 0 && i != not_noise && pcg32_double(rng) < p->frac_noise;
        if (noise) {
            for (int j = 0; j < 2; j++) {
                s[L] = content + (int32_t)pcg32_bounded(rng, (uint32_t)p->noise_vocab_size);
                lab[L++] = TOKEN_UNSCORED;
            }
            continue;
        }
        int k = (int)pcg32_bounded(rng, (uint32_t)n_keys);
        int seen = value_of[k] >= 0;
        if (!seen) {
            value_of[k] = n_keys + (int32_t)pcg32_bounded(rng, (uint32_t)n_values);
            presented[n_presented++] = k;
        }
        s[L] = k;
        lab[L++] = TOKEN_UNSCORED;
        s[L] = value_of[k];
        lab[L++] = seen && p->multi_query ? value_of[k] : TOKEN_UNSCORED;
    }
    int probe = presented[pcg32_bounded(rng, (uint32_t)n_presented)];
    if (!p->multi_query) {
        s[L] = copy_prefix;
        lab[L++] = TOKEN_UNSCORED;
    }
    s[L] = probe;
    lab[L++] = TOKEN_UNSCORED;
    s[L] = value_of[probe];
    lab[L] = value_of[probe];
    L++;
    mad_emit_shifted(s, lab, L, p->seq_len, train, in, tg);
    free(s);
    free(lab);
    free(value_of);
    free(presented);
}

// A motif: 1..MAD_MAX_MOTIF distinct tokens from [base, base + n).
typedef struct motif {
    int len;
    int32_t tok[MAD_MAX_MOTIF];
} motif;

static motif draw_motif(pcg32 *rng, int len, int base, int n) {
    motif m = {.len = len};
    for (int i = 0; i < len; i++) {
        for (;;) {  // distinct tokens (MAD draws among permutations); n >= len by the checks
            int32_t t = base + (int32_t)pcg32_bounded(rng, (uint32_t)n);
            int dup = 0;
            for (int j = 0; j < i; j++) dup |= m.tok[j] == t;
            if (!dup) {
                m.tok[i] = t;
                break;
            }
        }
    }
    return m;
}

static int motif_eq(const motif *a, const motif *b) {
    return a->len == b->len && !memcmp(a->tok, b->tok, (size_t)a->len * sizeof a->tok[0]);
}

static void put(int32_t *s, int32_t *lab, int *L, const motif *m, int scored) {
    for (int i = 0; i < m->len; i++) {
        s[*L] = m->tok[i];
        lab[(*L)++] = scored ? m->tok[i] : TOKEN_UNSCORED;
    }
}

// Fuzzy recall: keys and values are motifs of 1..k (1..v) tokens; validation keys are
// always k tokens long. One probe pair is placed at a random point of the sequence and
// asked again at its end; the sequence is left-padded to seq_len + 1 tokens.
void mad_gen_fuzzy_recall(const mad_task_params *p, int train, pcg32 *rng, int32_t *in, int32_t *tg) {
    int kmax = p->k_motif_size, vmax = p->v_motif_size, M = kmax + vmax;
    int content = p->vocab_size - (p->multi_query ? 1 : 2) - p->noise_vocab_size;
    int n_keys = content / 2, n_values = content - n_keys;
    int copy_prefix = p->vocab_size - 1, pad = p->multi_query ? p->vocab_size - 1 : p->vocab_size - 2;
    int Lcap = p->seq_len + 1;
    int32_t *s = star_malloc((size_t)Lcap * sizeof *s), *lab = star_malloc((size_t)Lcap * sizeof *lab);
    motif *keys = star_malloc((size_t)p->seq_len * sizeof *keys), *vals = star_malloc((size_t)p->seq_len * sizeof *vals);
    int n_kv = 0;

#define KEY_LEN() (train ? 1 + (int)pcg32_bounded(rng, (uint32_t)kmax) : kmax)
#define VAL_LEN() (1 + (int)pcg32_bounded(rng, (uint32_t)vmax))
    motif kp = draw_motif(rng, KEY_LEN(), 0, n_keys);
    motif vp = draw_motif(rng, VAL_LEN(), n_keys, n_values);
    int probe_len = kp.len + vp.len;
    int body = p->seq_len - probe_len - M;  // the loop fills while fewer tokens than this
    // MAD draws the probe position in [0, seq_len - 2*probe_len) and may pass the end of
    // the loop, leaving the final query unanswerable; star draws it where the loop is
    // sure to reach it (each step adds at most M tokens).
    int probe_at = (int)pcg32_bounded(rng, (uint32_t)(body - M + 1));
    int probe_added = 0, L = 0;
    while (L < body) {
        int klen = KEY_LEN(), vlen = VAL_LEN();
        if (!probe_added && L >= probe_at) {
            put(s, lab, &L, &kp, 0);
            put(s, lab, &L, &vp, 0);
            keys[n_kv] = kp;
            vals[n_kv++] = vp;
            probe_added = 1;
            continue;
        }
        if (p->frac_noise > 0 && pcg32_double(rng) < p->frac_noise) {
            for (int i = 0; i < klen + vlen; i++) {
                s[L] = content + (int32_t)pcg32_bounded(rng, (uint32_t)p->noise_vocab_size);
                lab[L++] = TOKEN_UNSCORED;
            }
            continue;
        }
        motif k = draw_motif(rng, klen, 0, n_keys);
        int found = -1;
        for (int j = 0; j < n_kv && found < 0; j++)
            if (motif_eq(&keys[j], &k)) found = j;
        motif v;
        if (found >= 0) {
            v = vals[found];
        } else {
            v = motif_eq(&k, &kp) ? vp : draw_motif(rng, vlen, n_keys, n_values);
            if (motif_eq(&k, &kp)) probe_added = 1;
            keys[n_kv] = k;
            vals[n_kv++] = v;
        }
        put(s, lab, &L, &k, 0);
        put(s, lab, &L, &v, found >= 0 && p->multi_query);
    }
#undef KEY_LEN
#undef VAL_LEN
    if (!p->multi_query) {
        s[L] = copy_prefix;
        lab[L++] = TOKEN_UNSCORED;
    }
    put(s, lab, &L, &kp, 0);
    put(s, lab, &L, &vp, 1);
    // Left-pad to seq_len + 1 tokens (the shift leaves seq_len positions).
    int n_pad = Lcap - L;
    memmove(s + n_pad, s, (size_t)L * sizeof *s);
    memmove(lab + n_pad, lab, (size_t)L * sizeof *lab);
    for (int i = 0; i < n_pad; i++) {
        s[i] = pad;
        lab[i] = TOKEN_UNSCORED;
    }
    mad_emit_shifted(s, lab, Lcap, p->seq_len, train, in, tg);
    free(s);
    free(lab);
    free(keys);
    free(vals);
}
