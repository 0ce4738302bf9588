/* studio-loss-plot.h: StudioLossPlot, the live training curve: raw loss, its exponential
 * moving average (TensorBoard's smoothing), the learning rate on a second axis, a hover
 * read-out and zoom to a step range. Drawn with GtkSnapshot; what it draws is reduced
 * to the min and max of each pixel column, so 100,000 steps cost as much as 1,000. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define STUDIO_TYPE_LOSS_PLOT (studio_loss_plot_get_type ())
G_DECLARE_FINAL_TYPE (StudioLossPlot, studio_loss_plot, STUDIO, LOSS_PLOT, GtkWidget)

GtkWidget *studio_loss_plot_new            (void);
/* Adds one logged step; steps arrive in increasing order. Non-finite losses are kept
 * out of the curve. */
void       studio_loss_plot_append         (StudioLossPlot *self, double step, double loss,
                                            double lr);
void       studio_loss_plot_clear          (StudioLossPlot *self);
guint      studio_loss_plot_get_n_points   (StudioLossPlot *self);
/* 0 (raw) to 0.99 (heavy smoothing), as TensorBoard's slider. */
void       studio_loss_plot_set_smoothing  (StudioLossPlot *self, double smoothing);
double     studio_loss_plot_get_smoothing  (StudioLossPlot *self);
/* The smoothed loss at point I (for the read-out and tests). */
double     studio_loss_plot_get_smoothed   (StudioLossPlot *self, guint i);
/* Shows steps FIRST..LAST only; studio_loss_plot_reset_zoom () shows them all. */
void       studio_loss_plot_zoom           (StudioLossPlot *self, double first, double last);
void       studio_loss_plot_reset_zoom     (StudioLossPlot *self);
gboolean   studio_loss_plot_get_zoom       (StudioLossPlot *self, double *first, double *last);
/* Puts the hover read-out at widget x coordinate X (negative: none) and returns its
 * text, or NULL when there is no point there (the motion controller calls this). */
const char *studio_loss_plot_hover         (StudioLossPlot *self, double x);
/* How many times the per-column cache was rebuilt (tests check it is reused). */
guint      studio_loss_plot_get_cache_builds (StudioLossPlot *self);

/* Per-column reduction: for the N points (X increasing) that lie in [X0, X1], column
 * floor ((x - X0) / (X1 - X0) * COLUMNS) (clamped to COLUMNS - 1) gets the min and max
 * of its Y values; empty columns get NAN. Returns the number of non-empty columns. */
guint      studio_loss_plot_decimate       (const double *x, const double *y, guint n,
                                            double x0, double x1, guint columns,
                                            double *col_min, double *col_max);

G_END_DECLS
