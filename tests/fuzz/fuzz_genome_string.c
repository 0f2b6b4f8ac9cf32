// Fuzz harness: the STAR genome string parser (genome_parse) and genome_check.
// Property: a string that parses writes back (genome_to_string) to a string that parses
// to the same genome.
#include <stdlib.h>
#include <string.h>

#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstring(data, size);
    genome g, back;
    star_error err;
    if (genome_parse(s, &g, &err) == 0) {
        char buf[GENOME_STRING_MAX];
        int n = genome_to_string(&g, buf, sizeof buf);
        FUZZ_ASSERT(n > 0, "a parsed genome does not write back: '%s'", s);
        FUZZ_ASSERT(genome_parse(buf, &back, &err) == 0, "'%s' written back as '%s' does not parse: %s", s, buf,
                    err.msg);
        FUZZ_ASSERT(genome_equal(&g, &back), "'%s' written back as '%s' parses to another genome", s, buf);
        genome_dims dims = {128, 256};
        (void)genome_check(&g, dims, &err);
        char summary[256];
        genome_summary(&g, summary, sizeof summary);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed parse left no message");
    }
    free(s);
    return 0;
}
