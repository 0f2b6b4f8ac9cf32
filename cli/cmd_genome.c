// star genome random|check|decode|mutate|cross|stats: explore the genome space from the
// command line. GENOME is a STAR string or the path of a genome YAML file.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_picture.h"
#include "cli/commands.h"
#include "cli/genome_decode.h"
#include "common/json.h"
#include "common/pcg32.h"
#include "genome/gene_table.h"
#include "genome/genome_canonical.h"
#include "genome/genome_check.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "genome/space.h"
#include "genome/variation.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char *const help_text[] = {
    "usage: star genome <subcommand> [options]   (star genome <subcommand> --help)\n\n"
    "  random   print random genomes of a space\n"
    "  check    'ok', or the first broken rule with its gene position (exit 1)\n"
    "  decode   a table of the LIVs: class, sharing, resolved shapes, parameters\n"
    "  mutate   print a mutation of a genome\n"
    "  cross    print a child of two genomes (k-point crossover on LIV boundaries)\n"
    "  stats    parameters, cache bytes and FLOPs per token\n"
    "  draw     an SVG picture: the LIV stack by class, sharing as arcs\n\n"
    "GENOME is a STAR string (21211-31112;o1=21311) or a genome YAML file (docs/genome.md).\n",
    // random
    "usage: star genome random [--seed N] [--count N] [--depth-min N] [--depth-max N]\n"
    "                          [--classes SA-1,GMemless,...] [--width D] [--vocab V]\n"
    "                          [--no-featurizer-sharing] [--no-feature-group-sharing]\n\n"
    "Prints --count (default 1) random genomes of the space, one canonical STAR string per\n"
    "line (genes of classes a genome does not use are left out: docs/genome.md).\n"
    "Defaults: seed 1, depth 2..8, every class, width 128, vocab 256, sharing allowed.\n",
    // check
    "usage: star genome check GENOME [--width D] [--vocab V]\n\n"
    "Prints 'ok' when GENOME is valid at the dims (the file's, else the options', else\n"
    "width 128 and vocab 256), else the first broken rule naming the gene position, and\n"
    "exits 1.\n",
    // decode
    "usage: star genome decode GENOME [--width D] [--vocab V]\n\n"
    "Prints the genome's string, canonical string and hash, then one line per LIV: class,\n"
    "norm, sharing (tie -> owner, kv -> owner), inner width, heads, class details, feature\n"
    "groups (dim, /cN short conv, /gN grouped projection) and parameters.\n",
    // mutate
    "usage: star genome mutate GENOME --seed N [--rate R] [--depth-min N] [--depth-max N]\n"
    "                          [--classes ...] [--width D] [--vocab V]\n\n"
    "Prints a mutation of GENOME: every per-gene rate and the insert/delete rates are R\n"
    "(default 0.1); the space (default: every class, depth 1..64) bounds the result.\n",
    // cross
    "usage: star genome cross A B --seed N [--points K] [--depth-min N] [--depth-max N]\n"
    "                         [--classes ...] [--width D] [--vocab V]\n\n"
    "Prints a child of A and B by K-point crossover (default 2) on LIV boundaries.\n",
    // stats
    "usage: star genome stats GENOME --width D --vocab V --context T [--dtype bf16|fp32] [--json]\n\n"
    "Prints params (tied weights once), cache_bytes per sequence at context T (default\n"
    "dtype bf16), flops_per_token and train_flops_per_token (3x forward). --width and\n"
    "--vocab may be left out when the genome file has them. Formulas: docs/genome.md.\n",
    // draw
    "usage: star genome draw GENOME [--width D] [--vocab V] [--out FILE.svg]\n\n"
    "Writes an SVG picture of the genome (standard output without --out): the LIVs as a\n"
    "column of blocks coloured by class, first at the top, with their shapes and parameters;\n"
    "featurizer sharing (tied weights) as solid arcs on the left, feature-group sharing\n"
    "(reused K/V or state inputs) as dashed arcs on the right, from owner to user.\n",
};
enum { SUB_NONE, SUB_RANDOM, SUB_CHECK, SUB_DECODE, SUB_MUTATE, SUB_CROSS, SUB_STATS, SUB_DRAW, SUB_COUNT };
static const char *const sub_names[SUB_COUNT] = {NULL, "random", "check", "decode", "mutate", "cross", "stats", "draw"};

