// star export SOURCE [--pick ID | --best OBJECTIVE] [--gen N] [--format yaml|json|pytorch]
//                    [--weights [--task NAME]] [--out DIR] [--width D] [--vocab V]
//
// Takes one architecture out of star: from a run directory (a member of its last
// generation, or of generation N), from a checkpoint directory (star train --save), or
// from a genome. Writes a self-contained architecture file (YAML or JSON) that
// `star train FILE` reads, or a standalone PyTorch module; --weights adds the weights in
// safetensors under the module's state_dict names. docs/export.md describes the files.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/ckpt_model.h"
#include "cli/commands.h"
#include "cli/export_arch.h"
#include "cli/run_read.h"
#include "common/file.h"
#include "config/config.h"
#include "eval/checkpoint.h"
#include "eval/run_weights.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "search/ranking.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { FORMAT_YAML, FORMAT_JSON, FORMAT_PYTORCH };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star export SOURCE [--pick ID | --best OBJECTIVE] [--gen N]\n"
            "                   [--format yaml|json|pytorch] [--weights [--task NAME]] [--out DIR]\n\n"
            "SOURCE is one of:\n"
            "  a run directory (star search): pick a member of its last generation (or of --gen N)\n"
            "    --pick N          the N-th row (1-based) of `star front RUN` on all objectives\n"
            "    --pick HASH       the member with this 16-hex-digit hash (archive.jsonl, star front --format json)\n"
            "    --best OBJECTIVE  the front member with the lowest value of OBJECTIVE (ties: the\n"
            "                      other objectives in order)\n"
            "  a checkpoint directory (star train --save DIR): its genome, dimensions and weights\n"
            "  a genome string or genome YAML file (--width D, --vocab V when it has none;\n"
            "    defaults 128 and 256)\n\n"
            "  --format yaml|json  an architecture file (DIR/arch.yaml or DIR/arch.json; standard\n"
            "                      output without --out) that `star train FILE` reads: the genome,\n"
            "                      gene-table version, width and vocabulary, and every resolved\n"
            "                      dimension (default: yaml)\n"
            "  --format pytorch    DIR/model.py: a standalone module needing only torch that\n"
            "                      computes what star's CPU engine computes (needs --out)\n"
            "  --weights           also DIR/model.safetensors: the weights under the module's\n"
            "                      state_dict names: a checkpoint's, or, from a run, the member's\n"
            "                      weights at its highest fidelity (RUN/weights/, run.keep_weights all)\n"
            "  --task NAME         with --weights from a run on MAD data: the task whose model to\n"
            "                      take (each task trains its own; needed when there are several)\n"
            "  --out DIR           the directory to write (created if needed)\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star export: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star export --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

typedef struct export_options {
    const char *source, *pick, *best, *out, *task;
    int format, weights, gen, width, vocab;
} export_options;

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) {
        usage_error("%s: expected an integer in [%d, %d], got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, export_options *o) {
    memset(o, 0, sizeof *o);
    o->gen = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--weights")) {
            o->weights = 1;
        } else if (!strcmp(a, "--pick") || !strcmp(a, "--best") || !strcmp(a, "--out") || !strcmp(a, "--format") ||
                   !strcmp(a, "--gen") || !strcmp(a, "--width") || !strcmp(a, "--vocab") || !strcmp(a, "--task")) {
            if (!has_value) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--pick")) o->pick = v;
            else if (!strcmp(a, "--best")) o->best = v;
            else if (!strcmp(a, "--out")) o->out = v;
            else if (!strcmp(a, "--task")) o->task = v;
            else if (!strcmp(a, "--gen") && parse_int(a, v, 0, 1 << 30, &o->gen)) return EXIT_USAGE;
            else if (!strcmp(a, "--width") && parse_int(a, v, 32, GENOME_WIDTH_MAX, &o->width)) return EXIT_USAGE;
            else if (!strcmp(a, "--vocab") && parse_int(a, v, 2, GENOME_VOCAB_MAX, &o->vocab)) return EXIT_USAGE;
            else if (!strcmp(a, "--format")) {
                if (!strcmp(v, "yaml")) o->format = FORMAT_YAML;
                else if (!strcmp(v, "json")) o->format = FORMAT_JSON;
                else if (!strcmp(v, "pytorch")) o->format = FORMAT_PYTORCH;
                else return usage_error("--format: expected yaml, json or pytorch, got '%s'", v);
            }
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (o->source) {
            return usage_error("unexpected argument '%s' (one SOURCE only)", a);
        } else {
            o->source = a;
        }
    }
    if (!o->source) return usage_error("expected a SOURCE (a run or checkpoint directory, or a genome)");
    if (o->pick && o->best) return usage_error("give --pick or --best, not both");
    if (o->format == FORMAT_PYTORCH && !o->out) return usage_error("--format pytorch needs --out DIR");
    if (o->weights && !o->out) return usage_error("--weights needs --out DIR");
    if (o->task && !o->weights) return usage_error("--task applies with --weights only");
    return EXIT_OK;
}

