// star: the config's `problem` section: a built-in multi-objective test problem (ZDT,
// DTLZ) searched instead of architectures, to check the algorithms on known fronts.
#include "config/config_names.h"
#include "config/config_reader.h"

int cfg_read_problem(cfg_reader *r, ynode *n, star_config *c) {
    static const char *const keys_zdt[] = {"name", "n_var", NULL};
    static const char *const keys_dtlz[] = {"name", "n_var", "n_obj", NULL};
    config_problem *p = &c->problem;
    if (!ynode_is_map(n)) return cfg_fail(r, n, "problem", "expected a mapping such as {name: zdt1, n_var: 30}");
    ynode *name = cfg_get(r, n, "name");
    if (!name) return cfg_fail(r, n, "problem.name", "required key is missing");
    int kind;
    if (cfg_choice_node(r, name, "problem.name", config_problem_names, CONFIG_PROBLEM_COUNT, &kind)) return -1;
    p->enabled = 1;
    p->kind = (config_problem_kind)kind;
    if (cfg_check_keys(r, n, "problem", kind == CONFIG_PROBLEM_DTLZ2 ? keys_dtlz : keys_zdt)) return -1;
    if (kind == CONFIG_PROBLEM_DTLZ2) {
        p->n_obj = 3;
        if (cfg_int(r, n, "problem", "n_obj", 2, 10, &p->n_obj)) return -1;
        p->n_var = p->n_obj + 9;  // k = 10 position-free variables, as in Deb et al.
        return cfg_int(r, n, "problem", "n_var", p->n_obj, 1000, &p->n_var);
    }
    p->n_obj = 2;
    p->n_var = 30;
    return cfg_int(r, n, "problem", "n_var", 2, 1000, &p->n_var);
}
