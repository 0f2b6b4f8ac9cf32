// Resolution into layer shapes: the default form of every class, allele effects,
// head-dim reduction, GQA head counts, and sharing targets.
#include "genome/arch.h"
#include "genome/genome_string.h"
#include "tests/test_util.h"

static int resolve(const char *s, genome_dims dims, arch *a) {
    genome g;
    star_error err = {0};
    if (genome_parse(s, &g, &err) || genome_resolve(&g, dims, a, &err)) {
        CHECK_MSG(0, "%s: %s", s, err.msg);
        return -1;
    }
    return 0;
}

static void test_defaults(void) {
    arch a;
    genome_dims dims = {256, 512};
    if (resolve("11111-21111-31111-41111-51111-61111-71111-81111-91111", dims, &a)) return;
    CHECK(a.depth == 9 && a.dims.width == 256 && a.dims.vocab == 512);
    const liv_spec *sa1 = &a.liv[0], *sa2 = &a.liv[1], *sa3 = &a.liv[2], *dif = &a.liv[3];
    CHECK(sa1->cls == LIV_SA1 && sa1->inner == 256 && sa1->head_dim == 64 && sa1->n_heads == 4);
    CHECK(sa1->n_kv_heads == 4 && sa1->window == 0 && sa1->out_dense == 1 && sa1->norm == NORM_PRE);
    for (int s = 0; s < 3; s++)
        CHECK(sa1->feat[s].present && sa1->feat[s].dim == 256 && sa1->feat[s].conv_len == 0 &&
              sa1->feat[s].groups == 1);
    CHECK(sa2->n_heads == 4 && sa2->n_kv_heads == 1);  // repeat 4
    CHECK(sa2->feat[0].dim == 256 && sa2->feat[1].dim == 64 && sa2->feat[2].dim == 64);
    CHECK(sa3->window == 128 && sa3->head_dim == 64);
    CHECK(dif->cls == LIV_SADIFF && dif->head_dim == 64);
    const liv_spec *r1 = &a.liv[4], *r2 = &a.liv[5];
    CHECK(r1->head_dim == 64 && r1->n_heads == 4 && r1->act == ACT_IDENTITY);
    CHECK(r2->inner == 512 && r2->head_dim == 64 && r2->n_heads == 8 && r2->state_dim == 32);
    CHECK(r2->feat[0].dim == 32 && r2->feat[1].dim == 32 && r2->feat[2].dim == 512);
    const liv_spec *g1 = &a.liv[6], *g2 = &a.liv[7], *mlp = &a.liv[8];
    CHECK(g1->inner == 256 && g1->conv_len == 3 && g1->act == ACT_IDENTITY && g1->n_heads == 0);
    CHECK(g1->feat[0].present && g1->feat[1].present && !g1->feat[2].present);
    CHECK(g2->filter_modes == 8 && g2->conv_len == 0 && g2->inner == 256);
    CHECK(mlp->inner == 704 && mlp->act == ACT_SILU && mlp->out_dense == 1);  // 8*256/3 = 682.7 -> 704
    CHECK(mlp->feat[0].dim == 704 && mlp->feat[1].dim == 704 && !mlp->feat[2].present);
    for (int i = 0; i < 9; i++) CHECK(a.liv[i].tie_to == -1 && a.liv[i].kv_from == -1);
}

static void test_alleles(void) {
    arch a;
    genome_dims dims = {96, 100};
    // Head dim 128 requested at width 96: reduced to 32 (the largest of 128/64/32 dividing 96).
    if (resolve("11111;o1=11311", dims, &a)) return;
    CHECK(a.liv[0].head_dim == 32 && a.liv[0].n_heads == 3);
    // GQA with 3 heads and repeat 2: 3/2 = 1 kv head.
    if (resolve("21111;o2=11111;f2=1111.1111.1111", dims, &a)) return;
    CHECK(a.liv[0].n_heads == 3 && a.liv[0].head_dim == 32 && a.liv[0].n_kv_heads == 1);
    dims.width = 384;  // 12 heads of 32; repeat 2 -> 6, repeat 4 -> 3, MQA -> 1
    if (resolve("21111;o2=11111;f2=1111.1111.1111", dims, &a)) return;
    CHECK(a.liv[0].n_heads == 12 && a.liv[0].n_kv_heads == 6);
    if (resolve("21111;o2=11111", dims, &a)) return;
    CHECK(a.liv[0].n_kv_heads == 3 && a.liv[0].feat[1].dim == 96);
    if (resolve("21111;o2=11111;f2=1111.1113.1111", dims, &a)) return;
    CHECK(a.liv[0].n_kv_heads == 1);
    // Reparameterized featurizers, grouped projection, windows, kernels, activations.
    dims.width = 128;
    if (resolve("31111-71111-51111-91111;o3=24311;f3=2111.1211.1111;o7=23122;o5=11121;o9=11121;f9=1111.1111.1111",
                dims, &a))
        return;
    CHECK(a.liv[0].window == 512 && a.liv[0].head_dim == 128 && a.liv[0].n_heads == 1);
    CHECK(a.liv[0].feat[0].conv_len == 4 && a.liv[0].feat[1].conv_len == 3 && a.liv[0].feat[1].groups == 4);
    CHECK(a.liv[1].conv_len == 15 && a.liv[1].act == ACT_SIGMOID && a.liv[1].out_dense == 0);
    CHECK(a.liv[2].act == ACT_ELU1);
    CHECK(a.liv[3].act == ACT_GELU && a.liv[3].inner == 256);  // expansion allele 1: 2D
    if (resolve("61111-81111;o6=11311;f6=1111.1111.1111;o8=11131;f8=1121.1111.1111", dims, &a)) return;
    CHECK(a.liv[0].inner == 128 && a.liv[0].state_dim == 16 && a.liv[0].head_dim == 128 && a.liv[0].n_heads == 1);
    CHECK(a.liv[1].inner == 256 && a.liv[1].act == ACT_SILU);
}

static void test_sharing(void) {
    arch a;
    genome_dims dims = {64, 256};
    // LIV 1,3,4 SA-1 in featurizer group 1; LIV 3 ties (-> 1); LIV 4 does not; LIV 2 is GMemless.
    if (resolve("11111-91211-11211-11111", dims, &a)) return;
    CHECK(a.liv[0].tie_to == -1 && a.liv[1].tie_to == -1 && a.liv[2].tie_to == 0 && a.liv[3].tie_to == -1);
    // A strategy-2 owner owns its weights; a different group is a different set.
    if (resolve("11211-12211-11211", dims, &a)) return;
    CHECK(a.liv[0].tie_to == -1 && a.liv[1].tie_to == -1 && a.liv[2].tie_to == 0);
    // Feature-group sharing: LIV 3 reuses LIV 2's K/V (first SA-1 in fg group 2).
    if (resolve("11111-11121-11122-21122", dims, &a)) return;
    CHECK(a.liv[0].kv_from == -1 && a.liv[1].kv_from == -1 && a.liv[2].kv_from == 1);
    CHECK(a.liv[3].kv_from == -1);  // SA-2: its own set
}

static void test_invalid(void) {
    genome g;
    arch a;
    star_error err = {0};
    CHECK(genome_parse("91112", &g, &err) == 0);
    CHECK(genome_resolve(&g, (genome_dims){64, 256}, &a, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "LIV 1 (position 1-5) gene 'feature_group_strategy'");
}

int main(void) {
    test_defaults();
    test_alleles();
    test_sharing();
    test_invalid();
    TEST_END();
}
