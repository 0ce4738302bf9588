/* studio-plot-axis.h: the axis labels of the loss plot, as text, apart from drawing:
 * value labels that tell adjacent grid lines apart, and step labels that are whole,
 * distinct steps. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  STUDIO_PLOT_LOSS,           /* plain digits; the exponent form below 1e-3 or from 1e5 */
  STUDIO_PLOT_LEARNING_RATE,  /* the exponent form, which fits the narrow right margin */
} StudioPlotFormat;

/* The labels of N_LINES + 1 evenly spaced grid lines from V1 (top) down to V0, with the
 * fewest digits (at least the usual 4 significant, 2 in the exponent form) that make
 * adjacent labels differ. Free with g_strfreev. */
char **studio_plot_value_labels (double v0, double v1, guint n_lines, StudioPlotFormat format);

/* The whole steps to label on an axis from X0 to X1 with N_LINES even divisions: each
 * division's nearest whole step, each once, none outside the axis. Writes at most
 * N_LINES + 1 steps to STEPS and returns how many. */
guint studio_plot_step_ticks (double x0, double x1, guint n_lines, double *steps);

G_END_DECLS
