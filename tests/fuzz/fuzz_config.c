// Fuzz harness: the YAML config loader (config_load_string, with `--set` overrides).
// Input: the config text; lines after a line "#--set" are overrides, one per line.
// Property: a config that loads writes a resolved config that loads back to the
// identical struct.
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstring(data, size);
    size_t text_len = size;
    const char *sets[CONFIG_MAX_SETS];
    int n_sets = 0;
    char *mark = strstr(text, "#--set\n");
    if (mark) {
        text_len = (size_t)(mark - text);
        for (char *p = mark + 7; *p && n_sets < CONFIG_MAX_SETS;) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = '\0';
            sets[n_sets++] = p;
            if (!nl) break;
            p = nl + 1;
        }
    }
    star_config *c = malloc(sizeof *c), *back = malloc(sizeof *back);
    star_error err;
    if (config_load_string(text, text_len, "fuzz.yaml", sets, n_sets, c, &err) == 0) {
        char *resolved = NULL;
        FUZZ_ASSERT(config_write_resolved(c, &resolved) == 0, "config_write_resolved failed on a loaded config");
        int rc = config_load_string(resolved, strlen(resolved), "resolved.yaml", NULL, 0, back, &err);
        FUZZ_ASSERT(rc == 0, "the resolved config does not load back: %s\n%s", err.msg, resolved);
        FUZZ_ASSERT(memcmp(c, back, sizeof *c) == 0, "the resolved config loads back different:\n%s", resolved);
        free(resolved);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed load left no message");
    }
    free(c);
    free(back);
    free(text);
    return 0;
}
