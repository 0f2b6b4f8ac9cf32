#include "cli/ckpt_model.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "genome/arch.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"

int ckpt_model_load(const char *dir, int max_batch, int max_seq, model **out, checkpoint_info *info,
                    star_error *err) {
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0) return STAR_FAIL(err, "%s: no such checkpoint directory (%s)", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return STAR_FAIL(err, "%s: not a checkpoint directory (expected a directory)", dir);
    checkpoint_info ci;
    if (checkpoint_read_info(dir, &ci, err) != 0) return -1;
    genome g;
    if (genome_parse(ci.genome, &g, err) != 0) return star_error_prefix(err, "%s: the checkpoint's genome", dir);
    genome_dims dims = {ci.width, ci.vocab};
    arch a;
    if (genome_dims_check(dims, err) != 0 || genome_check(&g, dims, err) != 0 || genome_resolve(&g, dims, &a, err) != 0)
        return star_error_prefix(err, "%s: the checkpoint's genome", dir);
    model_options mo = {.max_batch = max_batch, .max_seq = max_seq, .seed = 1};
    model *m;
    if (model_create(&a, mo, &m, err) != 0) return -1;
    if (checkpoint_load(dir, m, NULL, err) != 0) {
        model_free(m);
        return -1;
    }
    if (info) *info = ci;
    *out = m;
    return 0;
}
