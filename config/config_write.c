// star: the resolved config as YAML text: every key with its value, defaults filled in,
// written into the run directory so a run records exactly what it ran with. Strings are
// written plain when no YAML reader could take them for anything else, double-quoted
// otherwise; numbers in the shortest form that reads back to the same double.
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_names.h"

typedef struct text_buf {
    char *s;
    size_t len, cap;
} text_buf;

__attribute__((format(printf, 2, 3))) static void put(text_buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (n > 0 ? (size_t)n : 0) + 64;
        b->s = star_realloc(b->s, b->cap);
    }
}

static int is_plain_safe(const char *s) {
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", NULL};
    // A leading digit, '.', '-' and the like could start a number (YAML 1.1 also reads
    // 1_000 and .inf as numbers), so only a letter, '_' or '/' may start a plain string.
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '/')) return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-", *p)) return 0;
    for (const char *const *w = words; *w; w++)
        if (!strcasecmp(s, *w)) return 0;
    char *end;
    (void)strtod(s, &end);
    return *end != '\0';  // a string that reads as a number is quoted
}

static void put_string(text_buf *b, const char *s) {
    if (is_plain_safe(s)) {
        put(b, "%s", s);
        return;
    }
    put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            put(b, "\\x%02x", *p);
        else
            put(b, "%c", *p);
    }
    put(b, "\"");
}