// What was exported: the genome at its dims, and the model when weights come with it.
typedef struct export_item {
    genome g;
    arch a;
    export_source src;
    char hash[24];
    model *m;  // with --weights
} export_item;

static int is_hash(const char *s) {
    if (strlen(s) != 16) return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdefABCDEF", *p)) return 0;
    return 1;
}

// The front of a generation as `star front` prints it on all objectives: feasible
// members with finite objectives that no other such member dominates, sorted by the
// objectives in order, then by population index. Returns the count; idx receives them.
static int generation_front(const run_generation *g, int *idx) {
    int n = 0, m = g->n_obj;
    for (int a = 0; a < g->n; a++) {
        const run_member *pa = &g->pop[a];
        int ok = pa->feasible;
        for (int k = 0; ok && k < m; k++) ok = isfinite(pa->f[k]);
        if (!ok) continue;
        int dominated = 0;
        for (int b = 0; b < g->n && !dominated; b++) {
            const run_member *pb = &g->pop[b];
            int okb = pb->feasible;
            for (int k = 0; okb && k < m; k++) okb = isfinite(pb->f[k]);
            dominated = okb && pareto_dominance(pa->f, pb->f, m) < 0;
        }
        if (!dominated) idx[n++] = a;
    }
    for (int i = 1; i < n; i++) {  // insertion sort: fronts hold at most a population
        int t = idx[i], j = i;
        for (; j > 0; j--) {
            const run_member *x = &g->pop[t], *y = &g->pop[idx[j - 1]];
            int k = 0;
            for (; k < m && x->f[k] == y->f[k]; k++) {}
            int before = k < m ? x->f[k] < y->f[k] : t < idx[j - 1];
            if (!before) break;
            idx[j] = idx[j - 1];
        }
        idx[j] = t;
    }
    return n;
}

// Index into g->pop of the member chosen by --pick / --best.
static int choose_member(const run_generation *g, const char *path, const export_options *o, star_error *err) {
    int *idx = star_malloc(sizeof(int) * (size_t)(g->n > 0 ? g->n : 1));
    int n = generation_front(g, idx), chosen = -1;
    if (o->pick && is_hash(o->pick)) {
        for (int i = 0; i < g->n; i++)
            if (!strcasecmp(g->pop[i].hash, o->pick)) chosen = i;
        if (chosen < 0) STAR_FAIL(err, "%s: no member has hash %s (--pick HASH looks in this generation)", path, o->pick);
    } else if (o->pick) {
        char *end;
        long r = strtol(o->pick, &end, 10);
        if (end == o->pick || *end || r < 1 || r > n)
            STAR_FAIL(err, "--pick %s: expected a row of the front of generation %d, in [1, %d] (star front %s --gen %d), "
                      "or a 16-digit hash", o->pick, g->generation, n, o->source, g->generation);
        else
            chosen = idx[r - 1];
    } else {
        int k = -1;
        for (int j = 0; j < g->n_obj; j++)
            if (!strcmp(g->obj_names[j], o->best)) k = j;
        if (k < 0) {
            char have[512] = "";
            for (int j = 0; j < g->n_obj; j++)
                snprintf(have + strlen(have), sizeof have - strlen(have), " %s", g->obj_names[j]);
            STAR_FAIL(err, "--best %s: %s has no such objective (it has:%s)", o->best, path, have);
        } else {
            // The front is sorted by the objectives in order; the lowest on k, ties by the
            // others in order (the sort's order among equal values).
            for (int j = 0; j < n; j++)
                if (chosen < 0 || g->pop[idx[j]].f[k] < g->pop[chosen].f[k]) chosen = idx[j];
            if (chosen < 0) STAR_FAIL(err, "%s: the generation has no feasible member", path);
        }
    }
    free(idx);
    return chosen;
}

