// star generate CKPT_DIR [--prompt TEXT] [--tokens N] [--temperature T] [--seed S]
//
// Samples from a checkpoint one token at a time through the inference cache
// (decode_step): the prompt's bytes are fed first, then each sampled token is fed back.
// Only the continuation is printed; bytes that are not printable ASCII are escaped
// (\n stays a line break), tokens past 255 print as <N>.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ckpt_model.h"
#include "cli/commands.h"
#include "common/pcg32.h"
#include "common/timer.h"
#include "eval/model.h"
#include "eval/quality.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star generate CKPT_DIR [--prompt TEXT] [--tokens N] [--temperature T] [--seed S]\n"
            "                              [--threads N]\n\n"
            "Loads a checkpoint (star train --save DIR), feeds the prompt's bytes through the\n"
            "model's inference cache one at a time and samples N more tokens, each fed back.\n"
            "Prints the continuation (non-printable bytes escaped as \\xNN); the cache size is\n"
            "printed to stderr.\n\n"
            "  --prompt TEXT        bytes to start from (default: a newline)\n"
            "  --tokens N           tokens to sample (default 200)\n"
            "  --temperature T      softmax temperature (default 1; 0 = always the likeliest)\n"
            "  --seed S             sampling stream (default 1): the same seed, the same text\n"
            "  --threads N          CPU threads (default: all cores)\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star generate: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star generate --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

static int parse_number(const char *opt, const char *s, double lo, double hi, int integer, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi) || (integer && v != floor(v)))
        return usage_error("%s: expected %s in [%g, %g], got '%s'", opt, integer ? "an integer" : "a number", lo, hi, s);
    *out = v;
    return 0;
}

// Index of the next token: argmax at temperature 0, else a draw from softmax(logits / T).
static int sample_token(const real *logits, int V, double temperature, pcg32 *rng) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    if (temperature <= 0) return best;
    double total = 0;
    for (int i = 0; i < V; i++) total += exp(((double)logits[i] - logits[best]) / temperature);
    double u = pcg32_double(rng) * total, acc = 0;
    for (int i = 0; i < V; i++) {
        acc += exp(((double)logits[i] - logits[best]) / temperature);
        if (u < acc) return i;
    }
    return best;  // u rounded to the very top
}

static void print_token(int tok) {
    if (tok > 255) printf("<%d>", tok);
    else if (tok == '\n') putchar('\n');
    else if (tok == '\\') fputs("\\\\", stdout);
    else if (tok == '\t') fputs("\\t", stdout);
    else if (tok >= 0x20 && tok < 0x7f) putchar(tok);
    else printf("\\x%02x", tok);
}

int cmd_generate(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *dir = NULL, *prompt = "\n";
    double tokens = 200, temperature = 1.0, seed = 1, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        double *num = !strcmp(o, "--tokens")        ? &tokens
                      : !strcmp(o, "--temperature") ? &temperature
                      : !strcmp(o, "--seed")        ? &seed
                      : !strcmp(o, "--threads")     ? &threads
                                                    : NULL;
        if (num || !strcmp(o, "--prompt")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", o);
            const char *v = argv[++i];
            if (!num) prompt = v;
            else if (num == &tokens && parse_number(o, v, 0, 1 << 24, 1, num)) return EXIT_USAGE;
            else if (num == &temperature && parse_number(o, v, 0, 100, 0, num)) return EXIT_USAGE;
            else if (num == &seed && parse_number(o, v, 0, 9007199254740992.0, 1, num)) return EXIT_USAGE;
            else if (num == &threads && parse_number(o, v, 0, 4096, 1, num)) return EXIT_USAGE;
            continue;
        }
        if (o[0] == '-') return usage_error("unknown option '%s'", o);
        if (dir) return usage_error("unexpected argument '%s' (one CKPT_DIR only)", o);
        dir = o;
    }
    if (!dir) return usage_error("no checkpoint directory given");
    size_t n_prompt = strlen(prompt);
    if (n_prompt == 0) return usage_error("--prompt: expected at least one byte");
    quality_set_threads((int)threads);

    star_error err;
    memset(&err, 0, sizeof err);
    model *m = NULL;
    decode_state *d = NULL;
    real *logits = NULL;
    int rc = EXIT_FAIL;
    checkpoint_info info;
    if (ckpt_model_load(dir, 1, 1, &m, &info, &err) != 0) goto out;
    int V = info.vocab;
    long context = (long)n_prompt + (long)tokens;
    if (context > (1L << 24)) {
        STAR_FAIL(&err, "the prompt and --tokens make %ld positions, at most %d are supported", context, 1 << 24);
        goto out;
    }
    if (decode_create(m, (int)context, &d, &err) != 0) goto out;
    logits = malloc(sizeof(real) * (size_t)V);
    if (!logits) {
        STAR_FAIL(&err, "out of memory for %d logits", V);
        goto out;
    }
    for (size_t i = 0; i < n_prompt; i++) {
        int tok = (unsigned char)prompt[i];
        if (tok >= V) {
            STAR_FAIL(&err, "--prompt: byte %zu (0x%02x) is outside the checkpoint's vocabulary of %d", i + 1, tok, V);
            goto out;
        }
        if (decode_step(m, d, tok, logits, &err) != 0) goto out;
    }
    pcg32 rng = pcg32_derive((uint64_t)seed, 0x67656e6572617465ull);  // "generate"
    double t0 = star_now_s();
    for (long k = 0; k < (long)tokens; k++) {
        int tok = sample_token(logits, V, temperature, &rng);
        print_token(tok);
        if (k + 1 < (long)tokens && decode_step(m, d, tok, logits, &err) != 0) goto out;
    }
    double dt = star_now_s() - t0;
    printf("\n");
    fflush(stdout);
    fprintf(stderr,
            "%s: %ld prompt + %ld sampled tokens, %.0f tokens/s\n"
            "decode cache: %zu bytes (fp32, as held) at context %ld; %zu bytes in bf16\n",
            info.genome, (long)n_prompt, (long)tokens, dt > 0 ? tokens / dt : 0.0, decode_cache_bytes(d, (int)sizeof(real)),
            context, decode_cache_bytes(d, 2));
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) {
        fflush(stdout);
        star_error_print(&err);
    }
    free(logits);
    decode_free(d);
    model_free(m);
    return rc;
}