static void put_double(text_buf *b, double v) {
    if (v == floor(v) && fabs(v) < 1e15) {
        put(b, "%.0f", v);
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    put(b, "%s", tmp);
}

static const char *bool_name(int v) { return v ? "true" : "false"; }

static void put_space(text_buf *b, const config_space *s) {
    put(b, "space:\n  classes: [");
    for (int i = 0; i < s->n_classes; i++) put(b, "%s%s", i ? ", " : "", config_class_name(s->classes[i]));
    put(b, "]\n  depth: {min: %d, max: %d}\n  width: %d\n  vocab: %d\n", s->depth_min, s->depth_max, s->width, s->vocab);
    put(b, "  sharing: {featurizer: %s, feature_group: %s}\n", bool_name(s->share_featurizer),
        bool_name(s->share_feature_group));
}

static void put_objectives(text_buf *b, const star_config *c) {
    put(b, "objectives:\n");
    for (int i = 0; i < c->n_objectives; i++) {
        const config_objective *o = &c->objectives[i];
        put(b, "  - {name: %s", config_objective_name(o->kind));
        if (o->kind == CONFIG_OBJ_CACHE_BYTES || o->kind == CONFIG_OBJ_FLOPS) put(b, ", context: %ld", o->context);
        if (o->kind == CONFIG_OBJ_CACHE_BYTES) put(b, ", dtype: %s", config_dtype_name(o->dtype));
        put(b, ", max: ");
        if (o->has_max)
            put_double(b, o->max);
        else
            put(b, "null");
        put(b, "}\n");
    }
}

static void put_algorithm(text_buf *b, const config_algorithm *a) {
    const config_mutation *m = &a->mutation;
    put(b, "algorithm:\n  name: %s\n  population: %d\n  generations: %d\n", config_algorithm_name(a->kind),
        a->population, a->generations);
    put(b, "  crossover: {points: %d, rate: ", a->crossover_points);
    put_double(b, a->crossover_rate);
    const char *names[] = {"rate", "backbone", "operator", "featurizer", "norm", "insert", "delete"};
    const double values[] = {m->rate, m->backbone, m->op, m->featurizer, m->norm, m->insert, m->del};
    put(b, "}\n  mutation: {");
    for (int i = 0; i < 7; i++) {
        put(b, "%s%s: ", i ? ", " : "", names[i]);
        put_double(b, values[i]);
    }
    put(b, "}\n  tournament: %d\n  seed_with: [", a->tournament);
    for (int i = 0; i < a->n_seed_with; i++) {
        if (i) put(b, ", ");
        put_string(b, a->seed_with[i]);
    }
    put(b, "]\n");
}

static void put_evaluation(text_buf *b, const config_evaluation *e) {
    put(b, "evaluation:\n  backend: %s\n  threads: %d\n  data: {%s: ", config_backend_name(e->backend), e->threads,
        config_data_kind_name(e->data.kind));
    if (e->data.kind == CONFIG_DATA_MAD) {
        put(b, "[");
        for (int i = 0; i < e->data.n_mad; i++) put(b, "%s%s", i ? ", " : "", config_mad_task_name(e->data.mad[i]));
        put(b, "]");
    } else {
        put_string(b, e->data.path);
    }
    const config_budget *bu = &e->budget;
    put(b, "}\n  budget: {steps: %d, batch: %d, seq_len: %d, lr: ", bu->steps, bu->batch, bu->seq_len);
    put_double(b, bu->lr);
    put(b, ", warmup: %d, weight_decay: ", bu->warmup);
    put_double(b, bu->weight_decay);
    put(b, ", clip: ");
    put_double(b, bu->clip);
    put(b, "}\n  fidelity: ");
    if (e->fidelity.n_rungs) {
        put(b, "{rungs: [");
        for (int i = 0; i < e->fidelity.n_rungs; i++) put(b, "%s%d", i ? ", " : "", e->fidelity.rungs[i]);
        put(b, "], keep: ");
        put_double(b, e->fidelity.keep);
        put(b, "}\n");
    } else {
        put(b, "null\n");
    }
    put(b, "  memory_limit_mb: %ld\n  time_limit_s: %ld\n  ranks_per_candidate: %d\n  hang_timeout_s: %ld\n",
        e->memory_limit_mb, e->time_limit_s, e->ranks_per_candidate, e->hang_timeout_s);
}

// Every enumeration must have a name, or the text could not be read back.
static int names_valid(const star_config *c) {
    int ok = config_algorithm_name(c->algorithm.kind) != NULL;
    if (c->problem.enabled) return ok && config_problem_name(c->problem.kind) != NULL;
    for (int i = 0; i < c->space.n_classes; i++) ok = ok && config_class_name(c->space.classes[i]);
    for (int i = 0; i < c->n_objectives; i++)
        ok = ok && config_objective_name(c->objectives[i].kind) && config_dtype_name(c->objectives[i].dtype);
    ok = ok && config_keep_weights_name(c->run.keep_weights) && config_backend_name(c->evaluation.backend) && config_data_kind_name(c->evaluation.data.kind);
    for (int i = 0; i < c->evaluation.data.n_mad; i++) ok = ok && config_mad_task_name(c->evaluation.data.mad[i]);
    return ok;
}

int config_write_resolved(const star_config *c, char **out_text) {
    *out_text = NULL;
    if (!names_valid(c)) return -1;
    text_buf b = {star_malloc(4096), 0, 4096};
    b.s[0] = '\0';
    put(&b, "# star resolved config: every key with its value, defaults filled in (docs/config.md).\n");
    put(&b, "run:\n  dir: ");
    put_string(&b, c->run.dir);
    put(&b, "\n  seed: %llu\n", (unsigned long long)c->run.seed);
    if (!c->problem.enabled) put(&b, "  keep_weights: %s\n", config_keep_weights_name(c->run.keep_weights));
    if (!c->problem.enabled) {
        put_space(&b, &c->space);
        put_objectives(&b, c);
    }
    put_algorithm(&b, &c->algorithm);
    if (c->problem.enabled) {
        put(&b, "problem: {name: %s, n_var: %d", config_problem_name(c->problem.kind), c->problem.n_var);
        if (c->problem.kind == CONFIG_PROBLEM_DTLZ2) put(&b, ", n_obj: %d", c->problem.n_obj);
        put(&b, "}\n");
    } else {
        put_evaluation(&b, &c->evaluation);
    }
    *out_text = b.s;
    return 0;
}