static int is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// The weights the run kept for the chosen member (eval/run_weights.h): the model comes
// from that checkpoint, and so does the genome (the one trained, of the member's hash).
static int run_member_weights(const export_options *o, const star_config *cfg, export_item *it, star_error *err) {
    char dir[4096];
    checkpoint_info info;
    if (cfg->run.keep_weights == CONFIG_KEEP_NONE)
        return STAR_FAIL(err, "%s: this run keeps no weights (run.keep_weights: none); train the architecture with "
                              "`star train ARCH --save DIR` (ARCH from star export --format yaml) and export DIR "
                              "with --weights, or search again with run.keep_weights: all",
                         o->source);
    if (run_weights_find(o->source, it->hash, o->task, dir, sizeof dir, err) != 0) return -1;
    if (ckpt_model_load(dir, 1, 1, &it->m, &info, err) != 0) return -1;
    if (genome_parse(info.genome, &it->g, err) != 0) return star_error_prefix(err, "%s: metadata 'genome'", dir);
    if (info.width != it->a.dims.width || info.vocab != it->a.dims.vocab)
        return STAR_FAIL(err, "%s: width %d, vocab %d, the run's config says %d, %d", dir, info.width, info.vocab,
                         it->a.dims.width, it->a.dims.vocab);
    it->src.step = info.step;
    fprintf(stderr, "star export: weights from %s\n", dir);
    return 0;
}

static int from_run(const export_options *o, export_item *it, star_error *err) {
    if (!o->pick && !o->best) return STAR_FAIL(err, "%s is a run: say which member with --pick ID or --best OBJECTIVE", o->source);
    char path[4096], cpath[4096];
    int gen;
    if (run_generation_path(o->source, o->gen, path, sizeof path, &gen, err) != 0) return -1;
    star_config cfg;
    if (path_join(cpath, sizeof cpath, o->source, "config.yaml", err) != 0 || config_load(cpath, NULL, 0, &cfg, err) != 0)
        return -1;
    run_generation g;
    if (run_generation_read(path, &g, err) != 0) return -1;
    int rc = -1, k = choose_member(&g, path, o, err);
    if (k >= 0) {
        const run_member *mem = &g.pop[k];
        if (mem->x_kind != RUN_X_STRING) {
            STAR_FAIL(err, "%s: member %d is not a genome (this run is not an architecture search)", path, k);
        } else if (genome_parse(mem->x_string, &it->g, err) != 0) {
            star_error_prefix(err, "%s: population[%d].x", path, k);
        } else {
            snprintf(it->hash, sizeof it->hash, "%s", mem->hash);
            it->a.dims = (genome_dims){cfg.space.width, cfg.space.vocab};
            it->src = (export_source){.kind = "run", .path = o->source, .hash = it->hash, .generation = gen, .step = -1};
            rc = o->weights ? run_member_weights(o, &cfg, it, err) : 0;
        }
    }
    run_generation_free(&g);
    return rc;
}

static int from_checkpoint(const export_options *o, export_item *it, star_error *err) {
    if (o->pick || o->best) return STAR_FAIL(err, "%s is a checkpoint: --pick and --best apply to runs only", o->source);
    if (o->task) return STAR_FAIL(err, "%s is a checkpoint: --task applies to runs only", o->source);
    checkpoint_info info;
    if (o->weights) {
        if (ckpt_model_load(o->source, 1, 1, &it->m, &info, err) != 0) return -1;
    } else if (checkpoint_read_info(o->source, &info, err) != 0) {
        return -1;
    }
    if (genome_parse(info.genome, &it->g, err) != 0) return star_error_prefix(err, "%s: metadata 'genome'", o->source);
    it->a.dims = (genome_dims){info.width, info.vocab};
    it->src = (export_source){.kind = "checkpoint", .path = o->source, .hash = "", .generation = -1, .step = info.step};
    return 0;
}

