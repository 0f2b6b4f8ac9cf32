// Canonical form and hash: genomes that build the same model share a hash, genomes that
// build different models do not. "The same model" is judged by the resolved arch, which
// every model builder and counter reads.
#include <string.h>

#include "genome/arch.h"
#include "genome/genome_canonical.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "tests/genome/genome_test_util.h"
#include "tests/test_util.h"

static uint64_t hash_of(const char *s, genome_dims dims) {
    genome g;
    star_error err = {0};
    if (genome_parse(s, &g, &err)) {
        CHECK_MSG(0, "%s: %s", s, err.msg);
        return 0;
    }
    return genome_hash(&g, dims);
}

static void same(const char *a, const char *b, genome_dims dims) {
    CHECK_MSG(hash_of(a, dims) == hash_of(b, dims), "expected the same hash: %s vs %s", a, b);
}
static void differ(const char *a, const char *b, genome_dims dims) {
    CHECK_MSG(hash_of(a, dims) != hash_of(b, dims), "expected different hashes: %s vs %s", a, b);
}

static void test_pairs(void) {
    genome_dims d = {128, 256};
    same("11111", "11111;o2=21311", d);                    // unused class's operator genome
    same("11111", "11111;f6=2121.1111.1111", d);           // unused class's featurizer genome
    same("11111", "11111;f1=2111.1111.1111", d);           // F1 without short convs (O1 = 1)
    same("11111", "11211", d);                              // strategy of an owner without followers
    same("11111-11211", "13111-13211", d);                  // group numbers renamed
    same("11111-11211-91111", "12211-12211-95111", d);      // ... per class, owner's strategy
    same("11111-11111", "11111-12111", d);                  // unshared LIVs in any group that captures nobody
    same("91111-91111", "93151-94131", d);                  // groups of a class without memory
    same("11111-11112", "14141-14142", d);                  // feature-group set renamed
    same("11111;o1=11311", "11111;o1=11211", (genome_dims){64, 256});  // head dim 128 at width 64 -> 64
    same("21111;o2=11111;f2=1111.1113.1111", "21111;o2=11111", (genome_dims){128, 256});  // 4 heads: /4 == MQA
    same("91112", "91111", d);                              // repaired: GMemless has no memory
    differ("11111", "21111", d);                            // class
    differ("11111", "11111;n=2", d);                        // norm
    differ("11111-11211", "11111-11111", d);                // tied vs untied
    differ("11111-11112", "11111-11111", d);                // reused K/V vs own
    differ("11111", "11111;o1=21211", d);                   // short convs on
    differ("11111", "11111;o1=11311", d);                   // head dim 128 at width 128
    differ("31111", "31111;o3=13211", d);                   // window
    differ("11111", "11111;f1=1211.1111.1111", d);          // grouped Q projection
    differ("11111-91111", "91111-11111", d);                // order
    CHECK(hash_of("11111", d) != hash_of("11111", (genome_dims){256, 256}));  // width
    CHECK(hash_of("11111", d) != hash_of("11111", (genome_dims){128, 512}));  // vocab
    differ("11111-11211-11211", "11111-11211-12211", d);    // who ties to whom
}

static int arch_of(const genome *g, genome_dims dims, arch *a) {
    genome r = *g;
    genome_repair(&r, dims);
    star_error err = {0};
    memset(a, 0, sizeof *a);
    return genome_resolve(&r, dims, a, &err);
}

// Random genomes and one-gene perturbations of them: hash equality must coincide with
// equality of the resolved arch; canonical form is idempotent and resolves the same.
static void test_property(void) {
    pcg32 rng;
    pcg32_seed(&rng, 2024, 5);
    static const genome_dims dims_list[] = {{64, 256}, {96, 300}, {128, 256}, {384, 1000}};
    int mismatches = 0, same_count = 0, diff_count = 0;
    for (int trial = 0; trial < 4000; trial++) {
        genome_dims dims = dims_list[trial % 4];
        genome g, h, cg, ccg;
        test_random_genes(&g, &rng, 8);
        genome_repair(&g, dims);
        genome_canonical(&g, dims, &cg);
        genome_canonical(&cg, dims, &ccg);
        arch ag, ac;
        CHECK(arch_of(&g, dims, &ag) == 0 && arch_of(&cg, dims, &ac) == 0);
        if (!genome_equal(&cg, &ccg) || memcmp(&ag, &ac, sizeof ag)) mismatches++;
        // Perturb one gene (backbone, norm, operator or featurizer of a used class).
        h = g;
        int i = (int)pcg32_bounded(&rng, h.depth), c = h.liv[i].bb[BB_CLASS];
        switch (pcg32_bounded(&rng, 4)) {
        case 0: h.liv[i].bb[1 + pcg32_bounded(&rng, 4)] = (uint8_t)(1 + pcg32_bounded(&rng, 3)); break;
        case 1: h.liv[i].norm = (uint8_t)(1 + pcg32_bounded(&rng, 3)); break;
        case 2: h.op[c - 1][pcg32_bounded(&rng, OP_GENES)] = (uint8_t)(1 + pcg32_bounded(&rng, 4)); break;
        default:
            h.feat[c - 1][pcg32_bounded(&rng, 3)][pcg32_bounded(&rng, FZ_GENES)] =
                (uint8_t)(1 + pcg32_bounded(&rng, 3));
        }
        genome_repair(&h, dims);
        arch ah;
        CHECK(arch_of(&h, dims, &ah) == 0);
        int same_arch = !memcmp(&ag, &ah, sizeof ag);
        int same_hash = genome_hash(&g, dims) == genome_hash(&h, dims);
        if (same_arch != same_hash) {
            char a[GENOME_STRING_MAX], b[GENOME_STRING_MAX];
            genome_to_string(&g, a, sizeof a);
            genome_to_string(&h, b, sizeof b);
            CHECK_MSG(0, "width %d: %s vs %s: same arch %d, same hash %d", dims.width, a, b, same_arch, same_hash);
            if (++mismatches > 5) break;
        }
        same_count += same_arch;
        diff_count += !same_arch;
    }
    CHECK(mismatches == 0);
    // The perturbations must exercise both outcomes many times, or the test shows nothing.
    CHECK_MSG(same_count > 300 && diff_count > 300, "same %d, different %d", same_count, diff_count);
}

int main(void) {
    test_pairs();
    test_property();
    TEST_END();
}
