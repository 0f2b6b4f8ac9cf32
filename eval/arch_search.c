#include "eval/arch_search.h"

int arch_search_create(const star_config *cfg, arch_search **out, star_error *err) {
    (void)cfg;
    *out = NULL;
    return STAR_FAIL(err, "architecture search is not available in this build yet (genome layer missing)");
}
void arch_search_free(arch_search *as) { (void)as; }
void arch_search_fill_spec(arch_search *as, run_spec *spec) { (void)as; (void)spec; }
