#include "eval/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "eval/safetensors.h"
#include "genome/genome.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"


static int add_tensor(st_writer *w, const char *name, const param_tensor *t, const real *data, star_error *err) {
    int64_t shape[4];
    for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    return st_writer_add(w, name, ST_F32, t->ndim, shape, data, err);
}

int checkpoint_write_weights(const char *path, model *m, const char *genome_string, const char *const (*extra)[2],
                             int n_extra, star_error *err) {
    const arch *a = model_arch(m);
    char buf[64];
    st_writer *w = st_writer_create();
    int rc = 0, nt = model_n_tensors(m);
    for (int i = 0; i < nt && rc == 0; i++) {
        const param_tensor *t = model_tensor(m, i);
        rc = add_tensor(w, t->name, t, t->data, err);
    }
    for (int i = 0; i < n_extra && rc == 0; i++) rc = st_writer_add_metadata(w, extra[i][0], extra[i][1], err);
    if (rc == 0) rc = st_writer_add_metadata(w, "genome", genome_string, err);
    snprintf(buf, sizeof buf, "%d", a->dims.width);
    if (rc == 0) rc = st_writer_add_metadata(w, "width", buf, err);
    snprintf(buf, sizeof buf, "%d", a->dims.vocab);
    if (rc == 0) rc = st_writer_add_metadata(w, "vocab", buf, err);
    snprintf(buf, sizeof buf, "%d", STAR_GENE_TABLE_VERSION);
    if (rc == 0) rc = st_writer_add_metadata(w, "gene_table_version", buf, err);
    if (rc == 0) rc = st_writer_write(w, path, err);
    st_writer_free(w);
    return rc;
}

int checkpoint_save(const char *dir, model *m, const adamw_state *opt, const char *genome_string, long step,
                    star_error *err) {
    if (dir_create(dir, err) != 0) return -1;
    const arch *a = model_arch(m);
    char path[4096], step_text[32];
    snprintf(step_text, sizeof step_text, "%ld", step);
    const char *const extra[1][2] = {{"step", step_text}};
    int rc = path_join(path, sizeof path, dir, "model.safetensors", err);
    if (rc == 0) rc = checkpoint_write_weights(path, m, genome_string, extra, 1, err);
    // The genome beside the weights, as a file star train and star generate read.
    genome g;
    if (rc == 0 && genome_parse(genome_string, &g, err) == 0) {
        genome_dims dims = a->dims;
        char *yaml = genome_yaml_write(&g, &dims);
        rc = path_join(path, sizeof path, dir, "arch.yaml", err);
        if (rc == 0) rc = file_write_atomic(path, yaml, strlen(yaml), err);
        free(yaml);
    } else if (rc == 0) {
        rc = -1;
    }
    if (rc != 0 || !opt) return rc;

    st_writer *w = st_writer_create();
    char buf[64];
    int nt = model_n_tensors(m);
    size_t off = 0;
    for (int i = 0; i < nt && rc == 0; i++) {
        const param_tensor *t = model_tensor(m, i);
        char name[128];
        snprintf(name, sizeof name, "m.%s", t->name);
        rc = add_tensor(w, name, t, opt->m + off, err);
        snprintf(name, sizeof name, "v.%s", t->name);
        if (rc == 0) rc = add_tensor(w, name, t, opt->v + off, err);
        off += t->numel;
    }
    snprintf(buf, sizeof buf, "%ld", opt->t);
    if (rc == 0) rc = st_writer_add_metadata(w, "adamw_t", buf, err);
    if (rc == 0) rc = path_join(path, sizeof path, dir, "optimizer.safetensors", err);
    if (rc == 0) rc = st_writer_write(w, path, err);
    st_writer_free(w);
    return rc;
}

static int meta_long(st_file *f, const char *path, const char *key, long lo, long hi, long *out, star_error *err) {
    const char *v = st_file_metadata(f, key);
    if (!v) return STAR_FAIL(err, "%s: metadata '%s' is missing", path, key);
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return STAR_FAIL(err, "%s: metadata '%s' = '%s' is not an integer in [%ld, %ld]", path, key, v, lo, hi);
    *out = x;
    return 0;
}