static int from_genome(const export_options *o, export_item *it, star_error *err) {
    if (o->pick || o->best) return STAR_FAIL(err, "--pick and --best apply to run directories; %s is not one", o->source);
    if (o->weights)
        return STAR_FAIL(err, "%s is a genome: it has no weights; train it with `star train %s --save DIR` and export "
                              "DIR with --weights", o->source, o->source);
    genome_dims fd = {0, 0};
    if (genome_load_arg(o->source, &it->g, &fd, err) != 0) return -1;
    it->a.dims.width = o->width ? o->width : fd.width ? fd.width : 128;
    it->a.dims.vocab = o->vocab ? o->vocab : fd.vocab ? fd.vocab : 256;
    it->src = (export_source){.kind = "genome", .path = "", .hash = "", .generation = -1, .step = -1};
    return 0;
}


static int write_text(const char *dir, const char *name, const char *text, star_error *err) {
    if (!dir) {
        fputs(text, stdout);
        return 0;
    }
    char path[4096];
    if (dir_create(dir, err) != 0 || path_join(path, sizeof path, dir, name, err) != 0) return -1;
    if (file_write_atomic(path, text, strlen(text), err) != 0) return -1;
    fprintf(stderr, "star export: wrote %s\n", path);
    return 0;
}

static int run_export(const export_options *o, star_error *err) {
    export_item it;
    memset(&it, 0, sizeof it);
    char probe[4096];
    int rc;
    if (path_join(probe, sizeof probe, o->source, "model.safetensors", err) == 0 && file_exists(probe)) {
        rc = from_checkpoint(o, &it, err);
    } else if (path_join(probe, sizeof probe, o->source, "generations", err) == 0 && file_exists(probe)) {
        rc = from_run(o, &it, err);
    } else if (is_directory(o->source)) {
        rc = STAR_FAIL(err, "%s is a directory but neither a checkpoint (no model.safetensors) nor a run (no generations/)",
                       o->source);
    } else if (strchr(o->source, '/') && !file_exists(o->source)) {
        rc = STAR_FAIL(err, "%s: no such file or directory", o->source);
    } else {
        rc = from_genome(o, &it, err);
    }
    if (rc == 0 && (o->width || o->vocab) && strcmp(it.src.kind, "genome"))
        rc = STAR_FAIL(err, "--width and --vocab apply to genome sources; %s fixes its own", o->source);
    if (rc == 0) rc = genome_dims_check(it.a.dims, err);
    if (rc == 0) rc = genome_check(&it.g, it.a.dims, err);
    genome_dims dims = it.a.dims;
    if (rc == 0) rc = genome_resolve(&it.g, dims, &it.a, err);
    if (rc == 0) {
        if (o->format == FORMAT_PYTORCH) {
            rc = export_pytorch_module(o->out, &it.g, &it.a, &it.src, err);
            if (rc == 0) fprintf(stderr, "star export: wrote %s/model.py\n", o->out);
        } else {
            char *text = o->format == FORMAT_JSON ? export_arch_json(&it.g, &it.a, &it.src)
                                                  : export_arch_yaml(&it.g, &it.a, &it.src);
            rc = write_text(o->out, o->format == FORMAT_JSON ? "arch.json" : "arch.yaml", text, err);
            free(text);
        }
    }
    if (rc == 0 && o->weights) {
        char path[4096], gs[GENOME_STRING_MAX];
        if (genome_to_string(&it.g, gs, sizeof gs) < 0) rc = STAR_FAIL(err, "the genome is too long to print");
        if (rc == 0) rc = path_join(path, sizeof path, o->out, "model.safetensors", err);
        if (rc == 0) rc = export_weights(path, it.m, gs, err);
        if (rc == 0) fprintf(stderr, "star export: wrote %s (%zu parameters)\n", path, model_param_count(it.m));
    }
    model_free(it.m);
    return rc;
}

int cmd_export(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    export_options o;
    int urc = parse_args(argc, argv, &o);
    if (urc != EXIT_OK) return urc;
    star_error err;
    if (run_export(&o, &err) != 0) {
        star_error_print(&err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
