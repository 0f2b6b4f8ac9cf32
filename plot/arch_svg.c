#include "plot/arch_svg.h"

#include <string.h>

// Layout in SVG user units (pixels).
#define BLOCK_W 340
#define BLOCK_H 40
#define BLOCK_GAP 14
#define MIN_PAGE_W 520  // room for the legend

// One hue family per kind of token mixing: attention blue/purple, recurrences green,
// convolutions orange/red, the memoryless MLP neutral grey.
static const char *const palette[ARCH_SVG_PALETTE] = {
    "#4e79a7", "#86bcdf", "#3f51b5", "#9c6ade", "#7bc96f", "#2e8b57", "#f5a04a", "#d9534f", "#c9c1bb",
};
// Text colour on each: white on the dark fills, near-black on the light ones.
static const char *const ink[ARCH_SVG_PALETTE] = {
    "#ffffff", "#14202b", "#ffffff", "#ffffff", "#14202b", "#ffffff", "#14202b", "#ffffff", "#14202b",
};
#define TIE_COLOUR "#2b2b2b"
#define KV_COLOUR "#b0306a"

void xml_put_escaped(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static int block_y(int top, int i) { return top + i * (BLOCK_H + BLOCK_GAP); }

static double arc_bulge(int a, int b) {
    int span = a > b ? a - b : b - a;
    return 22 + 12.0 * (span < 10 ? span : 10);
}

// The block column's left edge and the page width: room for the widest arc on each side.
static void layout(const arch_svg *d, int *block_x, int *page_w) {
    double left = 0, right = 0;
    for (int i = 0; i < d->n; i++) {
        const arch_svg_block *b = &d->blocks[i];
        if (b->tie_to >= 0 && arc_bulge(b->tie_to, i) > left) left = arc_bulge(b->tie_to, i);
        if (b->kv_from >= 0 && arc_bulge(b->kv_from, i) > right) right = arc_bulge(b->kv_from, i);
    }
    int side = (int)(left > right ? left : right) + 24;
    if (side < 40) side = 40;
    *block_x = side;
    *page_w = 2 * side + BLOCK_W;
    if (*page_w < MIN_PAGE_W) {
        *block_x += (MIN_PAGE_W - *page_w) / 2;
        *page_w = MIN_PAGE_W;
    }
}

// Splits s into lines of at most width characters, breaking after '-' or ';' where it
// can; returns the number of lines and their starts and lengths.
static int wrap(const char *s, int width, const char **start, int *len, int max_lines) {
    int n = 0;
    while (*s && n < max_lines) {
        int l = (int)strlen(s);
        if (l > width) {
            int cut = width;
            while (cut > width / 2 && s[cut - 1] != '-' && s[cut - 1] != ';') cut--;
            if (cut <= width / 2) cut = width;
            l = cut;
        }
        start[n] = s;
        len[n++] = l;
        s += l;
    }
    return n;
}

// An arc from block a to block b on one side (-1 left, +1 right), bulging by how far
// apart they are so that nested arcs do not cross.
static void arc(FILE *f, int top, int BLOCK_X, int a, int b, int side, const char *style) {
    double bulge = arc_bulge(a, b);
    double x = side < 0 ? BLOCK_X : BLOCK_X + BLOCK_W;
    double ya = block_y(top, a) + BLOCK_H / 2.0 + (a < b ? 5 : -5);
    double yb = block_y(top, b) + BLOCK_H / 2.0 + (a < b ? -5 : 5);
    double cx = x + side * bulge;
    fprintf(f, "  <path d=\"M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f\" %s/>\n", x, ya, cx, ya, cx, yb, x + side * 3.0,
            yb, style);
}

int arch_svg_write(FILE *f, const arch_svg *d) {
    int BLOCK_X, PAGE_W;
    layout(d, &BLOCK_X, &PAGE_W);
    const char *lines[16];
    int lens[16];
    int n_sub = wrap(d->subtitle, (PAGE_W - 32) / 7, lines, lens, 16);
    int top = 46 + 16 * n_sub + 18;
    int used[ARCH_SVG_PALETTE] = {0}, n_used = 0, any_tie = 0, any_kv = 0;
    for (int i = 0; i < d->n; i++) {
        const arch_svg_block *b = &d->blocks[i];
        int c = b->colour >= 0 && b->colour < ARCH_SVG_PALETTE ? b->colour : 0;
        if (!used[c]++) n_used++;
        any_tie |= b->tie_to >= 0;
        any_kv |= b->kv_from >= 0;
    }
    int stack_end = block_y(top, d->n) - BLOCK_GAP;
    int legend_top = stack_end + 34;
    int cols = (PAGE_W - 32) / 160;
    int legend_rows = (n_used + cols - 1) / cols + 2;
    int height = legend_top + legend_rows * 24 + (d->footer[0] ? 26 : 0) + 12;

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
            PAGE_W, height, PAGE_W, height);
    fprintf(f, "  <title>");
    xml_put_escaped(f, d->title);
    fprintf(f, "</title>\n");
    fprintf(f, "  <defs>\n"
               "    <marker id=\"tie-head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
               "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"" TIE_COLOUR "\"/></marker>\n"
               "    <marker id=\"kv-head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
               "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"" KV_COLOUR "\"/></marker>\n"
               "  </defs>\n");
    fprintf(f, "  <rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", PAGE_W, height);
    fprintf(f, "  <text x=\"%d\" y=\"30\" font-size=\"18\" font-weight=\"bold\" fill=\"#1d1d1d\">", 16);
    xml_put_escaped(f, d->title);
    fprintf(f, "</text>\n");
    for (int i = 0; i < n_sub; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%.*s", lens[i], lines[i]);
        fprintf(f, "  <text x=\"16\" y=\"%d\" font-size=\"12\" font-family=\"DejaVu Sans Mono, monospace\" "
                   "fill=\"#555555\">", 52 + 16 * i);
        xml_put_escaped(f, buf);
        fprintf(f, "</text>\n");
    }

    // Arcs first, so the blocks cover their ends cleanly.
    for (int i = 0; i < d->n; i++) {
        const arch_svg_block *b = &d->blocks[i];
        if (b->tie_to >= 0 && b->tie_to < d->n)
            arc(f, top, BLOCK_X, b->tie_to, i, -1,
                "fill=\"none\" stroke=\"" TIE_COLOUR "\" stroke-width=\"1.8\" marker-end=\"url(#tie-head)\"");
        if (b->kv_from >= 0 && b->kv_from < d->n)
            arc(f, top, BLOCK_X, b->kv_from, i, +1,
                "fill=\"none\" stroke=\"" KV_COLOUR "\" stroke-width=\"1.8\" stroke-dasharray=\"6 4\" "
                "marker-end=\"url(#kv-head)\"");
    }
    for (int i = 0; i < d->n; i++) {
        const arch_svg_block *b = &d->blocks[i];
        int c = b->colour >= 0 && b->colour < ARCH_SVG_PALETTE ? b->colour : 0, y = block_y(top, i);
        fprintf(f, "  <g>\n    <rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" class=\"liv\" fill=\"%s\" "
                   "stroke=\"#00000033\"/>\n", BLOCK_X, y, BLOCK_W, BLOCK_H, palette[c]);
        fprintf(f, "    <text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\" opacity=\"0.8\">%d</text>\n",
                BLOCK_X + 9, y + 25, ink[c], i + 1);
        fprintf(f, "    <text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\" fill=\"%s\">", BLOCK_X + 32,
                y + 18, ink[c]);
        xml_put_escaped(f, b->name);
        fprintf(f, "</text>\n    <text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">", BLOCK_X + 32, y + 33, ink[c]);
        xml_put_escaped(f, b->detail);
        fprintf(f, "</text>\n");
        if (b->note[0]) {
            fprintf(f, "    <text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" fill=\"%s\" opacity=\"0.9\">",
                    BLOCK_X + BLOCK_W - 10, y + 18, ink[c]);
            xml_put_escaped(f, b->note);
            fprintf(f, "</text>\n");
        }
        fprintf(f, "  </g>\n");
    }

    // Legend: the classes present, then the arc styles.
    fprintf(f, "  <line x1=\"16\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dddddd\"/>\n", legend_top - 16, PAGE_W - 16,
            legend_top - 16);
    int k = 0;
    for (int c = 0; c < ARCH_SVG_PALETTE; c++) {
        if (!used[c]) continue;
        const char *name = "";
        for (int i = 0; i < d->n; i++)
            if (d->blocks[i].colour == c) name = d->blocks[i].name;
        int x = 16 + (k % cols) * 160, y = legend_top + (k / cols) * 24;
        fprintf(f, "  <rect x=\"%d\" y=\"%d\" width=\"22\" height=\"14\" rx=\"3\" fill=\"%s\" stroke=\"#00000033\"/>\n",
                x, y, palette[c]);
        fprintf(f, "  <text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#222222\">", x + 30, y + 12);
        xml_put_escaped(f, name);
        fprintf(f, "</text>\n");
        k++;
    }
    int y = legend_top + ((n_used + cols - 1) / cols) * 24 + 6;
    fprintf(f, "  <path d=\"M 16 %d L 52 %d\" stroke=\"" TIE_COLOUR "\" stroke-width=\"1.8\" "
               "marker-end=\"url(#tie-head)\"/>\n", y + 7, y + 7);
    fprintf(f, "  <text x=\"62\" y=\"%d\" font-size=\"12\" fill=\"#222222\">featurizer sharing: tied weights "
               "(left)%s</text>\n", y + 11, any_tie ? "" : " - none here");
    y += 24;
    fprintf(f, "  <path d=\"M 16 %d L 52 %d\" stroke=\"" KV_COLOUR "\" stroke-width=\"1.8\" stroke-dasharray=\"6 4\" "
               "marker-end=\"url(#kv-head)\"/>\n", y + 7, y + 7);
    fprintf(f, "  <text x=\"62\" y=\"%d\" font-size=\"12\" fill=\"#222222\">feature-group sharing: reused K/V or "
               "state inputs (right)%s</text>\n", y + 11, any_kv ? "" : " - none here");
    if (d->footer[0]) {
        fprintf(f, "  <text x=\"16\" y=\"%d\" font-size=\"12\" fill=\"#555555\">", y + 40);
        xml_put_escaped(f, d->footer);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
    return ferror(f) ? -1 : 0;
}
