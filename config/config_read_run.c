// star: the config's `run` section: where the run lives and the seed of all randomness.
#include <string.h>

#include "config/config_names.h"
#include "config/config_reader.h"

// ".." is refused so that a run directory (and every file the run creates under it)
// cannot climb out of the place the user named; absolute paths are allowed.
int config_path_is_safe(const char *path) {
    if (!path || !path[0]) return 0;
    const char *p = path;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') return 0;
        p += len;
        while (*p == '/') p++;
    }
    return 1;
}

int cfg_read_run(cfg_reader *r, ynode *n, star_config *c) {
    static const char *const keys[] = {"dir", "seed", "keep_weights", NULL};
    if (cfg_check_keys(r, n, "run", keys)) return -1;
    ynode *dir = cfg_get(r, n, "dir");
    if (!dir) return cfg_fail(r, n, "run.dir", "required key is missing");
    if (cfg_string_node(r, dir, "run.dir", c->run.dir, sizeof c->run.dir)) return -1;
    if (!config_path_is_safe(c->run.dir))
        return cfg_fail(r, dir, "run.dir", "must not contain a '..' component, got '%s'", c->run.dir);
    // Seeds stay below 2^53 (9e15) so that YAML readers that parse numbers as doubles agree.
    long seed = (long)c->run.seed;
    if (cfg_long(r, n, "run", "seed", 0, 9000000000000000L, &seed)) return -1;
    c->run.seed = (uint64_t)seed;
    int keep = (int)c->run.keep_weights;
    if (cfg_choice(r, n, "run", "keep_weights", config_keep_weights_names, CONFIG_KEEP_COUNT, &keep)) return -1;
    c->run.keep_weights = (config_keep_weights)keep;
    return 0;
}
