// star search: real vectors in [0,1]^n, the representation of the built-in test
// problems. Crossover is simulated binary crossover (SBX, Deb & Agrawal 1995) and
// mutation is polynomial mutation (Deb & Goyal 1996), both in the bounded form of Deb's
// NSGA-II code and pymoo, with pymoo's defaults; the driver's crossover rate (0.9 in
// the benchmarks) and mutation rate (1.0) complete pymoo's NSGA-II setup. x is n_var
// doubles.
#ifndef STAR_SEARCH_REAL_VECTOR_H
#define STAR_SEARCH_REAL_VECTOR_H

#include "search/representation.h"

typedef struct real_vector_space {
    int n_var;
    double eta_crossover;  // SBX distribution index (15)
    double var_crossover;  // probability that SBX touches a variable (0.5)
    double eta_mutation;   // polynomial mutation distribution index (20)
    double var_mutation;   // probability that mutation touches a variable (1/n_var)
} real_vector_space;

// The defaults above.
int real_vector_space_init(real_vector_space *s, int n_var, star_error *err);
// A representation whose ctx is s (s must outlive it).
representation real_vector_representation(real_vector_space *s);

#endif