typedef struct options {
    const char *pos[2];
    int n_pos;
    long seed, count, depth_min, depth_max, width, vocab, points, context;
    int has_seed, has_width, has_vocab, has_context, json, no_feat_share, no_fg_share;
    unsigned classes;
    double rate;
    int dtype_bytes;
    const char *dtype;
    const char *out;  // draw: --out FILE
} options;

static int usage_error(int sub, const char *fmt, const char *arg) {
    fprintf(stderr, "star: error: star genome %s: ", sub_names[sub] ? sub_names[sub] : "");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", help_text[sub]);
    return EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_classes(const char *s, unsigned *out) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    *out = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int c = liv_class_from_name(tok);
        if (!c) return -1;
        *out |= GENOME_CLASS_BIT(c);
    }
    return *out ? 0 : -1;
}

// Which options each subcommand takes (a flag's name without the leading dashes).
static int allowed(int sub, const char *flag) {
    static const char *const per_sub[SUB_COUNT] = {
        "",
        " seed count depth-min depth-max classes width vocab no-featurizer-sharing no-feature-group-sharing ",
        " width vocab ",
        " width vocab ",
        " seed rate depth-min depth-max classes width vocab ",
        " seed points depth-min depth-max classes width vocab ",
        " width vocab context dtype json ",
        " width vocab out ",
    };
    char key[64];
    snprintf(key, sizeof key, " %s ", flag);
    return strstr(per_sub[sub], key) != NULL;
}

static int parse_options(int sub, int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1, o->count = 1, o->depth_min = -1, o->depth_max = -1, o->points = 2, o->rate = 0.1;
    o->dtype = "bf16", o->dtype_bytes = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (o->n_pos == 2) return usage_error(sub, "unexpected argument '%s'", a);
            o->pos[o->n_pos++] = a;
            continue;
        }
        const char *flag = a + 2;
        if (!allowed(sub, flag)) return usage_error(sub, "unknown option '%s'", a);
        if (!strcmp(flag, "json")) o->json = 1;
        else if (!strcmp(flag, "no-featurizer-sharing")) o->no_feat_share = 1;
        else if (!strcmp(flag, "no-feature-group-sharing")) o->no_fg_share = 1;
        else {
            if (i + 1 >= argc) return usage_error(sub, "option '%s' needs a value", a);
            const char *v = argv[++i];
            int bad = 0;
            if (!strcmp(flag, "seed")) bad = parse_long(v, 0, 0x7fffffffL, &o->seed), o->has_seed = 1;
            else if (!strcmp(flag, "count")) bad = parse_long(v, 1, 1000000, &o->count);
            else if (!strcmp(flag, "depth-min")) bad = parse_long(v, 1, GENOME_MAX_DEPTH, &o->depth_min);
            else if (!strcmp(flag, "depth-max")) bad = parse_long(v, 1, GENOME_MAX_DEPTH, &o->depth_max);
            else if (!strcmp(flag, "width")) bad = parse_long(v, 32, GENOME_WIDTH_MAX, &o->width), o->has_width = 1;
            else if (!strcmp(flag, "vocab")) bad = parse_long(v, 2, GENOME_VOCAB_MAX, &o->vocab), o->has_vocab = 1;
            else if (!strcmp(flag, "points")) bad = parse_long(v, 1, 16, &o->points);
            else if (!strcmp(flag, "context")) bad = parse_long(v, 1, 1L << 30, &o->context), o->has_context = 1;
            else if (!strcmp(flag, "classes")) bad = parse_classes(v, &o->classes);
            else if (!strcmp(flag, "out")) o->out = v;
            else if (!strcmp(flag, "rate")) {
                char *end;
                o->rate = strtod(v, &end);
                bad = end == v || *end || !(o->rate >= 0 && o->rate <= 1);
            } else if (!strcmp(flag, "dtype")) {
                o->dtype = v;
                o->dtype_bytes = !strcmp(v, "bf16") ? 2 : !strcmp(v, "fp32") ? 4 : 0;
                bad = o->dtype_bytes == 0;
            }
            if (bad) return usage_error(sub, "bad value for %s", a);
            if (o->has_width && o->width % 32) return usage_error(sub, "--width must be a multiple of 32, got %s", v);
        }
    }
    return 0;
}

