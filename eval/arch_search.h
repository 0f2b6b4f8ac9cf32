// star: an architecture search, as the generic search sees it: genomes as the
// representation (sampled, mutated, recombined and repaired within the config's space)
// and a problem that scores each genome on the config's objectives: params, cache
// bytes and FLOPs in closed form, quality by training the model it builds.
#ifndef STAR_EVAL_ARCH_SEARCH_H
#define STAR_EVAL_ARCH_SEARCH_H

#include "common/error.h"
#include "config/config.h"
#include "search/run.h"

typedef struct arch_search arch_search;

// Builds the representation, problem, seeds and objective names from cfg. Fails with
// a clear message when an objective cannot be measured in this build.
int arch_search_create(const star_config *cfg, arch_search **out, star_error *err);
void arch_search_free(arch_search *as);
// Fills the parts of a run_spec that come from the architecture search.
void arch_search_fill_spec(arch_search *as, run_spec *spec);
// The ranks that train each candidate together (data parallel; NULL: alone).
void arch_search_set_group(arch_search *as, const dist_comm *group);
// With backend cuda: this rank's device (its local rank), and with ranks_per_candidate > 1
// the NCCL communicator of its group (group_index as dist_make_groups gave it). Collective
// over the world; nothing to do on the CPU backend.
int arch_search_setup_cuda(arch_search *as, int group_index, star_error *err);

#endif
