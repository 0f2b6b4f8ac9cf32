// star: the files `star export` writes (docs/export.md).
//   - an architecture file, YAML or JSON: the genome (gene-table version, width, vocab,
//     the genome itself) that `star train FILE` reads, plus a `resolved` section with
//     every dimension genome_resolve derived from it and the engine's constants, and a
//     `source` section saying where it came from. Readers of the genome ignore
//     `resolved` and `source`: the genome is the truth, the rest is for other tools.
//   - a PyTorch module, DIR/model.py: the module template (cli/export_model.py, built
//     into the binary) with the architecture file's JSON as its ARCH;
//   - weights, DIR/model.safetensors, under the names the module's state_dict uses
//     (star's own tensor names).
#ifndef STAR_CLI_EXPORT_ARCH_H
#define STAR_CLI_EXPORT_ARCH_H

#include "common/error.h"
#include "eval/model.h"
#include "genome/arch.h"
#include "genome/genome.h"

// Where an exported architecture came from (written under `source`).
typedef struct export_source {
    const char *kind;  // "run", "checkpoint" or "genome"
    const char *path;  // the run or checkpoint directory ("" for a genome)
    const char *hash;  // run: the archive hash of the member ("" otherwise)
    int generation;    // run: the generation it was picked from (-1 otherwise)
    long step;         // checkpoint: the training step (-1 otherwise)
} export_source;

// The architecture as JSON text (one object; caller frees).
char *export_arch_json(const genome *g, const arch *a, const export_source *src);
// The architecture as YAML text (caller frees).
char *export_arch_yaml(const genome *g, const arch *a, const export_source *src);
// DIR/model.py for the architecture.
int export_pytorch_module(const char *dir, const genome *g, const arch *a, const export_source *src,
                          star_error *err);
// DIR/model.safetensors: every parameter of m (F32) under its star name, with the genome,
// width, vocab and gene-table version as metadata.
int export_weights(const char *path, model *m, const char *genome_string, star_error *err);

#endif
