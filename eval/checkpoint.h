// star: checkpoints of one trained model, a directory:
//   DIR/model.safetensors      the weights (F32), metadata: genome, width, vocab, step,
//                              gene_table_version
//   DIR/optimizer.safetensors  AdamW moments ("m.<tensor>", "v.<tensor>") and its step
// Both are written atomically; a checkpoint is read as untrusted input: every tensor must
// be present with the model's exact shape.
#ifndef STAR_EVAL_CHECKPOINT_H
#define STAR_EVAL_CHECKPOINT_H

#include "common/error.h"
#include "eval/model.h"
#include "eval/optimizer.h"

typedef struct checkpoint_info {
    char genome[4096];
    int width, vocab;
    long step;
} checkpoint_info;

int checkpoint_save(const char *dir, model *m, const adamw_state *opt, const char *genome_string, long step,
                    star_error *err);
// Writes only the weights file (F32 tensors under the model's names; metadata genome,
// width, vocab, gene_table_version, plus each of the n_extra key/value pairs in extra,
// e.g. the step of a checkpoint, or "format" "pt" for an export).
int checkpoint_write_weights(const char *path, model *m, const char *genome_string, const char *const (*extra)[2],
                             int n_extra, star_error *err);
// Reads only the metadata (to build the model before loading it).
int checkpoint_read_info(const char *dir, checkpoint_info *info, star_error *err);
// Loads the weights into m and, when opt is not NULL and the file exists, the optimizer.
int checkpoint_load(const char *dir, model *m, adamw_state *opt, star_error *err);

#endif