int checkpoint_read_info(const char *dir, checkpoint_info *info, star_error *err) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "model.safetensors", err) != 0) return -1;
    st_file *f;
    if (st_file_open(path, &f, err) != 0) return -1;
    memset(info, 0, sizeof *info);
    long width, vocab, version;
    int rc = meta_long(f, path, "width", 1, 1 << 20, &width, err);
    if (rc == 0) rc = meta_long(f, path, "vocab", 2, 1 << 24, &vocab, err);
    if (rc == 0) rc = meta_long(f, path, "step", 0, 1L << 40, &info->step, err);
    if (rc == 0) rc = meta_long(f, path, "gene_table_version", 0, 1 << 20, &version, err);
    if (rc == 0 && version != STAR_GENE_TABLE_VERSION)
        rc = STAR_FAIL(err, "%s: written with gene table version %ld, this star reads version %d", path, version,
                       STAR_GENE_TABLE_VERSION);
    const char *g = st_file_metadata(f, "genome");
    if (rc == 0 && (!g || strlen(g) >= sizeof info->genome))
        rc = STAR_FAIL(err, "%s: metadata 'genome' is missing or too long", path);
    // The model is allocated from these dims before its tensors are read: a file whose
    // tensors could not even hold the F32 embedding [vocab, width] is refused first, so
    // forged metadata cannot make star allocate what the file does not back.
    uint64_t bytes = 0;
    for (int i = 0; i < st_file_count(f); i++) bytes += st_file_tensor(f, i)->end - st_file_tensor(f, i)->begin;
    if (rc == 0 && bytes < 4ull * (uint64_t)width * (uint64_t)vocab)
        rc = STAR_FAIL(err, "%s: its tensors hold %llu bytes, fewer than the %ld x %ld embedding alone needs", path,
                       (unsigned long long)bytes, vocab, width);
    if (rc == 0) {
        snprintf(info->genome, sizeof info->genome, "%s", g);
        info->width = (int)width;
        info->vocab = (int)vocab;
    }
    st_file_close(f);
    return rc;
}

static int load_into(st_file *f, const char *path, const char *name, const param_tensor *t, real *dst, star_error *err) {
    const st_tensor_info *ti = st_file_find(f, name);
    if (!ti) return STAR_FAIL(err, "%s: tensor '%s' is missing", path, name);
    int same = ti->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = ti->shape[d] == t->shape[d];
    if (!same) return STAR_FAIL(err, "%s: tensor '%s' does not have the model's shape", path, name);
    return st_file_read_f32(f, name, dst, t->numel, err);
}

int checkpoint_load(const char *dir, model *m, adamw_state *opt, star_error *err) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "model.safetensors", err) != 0) return -1;
    st_file *f;
    if (st_file_open(path, &f, err) != 0) return -1;
    int rc = 0, nt = model_n_tensors(m);
    for (int i = 0; i < nt && rc == 0; i++) {
        param_tensor *t = model_tensor(m, i);
        rc = load_into(f, path, t->name, t, t->data, err);
    }
    if (rc == 0 && st_file_count(f) != nt)
        rc = STAR_FAIL(err, "%s: holds %d tensors, the model has %d", path, st_file_count(f), nt);
    st_file_close(f);
    if (rc != 0 || !opt) return rc;
    if (path_join(path, sizeof path, dir, "optimizer.safetensors", err) != 0) return -1;
    if (!file_exists(path)) return 0;
    if (st_file_open(path, &f, err) != 0) return -1;
    size_t off = 0;
    for (int i = 0; i < nt && rc == 0; i++) {
        param_tensor *t = model_tensor(m, i);
        char name[128];
        snprintf(name, sizeof name, "m.%s", t->name);
        rc = load_into(f, path, name, t, opt->m + off, err);
        snprintf(name, sizeof name, "v.%s", t->name);
        if (rc == 0) rc = load_into(f, path, name, t, opt->v + off, err);
        off += t->numel;
    }
    if (rc == 0) rc = meta_long(f, path, "adamw_t", 0, 1L << 40, &opt->t, err);
    st_file_close(f);
    return rc;
}
