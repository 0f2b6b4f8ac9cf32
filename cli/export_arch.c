// star: writing exported architectures, PyTorch modules and weights (cli/export_arch.h).
#include "cli/export_arch.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/json.h"
#include "eval/checkpoint.h"
#include "genome/gene_table.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "operators/attention.h"
#include "operators/long_conv.h"
#include "operators/rmsnorm.h"
#include "operators/rope.h"

// cli/export_model.py, built into the binary by CMake (a generated .c file).
extern const char star_export_model_py[];

// Appends printf text to a malloc'd string.
static char *append(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *append(char *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t len = strlen(s);
    s = star_realloc(s, len + (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s + len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static const char *act_name(act_kind k) {
    switch (k) {
    case ACT_IDENTITY: return "identity";
    case ACT_SIGMOID: return "sigmoid";
    case ACT_SILU: return "silu";
    case ACT_GELU: return "gelu";
    case ACT_ELU1: return "elu1";
    }
    return "?";
}

// The slot's name in star's tensor names: the gene table's, lower case ("Q" -> "q").
static void slot_name(int cls, int slot, char *out, size_t cap) {
    const char *n = gene_class(cls)->slot_names[slot];
    size_t i = 0;
    for (; n[i] && i + 1 < cap; i++) out[i] = (char)tolower((unsigned char)n[i]);
    out[i] = '\0';
}

static void liv_json(json_writer *w, const arch *a, int i) {
    const liv_spec *s = &a->liv[i];
    const gene_class_info *ci = gene_class(s->cls);
    jw_obj_begin(w);
    jw_kv_int(w, "index", i);
    jw_kv_str(w, "class", ci->name);
    jw_kv_str(w, "norm", gene_norm_names[s->norm]);
    jw_kv_int(w, "width", s->width);
    jw_kv_int(w, "inner", s->inner);
    jw_kv_int(w, "n_heads", s->n_heads);
    jw_kv_int(w, "head_dim", s->head_dim);
    jw_kv_int(w, "n_kv_heads", s->n_kv_heads);
    jw_kv_int(w, "window", s->window);
    jw_kv_int(w, "state_dim", s->state_dim);
    jw_kv_int(w, "conv_len", s->conv_len);
    jw_kv_int(w, "filter_modes", s->filter_modes);
    jw_kv_str(w, "act", act_name(s->act));
    jw_kv_bool(w, "out_dense", s->out_dense);
    jw_kv_int(w, "tie_to", s->tie_to);
    jw_kv_int(w, "kv_from", s->kv_from);
    jw_key(w, "features");
    jw_arr_begin(w);
    for (int k = 0; k < GENOME_FEATURE_GROUPS; k++) {
        const feature_spec *f = &s->feat[k];
        if (!f->present) continue;
        int memory = (ci->memory_slots >> k) & 1;
        char name[16];
        slot_name(s->cls, k, name, sizeof name);
        jw_obj_begin(w);
        jw_kv_str(w, "slot", name);
        jw_kv_int(w, "dim", f->dim);
        jw_kv_int(w, "conv_len", f->conv_len);
        jw_kv_int(w, "groups", f->groups);
        jw_kv_bool(w, "memory", memory);
        jw_kv_bool(w, "computes", !(s->kv_from >= 0 && memory));
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

// A decimal constant as its shortest text (1e-05, not 1.0000000000000001e-05).
static void kv_constant(json_writer *w, const char *key, double v) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.15g", v);
    jw_key(w, key);
    jw_raw(w, buf);
}

static void constants_json(json_writer *w) {
    jw_obj_begin(w);
    kv_constant(w, "rmsnorm_eps", RMSNORM_EPS);
    kv_constant(w, "rope_base", ROPE_BASE);
    kv_constant(w, "diff_lambda_init", DIFF_ATTN_LAMBDA_INIT);
    jw_kv_int(w, "long_conv_t0", LONG_CONV_T0);
    jw_obj_end(w);
}

static void source_json(json_writer *w, const export_source *src) {
    jw_obj_begin(w);
    jw_kv_str(w, "kind", src->kind);
    jw_kv_str(w, "path", src->path ? src->path : "");
    if (src->hash && src->hash[0]) jw_kv_str(w, "hash", src->hash);
    if (src->generation >= 0) jw_kv_int(w, "generation", src->generation);
    if (src->step >= 0) jw_kv_int(w, "step", src->step);
    jw_obj_end(w);
}

static int64_t arch_params(const arch *a) {
    arch_stats st;
    arch_stats_compute(a, 1, 4, &st);
    return st.params;
}

// End of the JSON value starting at s[i] (our writer's compact output: valid JSON).
static size_t json_value_end(const char *s, size_t i) {
    int depth = 0, in_str = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            if (!in_str && depth == 0) return i + 1;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        } else if (depth == 0 && (c == ',' || c == '}' || c == ']')) return i;
        else if (depth == 0 && s[i + 1] && strchr(",}]", s[i + 1])) return i + 1;
    }
    return i;
}

// Appends s[b, e) indented: a container holding another container is broken into one
// element per line; one holding only scalars stays on its line.
static char *json_pretty_append(char *out, const char *s, size_t b, size_t e, int indent) {
    if (s[b] != '{' && s[b] != '[') return append(out, "%.*s", (int)(e - b), s + b);
    int nested = 0, in_str = 0;
    for (size_t i = b + 1; i + 1 < e && !nested; i++) {
        if (in_str) {
            if (s[i] == '\\') i++;
            else if (s[i] == '"') in_str = 0;
        } else if (s[i] == '"') in_str = 1;
        else nested = s[i] == '{' || s[i] == '[';
    }
    if (!nested) return append(out, "%.*s", (int)(e - b), s + b);
    out = append(out, "%c\n", s[b]);
    size_t i = b + 1;
    while (i < e - 1) {
        out = append(out, "%*s", indent + 2, "");
        if (s[b] == '{') {  // "key":
            size_t k = json_value_end(s, i);
            out = append(out, "%.*s: ", (int)(k - i), s + i);
            i = k + 1;
        }
        size_t v = json_value_end(s, i);
        out = json_pretty_append(out, s, i, v, indent + 2);
        i = v;
        if (s[i] == ',') i++;
        out = append(out, "%s\n", i < e - 1 ? "," : "");
    }
    return append(out, "%*s%c", indent, "", s[e - 1]);
}

char *export_arch_json(const genome *g, const arch *a, const export_source *src) {
    char str[GENOME_STRING_MAX];
    if (genome_to_string(g, str, sizeof str) < 0) str[0] = '\0';
    json_writer w;
    jw_init(&w);
    jw_obj_begin(&w);
    jw_kv_int(&w, "gene_table_version", STAR_GENE_TABLE_VERSION);
    jw_kv_int(&w, "width", a->dims.width);
    jw_kv_int(&w, "vocab", a->dims.vocab);
    jw_kv_str(&w, "string", str);
    jw_key(&w, "source");
    source_json(&w, src);
    jw_key(&w, "resolved");
    jw_obj_begin(&w);
    jw_kv_int(&w, "params", arch_params(a));
    jw_key(&w, "constants");
    constants_json(&w);
    jw_key(&w, "livs");
    jw_arr_begin(&w);
    for (int i = 0; i < a->depth; i++) liv_json(&w, a, i);
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    char *out = star_malloc(1);
    out[0] = '\0';
    out = json_pretty_append(out, w.buf, 0, w.len, 0);
    jw_free(&w);
    return append(out, "\n");
}

// The genome in YAML (every LIV in full), then source and resolved. The per-LIV and
// constant maps are JSON flow maps, which YAML reads as they are.
char *export_arch_yaml(const genome *g, const arch *a, const export_source *src) {
    genome_dims dims = a->dims;
    char *s = genome_yaml_write(g, &dims);
    json_writer w;
    jw_init(&w);
    source_json(&w, src);
    s = append(s, "# Where this architecture came from, and what genome_resolve derives from the genome\n"
                  "# (read by other tools; star rebuilds the model from the genome above).\n");
    s = append(s, "source: %.*s\n", (int)w.len, w.buf);
    jw_reset(&w);
    constants_json(&w);
    s = append(s, "resolved:\n  params: %lld\n  constants: %.*s\n  livs:\n", (long long)arch_params(a), (int)w.len,
               w.buf);
    for (int i = 0; i < a->depth; i++) {
        jw_reset(&w);
        liv_json(&w, a, i);
        s = append(s, "    - %.*s\n", (int)w.len, w.buf);
    }
    jw_free(&w);
    return s;
}

int export_pytorch_module(const char *dir, const genome *g, const arch *a, const export_source *src,
                          star_error *err) {
    static const char marker[] = "# @ARCH@";
    const char *at = strstr(star_export_model_py, marker);
    if (!at) return STAR_FAIL(err, "the built-in PyTorch module template has no '%s' line", marker);
    char *json = export_arch_json(g, a, src);
    // Embedded as a raw string, which json.loads reads as written (escapes included);
    // only ''' inside it (a path holding it) would end the string early.
    if (strstr(json, "'''")) {
        free(json);
        return STAR_FAIL(err, "cannot embed the architecture in model.py: the source path holds '''");
    }
    char *py = star_malloc(1);
    py[0] = '\0';
    py = append(py, "%.*s", (int)(at - star_export_model_py), star_export_model_py);
    py = append(py, "ARCH = json.loads(r'''%s''')\n%s", json, at + strlen(marker));
    free(json);
    char path[4096];
    int rc = dir_create(dir, err);
    if (rc == 0) rc = path_join(path, sizeof path, dir, "model.py", err);
    if (rc == 0) rc = file_write_atomic(path, py, strlen(py), err);
    free(py);
    return rc;
}

int export_weights(const char *path, model *m, const char *genome_string, star_error *err) {
    const char *const extra[1][2] = {{"format", "pt"}};
    return checkpoint_write_weights(path, m, genome_string, extra, 1, err);
}
