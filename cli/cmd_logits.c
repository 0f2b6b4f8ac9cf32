// star logits (ARCH | --ckpt DIR) (--tokens LIST | --random B,T) --out FILE.safetensors
//
// Runs star's CPU engine forward on given tokens and writes the logits, so other
// implementations of the same model (the module of `star export --format pytorch`) can
// be compared with it. The file holds "tokens" [B, T] (F32: token ids are exact in F32
// up to 2^24, the largest vocabulary) and "logits" [B, T, vocab] (F32).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_args.h"
#include "cli/ckpt_model.h"
#include "cli/commands.h"
#include "common/pcg32.h"
#include "eval/batch.h"
#include "eval/model.h"
#include "eval/safetensors.h"
#include "genome/genome_string.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star logits ARCH [--width D] [--vocab V] [--seed N] (--tokens LIST | --random B,T) --out FILE\n"
            "       star logits --ckpt DIR (--tokens LIST | --random B,T) --out FILE\n\n"
            "Runs the CPU engine forward (fp32) and writes FILE.safetensors with the tensors\n"
            "\"tokens\" [B, T] and \"logits\" [B, T, vocab] (both F32) and the genome, width, vocab\n"
            "and parameter count as metadata. ARCH (a genome string or file) gets freshly\n"
            "initialized weights from --seed (default 1); --ckpt DIR uses a checkpoint's.\n\n"
            "  --tokens LIST    token ids: comma-separated, rows separated by '/' (all rows of\n"
            "                   one length), e.g. 1,2,3/4,5,6\n"
            "  --random B,T     B rows of T tokens drawn uniformly from the vocabulary (--seed)\n"
            "  --out FILE       the safetensors file to write\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star logits: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star logits --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

// Parses "1,2,3/4,5,6" into a [B, T] batch; fails naming the position.
static int parse_tokens(const char *s, token_batch *b, star_error *err) {
    int B = 1, T = 0, row_len = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '/') B++;
    }
    int cap = (int)strlen(s) + 1;
    int32_t *v = star_malloc(sizeof(int32_t) * (size_t)cap);
    int n = 0, row = 0;
    const char *p = s;
    for (;;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x > (1L << 24)) {
            free(v);
            return STAR_FAIL(err, "--tokens: character %d: expected a token id (a non-negative integer)", (int)(p - s) + 1);
        }
        v[n++] = (int32_t)x;
        row_len++;
        p = end;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '/' || *p == '\0') {
            if (row == 0) T = row_len;
            else if (row_len != T) {
                free(v);
                return STAR_FAIL(err, "--tokens: row %d has %d tokens, row 1 has %d (rows must be of one length)",
                                 row + 1, row_len, T);
            }
            row++;
            row_len = 0;
            if (*p == '\0') break;
            p++;
            continue;
        }
        free(v);
        return STAR_FAIL(err, "--tokens: character %d: expected ',' or '/', got '%c'", (int)(p - s) + 1, *p);
    }
    if (token_batch_alloc(b, B, T, err) != 0) {
        free(v);
        return -1;
    }
    memcpy(b->inputs, v, sizeof(int32_t) * (size_t)B * T);
    free(v);
    return 0;
}

int cmd_logits(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    arch_args aa;
    arch_args_defaults(&aa);
    const char *ckpt = NULL, *tokens = NULL, *random = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **str = !strcmp(a, "--ckpt") ? &ckpt : !strcmp(a, "--tokens") ? &tokens
                           : !strcmp(a, "--random") ? &random : !strcmp(a, "--out") ? &out : NULL;
        if (str) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            *str = argv[++i];
            continue;
        }
        if (!strcmp(a, "--width") || !strcmp(a, "--vocab") || !strcmp(a, "--seed")) {
            int r = arch_args_option(&aa, argc, argv, &i);
            if (r < 0) return EXIT_USAGE;
            continue;
        }
        if (a[0] == '-' && a[1]) return usage_error("unknown option '%s'", a);
        if (aa.arch_arg) return usage_error("unexpected argument '%s'", a);
        aa.arch_arg = a;
    }
    if (!!ckpt + !!aa.arch_arg != 1) return usage_error("give an ARCH or --ckpt DIR (one of them)");
    if (!!tokens + !!random != 1) return usage_error("give --tokens LIST or --random B,T (one of them)");
    if (!out) return usage_error("--out FILE is required");
    int rB = 0, rT = 0;
    if (random && (sscanf(random, "%d,%d", &rB, &rT) != 2 || rB < 1 || rT < 1 || rB > 4096 || rT > 1 << 20))
        return usage_error("--random: expected B,T (positive integers), got '%s'", random);

    star_error err;
    token_batch b = {0};
    model *m = NULL;
    int rc = 0;
    char genome_string[GENOME_STRING_MAX] = "";
    if (tokens) rc = parse_tokens(tokens, &b, &err);
    else rc = token_batch_alloc(&b, rB, rT, &err);
    if (rc == 0) {
        if (ckpt) {
            checkpoint_info info;
            rc = ckpt_model_load(ckpt, b.B, b.T, &m, &info, &err);
            if (rc == 0) snprintf(genome_string, sizeof genome_string, "%s", info.genome);
        } else {
            rc = arch_args_load(&aa, &err);
            model_options mo = {.max_batch = b.B, .max_seq = b.T, .seed = aa.seed, .memory_limit_bytes = 0};
            if (rc == 0) rc = model_create(&aa.a, mo, &m, &err);
            if (rc == 0) snprintf(genome_string, sizeof genome_string, "%s", aa.genome_string);
        }
    }
    int V = m ? model_arch(m)->dims.vocab : 0;
    if (rc == 0 && random) {
        pcg32 rng = pcg32_derive(aa.seed, 0x70c3u);
        for (long k = 0; k < (long)b.B * b.T; k++) b.inputs[k] = (int32_t)pcg32_bounded(&rng, (uint32_t)V);
    }
    if (rc == 0) {
        for (long k = 0; k < (long)b.B * b.T; k++) b.targets[k] = 0;  // the loss is not used
        double loss;
        rc = model_forward(m, &b, &loss, &err);
    }
    if (rc == 0) {
        size_t n = (size_t)b.B * b.T;
        float *tok = star_malloc(sizeof(float) * n);
        for (size_t k = 0; k < n; k++) tok[k] = (float)b.inputs[k];
        st_writer *w = st_writer_create();
        int64_t ts[2] = {b.B, b.T}, ls[3] = {b.B, b.T, V};
        char buf[64];
        rc = st_writer_add(w, "tokens", ST_F32, 2, ts, tok, &err);
        if (rc == 0) rc = st_writer_add(w, "logits", ST_F32, 3, ls, model_logits(m), &err);
        if (rc == 0) rc = st_writer_add_metadata(w, "genome", genome_string, &err);
        snprintf(buf, sizeof buf, "%d", model_arch(m)->dims.width);
        if (rc == 0) rc = st_writer_add_metadata(w, "width", buf, &err);
        snprintf(buf, sizeof buf, "%d", V);
        if (rc == 0) rc = st_writer_add_metadata(w, "vocab", buf, &err);
        snprintf(buf, sizeof buf, "%zu", model_param_count(m));
        if (rc == 0) rc = st_writer_add_metadata(w, "params", buf, &err);
        if (rc == 0) rc = st_writer_write(w, out, &err);
        st_writer_free(w);
        free(tok);
    }
    model_free(m);
    token_batch_free(&b);
    if (rc != 0) {
        star_error_print(&err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
