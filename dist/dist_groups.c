// star: groups of ranks that train one candidate together (dist.h).
#include "dist/dist.h"

static int n_groups_of(int world_size, int per_group) {
    int n = world_size / per_group;
    return n > 0 ? n : 1;
}

static int group_of(int world_rank, int world_size, int per_group) {
    int g = world_rank / per_group, n = n_groups_of(world_size, per_group);
    return g < n ? g : n - 1;
}

int dist_group_leader(int world_size, int per_group, int g) {
    (void)world_size;
    return g * per_group;
}

int dist_make_groups(const dist_comm *world, int per_group, dist_comm **group, int *group_index, int *n_groups,
                     star_error *err) {
    if (per_group < 1) return STAR_FAIL(err, "ranks per group %d (expected >= 1)", per_group);
    int size = dist_size(world), rank = dist_rank(world);
    *n_groups = n_groups_of(size, per_group);
    *group_index = group_of(rank, size, per_group);
    return dist_split(world, *group_index, rank, group, err);
}