// Loads a genome argument; dims come from the options, else the file, else 128/256.
static int load_genome(const char *arg, const options *o, genome *g, genome_dims *dims) {
    star_error err = {0};
    genome_dims file_dims;
    if (genome_load_arg(arg, g, &file_dims, &err)) {
        star_error_print(&err);
        return -1;
    }
    dims->width = o->has_width ? (int)o->width : file_dims.width ? file_dims.width : 128;
    dims->vocab = o->has_vocab ? (int)o->vocab : file_dims.vocab ? file_dims.vocab : 256;
    return 0;
}

static int fail(const star_error *err) {
    star_error_print(err);
    return EXIT_FAIL;
}

static genome_space space_from(const options *o, int depth_min, int depth_max) {
    genome_space s = genome_space_default();
    s.depth_min = o->depth_min > 0 ? (int)o->depth_min : depth_min;
    s.depth_max = o->depth_max > 0 ? (int)o->depth_max : depth_max;
    if (o->classes) s.classes = o->classes;
    if (o->has_width) s.dims.width = (int)o->width;
    if (o->has_vocab) s.dims.vocab = (int)o->vocab;
    s.allow_featurizer_sharing = !o->no_feat_share;
    s.allow_feature_group_sharing = !o->no_fg_share;
    return s;
}

static int print_genome(const genome *g) {
    char buf[GENOME_STRING_MAX];
    if (genome_to_string(g, buf, sizeof buf) < 0) {
        fprintf(stderr, "star: error: genome cannot be written as a string\n");
        return EXIT_FAIL;
    }
    printf("%s\n", buf);
    return EXIT_OK;
}

