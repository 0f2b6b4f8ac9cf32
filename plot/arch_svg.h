// star: the picture of one architecture as SVG text: the LIV stack as a column of
// blocks coloured by class (first LIV at the top), featurizer sharing (tied weights)
// drawn as solid arcs on the left, feature-group sharing (reused K/V or state inputs)
// as dashed arcs on the right, each from the owner to the LIV that uses it, and a
// legend of the classes present and the two arc styles. Plain SVG 1.1, no scripts or
// external references, so it can be opened alone or placed in a page.
#ifndef STAR_PLOT_ARCH_SVG_H
#define STAR_PLOT_ARCH_SVG_H

#include <stdio.h>

#define ARCH_SVG_MAX_BLOCKS 64
#define ARCH_SVG_PALETTE 9  // colours, one per class slot

typedef struct arch_svg_block {
    char name[24];     // class name, e.g. "SA-1"
    int colour;        // 0 .. ARCH_SVG_PALETTE-1
    char detail[96];   // shapes in a few words, e.g. "4 heads x 16, window 64"
    char note[32];     // right-aligned small text, e.g. "52.3k params"
    int tie_to;        // featurizer sharing: the block whose weights this one uses, or -1
    int kv_from;       // feature-group sharing: the block whose features this one reuses, or -1
} arch_svg_block;

typedef struct arch_svg {
    char title[160];     // e.g. the class summary
    char subtitle[1100]; // e.g. the genome string (wrapped at '-' when long)
    char footer[160];    // e.g. totals
    int n;
    arch_svg_block blocks[ARCH_SVG_MAX_BLOCKS];
} arch_svg;

// Writes the SVG document; returns 0, or -1 when writing failed (errno set).
int arch_svg_write(FILE *f, const arch_svg *d);

// Writes s with the five characters that XML and HTML treat specially escaped (NULL: nothing).
void xml_put_escaped(FILE *f, const char *s);

#endif
