// star plot RUN_DIR [--out DIR] [--format png|svg|both]
//
// The charts of a run: its front in every pair of objectives (every evaluated point
// faded behind, the front numbered as `star front` numbers it, the config's seed_with
// baselines marked and labelled, hard limits dashed) and the hypervolume per
// generation. Through PLplot; a build without it says so and exits 1.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_plots.h"
#include "cli/run_view.h"
#include "common/file.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star plot RUN_DIR [--out DIR] [--format png|svg|both]\n\n"
            "Writes the charts of a run into DIR (default RUN_DIR/plots): front_A_vs_B for every\n"
            "pair of objectives (every evaluated architecture faded, the front of the last\n"
            "generation numbered as in `star front`, the config's seed_with baselines marked\n"
            "and labelled, hard limits dashed, the best-in-this-pair staircase) and hypervolume\n"
            "(per generation). Axes carry units: M parameters, MiB of cache, nats per token or\n"
            "bits per byte. --format: png (default), svg or both. Prints the files written.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star plot: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star plot --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

int cmd_plot(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *dir = NULL, *out = NULL, *format = "png";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--out") || !strcmp(o, "--format")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", o);
            if (o[2] == 'o') out = argv[++i];
            else format = argv[++i];
            continue;
        }
        if (o[0] == '-') return usage_error("unknown option '%s'", o);
        if (dir) return usage_error("unexpected argument '%s' (one RUN_DIR only)", o);
        dir = o;
    }
    if (!dir) return usage_error("no run directory given");
    int png = !strcmp(format, "png") || !strcmp(format, "both"), svg = !strcmp(format, "svg") || !strcmp(format, "both");
    if (!png && !svg) return usage_error("--format: expected png, svg or both, got '%s'", format);
    if (!plot_available()) {
        fprintf(stderr, "star: error: star plot: this build of star has no plotting (PLplot was not found when it "
                        "was built; install libplplot-dev and plplot-driver-cairo and rebuild)\n");
        return EXIT_FAIL;
    }
    star_error err = {0};
    run_view v;
    run_plot_files files;
    char out_dir[4096];
    int rc = EXIT_FAIL;
    if (run_view_load(&v, dir, &err) != 0) goto out;
    if (out) snprintf(out_dir, sizeof out_dir, "%s", out);
    else if (path_join(out_dir, sizeof out_dir, dir, "plots", &err) != 0) goto out;
    if (run_plots_write(&v, out_dir, png, svg, &files, &err) != 0) goto out;
    for (int i = 0; i < files.n; i++) {
        if (png) printf("%s/%s.png\n", out_dir, files.name[i]);
        if (svg) printf("%s/%s.svg\n", out_dir, files.name[i]);
    }
    for (int b = 0; b < v.n_base; b++)
        if (v.base[b].problem[0])
            fprintf(stderr, "star plot: note: baseline %s %s: %s\n", v.base[b].name,
                    v.base[b].infeasible ? "shown, but" : "not shown", v.base[b].problem);
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) star_error_print(&err);
    run_view_free(&v);
    return rc;
}
