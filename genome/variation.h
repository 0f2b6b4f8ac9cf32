// star: variation operators on genomes: mutation at every level and k-point crossover
// on LIV boundaries. Both end with genome_space_repair, so a child is always a valid
// genome of the space.
#ifndef STAR_GENOME_VARIATION_H
#define STAR_GENOME_VARIATION_H

#include "common/pcg32.h"
#include "genome/genome.h"
#include "genome/space.h"

typedef struct genome_mutation_rates {
    double backbone;    // per backbone gene (class, groups, strategies)
    double op;          // per operator gene of each class the genome uses
    double featurizer;  // per featurizer gene of each class the genome uses
    double norm;        // per norm/residual gene
    double insert;      // per call: insert one random LIV at a random position
    double del;         // per call: delete one LIV at a random position
} genome_mutation_rates;

// 0.1 for every per-gene rate, 0.1 for insert and for delete.
genome_mutation_rates genome_mutation_rates_default(void);

// Mutates g in place. Each gene is drawn with its rate and, when drawn, resampled to a
// different allele (uniformly among the others that the gene and the space allow; a
// gene with a single allowed allele stays). A class change keeps the LIV's groups.
// Operator and featurizer genes are mutated only for classes the genome uses (the
// others have no effect). Insert happens only below depth_max, delete only above
// depth_min. Returns the number of genes changed before the final repair.
int genome_mutate(genome *g, const genome_space *s, const genome_mutation_rates *r, pcg32 *rng);

// k-point crossover (points >= 1; smaller is taken as 1): k cut positions are drawn
// independently in each parent, sorted (0..depth, repeats allowed), and the child takes
// segments from a and b alternately, starting with a, so its depth can differ from both.
// A child deeper than depth_max is cut; one shallower than depth_min is padded with a's
// LIVs at the missing positions, or random LIVs where a has none. Each class's operator
// and featurizer genomes come together from a or b (uniformly, per class).
void genome_crossover(const genome *a, const genome *b, int points, const genome_space *s, pcg32 *rng,
                      genome *child);

#endif
