#include "plot/plot.h"

int plot_available(void) {
#ifdef STAR_HAVE_PLPLOT
    return 1;
#else
    return 0;
#endif
}

const char *plot_format_ext(plot_format f) { return f == PLOT_SVG ? "svg" : "png"; }