static int run_random(const options *o) {
    genome_space s = space_from(o, 2, 8);
    star_error err = {0};
    if (genome_space_check(&s, &err)) return fail(&err);
    pcg32 rng;
    pcg32_seed(&rng, (uint64_t)o->seed, 0x67656e6f6d65ULL);  // stream "genome"
    for (long i = 0; i < o->count; i++) {
        genome g;
        genome_random(&s, &rng, &g);
        genome_canonical(&g, s.dims, &g);
        if (print_genome(&g)) return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int run_check(const options *o) {
    genome g;
    genome_dims dims;
    if (load_genome(o->pos[0], o, &g, &dims)) return EXIT_FAIL;
    star_error err = {0};
    if (genome_check(&g, dims, &err)) return fail(&err);
    printf("ok\n");
    return EXIT_OK;
}

static int run_decode(const options *o) {
    genome g;
    genome_dims dims;
    if (load_genome(o->pos[0], o, &g, &dims)) return EXIT_FAIL;
    star_error err = {0};
    if (genome_decode_print(stdout, &g, dims, &err)) return fail(&err);
    return EXIT_OK;
}

static int run_variation(int sub, const options *o) {
    genome a, b, child;
    genome_dims dims;
    if (load_genome(o->pos[0], o, &a, &dims)) return EXIT_FAIL;
    if (sub == SUB_CROSS && load_genome(o->pos[1], o, &b, &dims)) return EXIT_FAIL;
    genome_space s = space_from(o, 1, GENOME_MAX_DEPTH);
    s.dims = dims;
    star_error err = {0};
    if (genome_space_check(&s, &err)) return fail(&err);
    pcg32 rng;
    pcg32_seed(&rng, (uint64_t)o->seed, 0x76617279ULL);  // stream "vary"
    if (sub == SUB_MUTATE) {
        genome_mutation_rates r = {o->rate, o->rate, o->rate, o->rate, o->rate, o->rate};
        child = a;
        genome_mutate(&child, &s, &r, &rng);
    } else {
        genome_crossover(&a, &b, (int)o->points, &s, &rng, &child);
    }
    return print_genome(&child);
}

static int run_stats(const options *o) {
    genome g;
    genome_dims file_dims;
    star_error err = {0};
    if (genome_load_arg(o->pos[0], &g, &file_dims, &err)) return fail(&err);
    genome_dims dims = {o->has_width ? (int)o->width : file_dims.width, o->has_vocab ? (int)o->vocab : file_dims.vocab};
    if (!dims.width) return usage_error(SUB_STATS, "%s", "--width is required (the genome gives none)");
    if (!dims.vocab) return usage_error(SUB_STATS, "%s", "--vocab is required (the genome gives none)");
    if (!o->has_context) return usage_error(SUB_STATS, "%s", "--context is required");
    arch_stats st;
    if (genome_stats(&g, dims, o->context, o->dtype_bytes, &st, &err)) return fail(&err);
    if (o->json) {
        char str[GENOME_STRING_MAX];
        genome_to_string(&g, str, sizeof str);
        json_writer w;
        jw_init(&w);
        jw_obj_begin(&w);
        jw_kv_str(&w, "genome", str);
        jw_kv_int(&w, "width", dims.width);
        jw_kv_int(&w, "vocab", dims.vocab);
        jw_kv_int(&w, "context", o->context);
        jw_kv_str(&w, "dtype", o->dtype);
        jw_kv_int(&w, "params", st.params);
        jw_kv_int(&w, "cache_bytes", st.cache_bytes);
        jw_kv_int(&w, "flops_per_token", st.flops_per_token);
        jw_kv_int(&w, "train_flops_per_token", st.train_flops_per_token);
        jw_obj_end(&w);
        printf("%s\n", w.buf);
        jw_free(&w);
    } else {
        printf("params                 %lld\n", (long long)st.params);
        printf("cache_bytes            %lld  (context %ld, %s)\n", (long long)st.cache_bytes, o->context, o->dtype);
        printf("flops_per_token        %lld\n", (long long)st.flops_per_token);
        printf("train_flops_per_token  %lld\n", (long long)st.train_flops_per_token);
    }
    return EXIT_OK;
}

static int run_draw(const options *o) {
    genome g;
    genome_dims dims;
    if (load_genome(o->pos[0], o, &g, &dims)) return EXIT_FAIL;
    star_error err = {0};
    if (arch_picture_write(o->out, &g, dims, &err)) return fail(&err);
    return EXIT_OK;
}

int cmd_genome(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help_text[0], argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    int sub = SUB_NONE;
    for (int s = 1; s < SUB_COUNT; s++)
        if (!strcmp(argv[1], sub_names[s])) sub = s;
    if (sub == SUB_NONE) {
        fprintf(stderr, "star: error: star genome: unknown subcommand '%s'\n%s", argv[1], help_text[0]);
        return EXIT_USAGE;
    }
    if (cli_wants_help(argc - 1, argv + 1)) {
        fputs(help_text[sub], stdout);
        return EXIT_OK;
    }
    options o;
    int rc = parse_options(sub, argc - 1, argv + 1, &o);
    if (rc) return rc;
    int want = sub == SUB_RANDOM ? 0 : sub == SUB_CROSS ? 2 : 1;
    if (o.n_pos != want) {
        char what[64];
        snprintf(what, sizeof what, "expected %d genome argument%s", want, want == 1 ? "" : "s");
        return usage_error(sub, "%s", what);
    }
    if ((sub == SUB_MUTATE || sub == SUB_CROSS) && !o.has_seed) return usage_error(sub, "%s", "--seed is required");
    switch (sub) {
    case SUB_RANDOM: return run_random(&o);
    case SUB_CHECK: return run_check(&o);
    case SUB_DECODE: return run_decode(&o);
    case SUB_MUTATE:
    case SUB_CROSS: return run_variation(sub, &o);
    case SUB_DRAW: return run_draw(&o);
    default: return run_stats(&o);
    }
}
