// star: commands whose machinery is not built yet. Each says so plainly and exits 1;
// none pretends to work. A command moves out of this file when it is implemented.
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

__attribute__((unused)) static int unavailable(const char *name, const char *what, int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        printf("usage: star %s ...\n\n%s\nThis command is not available in this build yet.\n", name, what);
        return 0;
    }
    fprintf(stderr, "star: error: 'star %s' is not available in this build yet (%s)\n", name, what);
    return 1;
}

