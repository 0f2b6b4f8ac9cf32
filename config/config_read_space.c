// star: the config's `space` section: which LIV classes, depths and widths the search
// may build.
#include <stdio.h>
#include <string.h>

#include "config/config_names.h"
#include "config/config_reader.h"

static int read_classes(cfg_reader *r, ynode *n, config_space *s) {
    if (cfg_expect_seq(r, n, "space.classes")) return -1;
    size_t len = ynode_len(n);
    if (len == 0) return cfg_fail(r, n, "space.classes", "expected at least one class");
    int seen[LIV_CLASS_COUNT + 1] = {0};
    for (size_t i = 0; i < len; i++) {
        ynode *item = ynode_seq_item(r->d, n, i);
        char path[64];
        snprintf(path, sizeof path, "space.classes[%zu]", i);
        int cls;
        if (cfg_choice_node(r, item, path, config_class_names, LIV_CLASS_COUNT + 1, &cls)) return -1;
        if (seen[cls]) return cfg_fail(r, item, path, "class '%s' is listed twice", config_class_names[cls]);
        seen[cls] = 1;
    }
    s->n_classes = 0;  // stored as a set, ascending by class digit
    for (int cls = 1; cls <= LIV_CLASS_COUNT; cls++)
        if (seen[cls]) s->classes[s->n_classes++] = (liv_class)cls;
    return 0;
}

static int read_depth(cfg_reader *r, ynode *n, config_space *s) {
    static const char *const keys[] = {"min", "max", NULL};
    if (cfg_check_keys(r, n, "space.depth", keys)) return -1;
    if (cfg_int(r, n, "space.depth", "min", 1, GENOME_MAX_DEPTH, &s->depth_min)) return -1;
    if (cfg_int(r, n, "space.depth", "max", 1, GENOME_MAX_DEPTH, &s->depth_max)) return -1;
    if (s->depth_min > s->depth_max) {
        ynode *at = cfg_get(r, n, "min") ? cfg_get(r, n, "min") : n;
        return cfg_fail(r, at, "space.depth.min", "min (%d) must be <= max (%d)", s->depth_min, s->depth_max);
    }
    return 0;
}

int cfg_read_space(cfg_reader *r, ynode *n, star_config *c) {
    static const char *const keys[] = {"classes", "depth", "width", "vocab", "sharing", NULL};
    static const char *const sharing_keys[] = {"featurizer", "feature_group", NULL};
    config_space *s = &c->space;
    if (cfg_check_keys(r, n, "space", keys)) return -1;
    ynode *v;
    if ((v = cfg_get(r, n, "classes")) && read_classes(r, v, s)) return -1;
    if ((v = cfg_get(r, n, "depth")) && read_depth(r, v, s)) return -1;
    if (cfg_int(r, n, "space", "width", 32, 8192, &s->width)) return -1;
    if (s->width % 32) return cfg_fail(r, cfg_get(r, n, "width"), "space.width", "expected a multiple of 32, got %d", s->width);
    if (cfg_int(r, n, "space", "vocab", 2, 1000000, &s->vocab)) return -1;
    if ((v = cfg_get(r, n, "sharing"))) {
        if (cfg_check_keys(r, v, "space.sharing", sharing_keys)) return -1;
        if (cfg_bool(r, v, "space.sharing", "featurizer", &s->share_featurizer)) return -1;
        if (cfg_bool(r, v, "space.sharing", "feature_group", &s->share_feature_group)) return -1;
    }
    return 0;
}
