// star: the genome as YAML (docs/genome.md, "YAML form"):
//   gene_table_version: 1          # required; another version is refused
//   width: 128                     # optional (the dims the genome was made for)
//   vocab: 256                     # optional
//   string: 11111-91111            # either the STAR string ...
//   livs:                          # ... or one map per LIV
//     - {class: SA-1, featurizer_sharing: {group: 1, strategy: none},
//        feature_group_sharing: {group: 1, strategy: none}, norm: pre}
//   operators:                     # optional, per class; keys default to the gene table
//     SA-1: {featurization: 1, token_mixing: 1, sparsity: 2, nonlinearity: 1, channel_mixing: 1}
//   featurizers:                   # optional, per class: up to one map per feature group
//     SA-1: [{token_mixing: 1, channel_mixing: 1, expansion: 1, repeat: 1}, ...]
// Errors name the file, line, column and key path (common/ydoc.h).
#ifndef STAR_GENOME_GENOME_YAML_H
#define STAR_GENOME_GENOME_YAML_H

#include <stddef.h>

#include "common/error.h"
#include "common/ydoc.h"
#include "genome/genome.h"

// Reads the genome mapping n of document d; keypath names n in messages ("" at the
// root). dims (may be NULL) receives width and vocab, 0 where the file has none. The
// genome is checked (genome_check) at the file's dims when it has them, otherwise at
// a width of 256 and vocab of 256 (no validity rule depends on the width's value).
int genome_yaml_read(ydoc *d, ynode *n, const char *keypath, genome *g, genome_dims *dims, star_error *err);
int genome_load_file(const char *path, genome *g, genome_dims *dims, star_error *err);
int genome_load_text(const char *text, size_t len, const char *name, genome *g, genome_dims *dims,
                     star_error *err);
// A genome given on a command line or in a config: the path of a genome YAML file when
// such a file exists (or the argument ends in .yaml / .yml), else a STAR string.
int genome_load_arg(const char *arg, genome *g, genome_dims *dims, star_error *err);
// YAML text that genome_load_text reads back to the same genome (dims written when
// given, each only when > 0). Every LIV is written in full, and the operator and featurizer genomes of every
// class the genome uses or that differ from the defaults. The caller frees the text.
char *genome_yaml_write(const genome *g, const genome_dims *dims);

#endif
