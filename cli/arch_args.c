#include "cli/arch_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"

const char arch_args_help[] =
    "architecture:\n"
    "  ARCH                 a genome string (e.g. 11111-91111) or a genome / architecture YAML file\n"
    "  --width D            model width (default: the file's, else 128)\n"
    "  --vocab V            vocabulary (default: the file's, else 256; MAD tasks need >= their own)\n"
    "data (one of):\n"
    "  --data FILE          byte-level text; the last 10% is held out for validation\n"
    "  --bin PATTERN        llm.c .bin uint16 token shards (a path or a glob)\n"
    "  --mad TASK[,TASK]    MAD synthetic tasks, generated in-process\n"
    "budget:\n"
    "  --tokens N           training tokens (sets the steps: N / (batch * seq-len))\n"
    "  --steps N            training steps (default 300)\n"
    "  --batch B            sequences per step (default 16)\n"
    "  --seq-len T          tokens per sequence (default 128)\n"
    "  --lr X               peak learning rate (default 3e-3); --warmup N steps (default steps/10)\n"
    "  --weight-decay X     AdamW decay on matrices (default 0.1); --clip X gradient norm (default 1)\n"
    "  --seed S             weights and data order (default 1)\n"
    "  --threads N          CPU threads (default: all cores)\n"
    "  --log-every N        print the training loss every N steps\n"
    "  --json               print one JSON object\n";

void arch_args_defaults(arch_args *a) {
    memset(a, 0, sizeof *a);
    a->steps = 300;
    a->batch = 16;
    a->seq_len = 128;
    a->warmup = -1;
    a->lr = 3e-3;
    a->weight_decay = 0.1;
    a->clip = 1.0;
    a->seed = 1;
}

static int want_value(int argc, char **argv, int i) {
    if (i + 1 >= argc) {
        fprintf(stderr, "star: error: %s needs a value\n", argv[i]);
        return 0;
    }
    return 1;
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);  // accepts 1e6
    if (end == s || *end || errno || v < lo || v > hi || v != (double)(long)v) {
        fprintf(stderr, "star: error: %s: expected an integer in [%ld, %ld], got '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = (long)v;
    return 0;
}

int arch_args_long(int argc, char **argv, int *i, long lo, long hi, long *out) {
    if (!want_value(argc, argv, *i)) return -1;
    const char *opt = argv[*i];
    return parse_long(opt, argv[++*i], lo, hi, out);
}

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "star: error: %s: expected a number in [%g, %g], got '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int arch_args_option(arch_args *a, int argc, char **argv, int *i) {
    const char *o = argv[*i];
    long v;
    const char **str = NULL;
    if (!strcmp(o, "--data")) str = &a->data;
    else if (!strcmp(o, "--bin")) str = &a->bin;
    else if (!strcmp(o, "--mad")) str = &a->mad;
    else if (!strcmp(o, "--save")) str = &a->save;
    else if (!strcmp(o, "--from")) str = &a->from;
    if (str) {
        if (!want_value(argc, argv, *i)) return -1;
        *str = argv[++*i];
        return 1;
    }
    if (!strcmp(o, "--json")) {
        a->json = 1;
        return 1;
    }
    struct { const char *name; int *dst; long lo, hi; } ints[] = {
        {"--steps", &a->steps, 1, 100000000}, {"--batch", &a->batch, 1, 65536},   {"--seq-len", &a->seq_len, 1, 1 << 20},
        {"--warmup", &a->warmup, 0, 100000000}, {"--threads", &a->threads, 0, 4096}, {"--log-every", &a->log_every, 0, 1 << 30},
        {"--width", &a->width, 32, 65536},     {"--vocab", &a->vocab, 2, 1 << 24},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        if (strcmp(o, ints[k].name)) continue;
        if (!want_value(argc, argv, *i) || parse_long(o, argv[++*i], ints[k].lo, ints[k].hi, &v) != 0) return -1;
        *ints[k].dst = (int)v;
        return 1;
    }
    if (!strcmp(o, "--tokens")) {
        if (!want_value(argc, argv, *i) || parse_long(o, argv[++*i], 1, 1L << 50, &a->tokens) != 0) return -1;
        return 1;
    }
    if (!strcmp(o, "--seed")) {
        if (!want_value(argc, argv, *i) || parse_long(o, argv[++*i], 0, 1L << 52, &v) != 0) return -1;
        a->seed = (uint64_t)v;
        return 1;
    }
    struct { const char *name; double *dst; double lo, hi; } dbls[] = {
        {"--lr", &a->lr, 0, 10}, {"--weight-decay", &a->weight_decay, 0, 10}, {"--clip", &a->clip, 0, 1e6}};
    for (size_t k = 0; k < sizeof dbls / sizeof dbls[0]; k++) {
        if (strcmp(o, dbls[k].name)) continue;
        if (!want_value(argc, argv, *i) || parse_double(o, argv[++*i], dbls[k].lo, dbls[k].hi, dbls[k].dst) != 0)
            return -1;
        return 1;
    }
    return 0;
}

int arch_args_load(arch_args *a, star_error *err) {
    if (!a->arch_arg) return STAR_FAIL(err, "no architecture given (a genome string or a file)");
    genome_dims fd = {0, 0};
    if (genome_load_arg(a->arch_arg, &a->g, &fd, err) != 0) return -1;
    a->dims.width = a->width ? a->width : fd.width ? fd.width : 128;
    a->dims.vocab = a->vocab ? a->vocab : fd.vocab ? fd.vocab : 256;
    if (genome_dims_check(a->dims, err) != 0) return -1;
    if (genome_check(&a->g, a->dims, err) != 0) return -1;
    if (genome_resolve(&a->g, a->dims, &a->a, err) != 0) return -1;
    if (genome_to_string(&a->g, a->genome_string, sizeof a->genome_string) < 0)
        return STAR_FAIL(err, "the genome is too long to print");
    if (a->tokens > 0) {
        long per_step = (long)a->batch * a->seq_len;
        a->steps = (int)((a->tokens + per_step - 1) / per_step);
    }
    if (a->warmup < 0) a->warmup = a->steps / 10;
    if (a->warmup > a->steps) a->warmup = a->steps;
    return 0;
}

void arch_args_train_params(const arch_args *a, int T, train_params *tp) {
    train_params_default(tp);
    tp->steps = a->steps;
    tp->batch = a->batch;
    tp->seq_len = T;
    tp->lr = a->lr;
    tp->warmup_steps = a->warmup;
    tp->weight_decay = a->weight_decay;
    tp->clip = a->clip;
    tp->log_every = a->log_every;
    tp->val_batches = 0;
}
