/* studio-loss-plot.c: StudioLossPlot: the point arrays, TensorBoard's debiased EMA, the
 * per-pixel-column cache and the drawing. The cache is rebuilt only when the data, the
 * smoothing, the zoom or the size change; a frame otherwise only replays it. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "studio-loss-plot.h"
#include "studio-plot-axis.h"

#define MARGIN_LEFT 60.0
#define MARGIN_RIGHT 64.0   /* the least right margin; learning-rate labels may widen it */
#define MARGIN_TOP 14.0
#define MARGIN_BOTTOM 30.0
#define N_GRID_LINES 4   /* horizontal grid lines below the top one; step labels too */

struct _StudioLossPlot
{
  GtkWidget parent_instance;

  GArray *steps, *loss, *lr, *smoothed;   /* of double */
  double  smoothing;
  double  ema_last;                       /* running EMA state for appends */
  guint   ema_count;

  gboolean zoomed;
  double   zoom_first, zoom_last;

  /* The cache: one entry per pixel column of the plot area. */
  gboolean cache_valid;
  int      cache_width, cache_height;
  guint    columns;
  double  *raw_min, *raw_max, *smooth_min, *smooth_max, *lr_min, *lr_max;
  double   x0, x1, y0, y1, lr0, lr1;      /* the visible ranges */
  double   margin_right;                  /* fits the widest learning-rate label */
  char   **loss_labels, **lr_labels;      /* of the grid lines, top first, for the ranges */
  guint    cache_builds;

  double   hover_x;
  char    *hover_text;
  double   drag_start, drag_now;
  gboolean dragging;
};

G_DEFINE_FINAL_TYPE (StudioLossPlot, studio_loss_plot, GTK_TYPE_WIDGET)

guint
studio_loss_plot_decimate (const double *x, const double *y, guint n, double x0, double x1,
                           guint columns, double *col_min, double *col_max)
{
  guint filled = 0;
  double span = x1 - x0;

  for (guint c = 0; c < columns; c++)
    col_min[c] = col_max[c] = NAN;
  if (columns == 0 || n == 0)
    return 0;
  for (guint i = 0; i < n; i++)
    {
      double fc;
      guint c;

      if (x[i] < x0 || x[i] > x1 || !isfinite (y[i]))
        continue;
      fc = span > 0 ? (x[i] - x0) / span * columns : 0;
      c = fc >= columns ? columns - 1 : (guint) fc;
      if (isnan (col_min[c]))
        {
          col_min[c] = col_max[c] = y[i];
          filled++;
        }
      else
        {
          col_min[c] = MIN (col_min[c], y[i]);
          col_max[c] = MAX (col_max[c], y[i]);
        }
    }
  return filled;
}

static double
point (GArray *array, guint i)
{
  return g_array_index (array, double, i);
}

static void
invalidate (StudioLossPlot *self)
{
  self->cache_valid = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* TensorBoard's smoothing: an EMA debiased by 1 - w^n, so the start is not pulled to 0. */
static double
ema_push (StudioLossPlot *self, double value)
{
  double w = self->smoothing;

  if (!isfinite (value))
    return self->ema_count > 0 ? self->ema_last / (1.0 - pow (w, self->ema_count)) : NAN;
  self->ema_last = self->ema_last * w + (1.0 - w) * value;
  self->ema_count++;
  return w > 0 ? self->ema_last / (1.0 - pow (w, self->ema_count)) : value;
}

static void
recompute_smoothed (StudioLossPlot *self)
{
  self->ema_last = 0;
  self->ema_count = 0;
  g_array_set_size (self->smoothed, 0);
  for (guint i = 0; i < self->loss->len; i++)
    {
      double s = ema_push (self, point (self->loss, i));
      g_array_append_val (self->smoothed, s);
    }
}

void
studio_loss_plot_append (StudioLossPlot *self, double step, double loss, double lr)
{
  double s;

  g_return_if_fail (STUDIO_IS_LOSS_PLOT (self));
  g_array_append_val (self->steps, step);
  g_array_append_val (self->loss, loss);
  g_array_append_val (self->lr, lr);
  s = ema_push (self, loss);
  g_array_append_val (self->smoothed, s);
  invalidate (self);
}

void
studio_loss_plot_clear (StudioLossPlot *self)
{
  g_return_if_fail (STUDIO_IS_LOSS_PLOT (self));
  g_array_set_size (self->steps, 0);
  g_array_set_size (self->loss, 0);
  g_array_set_size (self->lr, 0);
  g_array_set_size (self->smoothed, 0);
  self->ema_last = 0;
  self->ema_count = 0;
  self->zoomed = FALSE;
  studio_loss_plot_hover (self, -1);
  invalidate (self);
}

guint
studio_loss_plot_get_n_points (StudioLossPlot *self)
{
  g_return_val_if_fail (STUDIO_IS_LOSS_PLOT (self), 0);
  return self->steps->len;
}

void
studio_loss_plot_set_smoothing (StudioLossPlot *self, double smoothing)
{
  g_return_if_fail (STUDIO_IS_LOSS_PLOT (self));
  smoothing = CLAMP (smoothing, 0.0, 0.99);
  if (smoothing == self->smoothing)
    return;
  self->smoothing = smoothing;
  recompute_smoothed (self);
  invalidate (self);
}

double
studio_loss_plot_get_smoothing (StudioLossPlot *self)
{
  g_return_val_if_fail (STUDIO_IS_LOSS_PLOT (self), 0);
  return self->smoothing;
}

double
studio_loss_plot_get_smoothed (StudioLossPlot *self, guint i)
{
  g_return_val_if_fail (STUDIO_IS_LOSS_PLOT (self), NAN);
  g_return_val_if_fail (i < self->smoothed->len, NAN);
  return point (self->smoothed, i);
}

void
studio_loss_plot_zoom (StudioLossPlot *self, double first, double last)
{
  g_return_if_fail (STUDIO_IS_LOSS_PLOT (self));
  if (!(last > first))
    return;
  self->zoomed = TRUE;
  self->zoom_first = first;
  self->zoom_last = last;
  invalidate (self);
}

void
studio_loss_plot_reset_zoom (StudioLossPlot *self)
{
  g_return_if_fail (STUDIO_IS_LOSS_PLOT (self));
  self->zoomed = FALSE;
  invalidate (self);
}

gboolean
studio_loss_plot_get_zoom (StudioLossPlot *self, double *first, double *last)
{
  g_return_val_if_fail (STUDIO_IS_LOSS_PLOT (self), FALSE);
  if (first)
    *first = self->zoom_first;
  if (last)
    *last = self->zoom_last;
  return self->zoomed;
}

guint
studio_loss_plot_get_cache_builds (StudioLossPlot *self)
{
  g_return_val_if_fail (STUDIO_IS_LOSS_PLOT (self), 0);
  return self->cache_builds;
}

static void
range_of (const double *lo, const double *hi, guint n, double *out_lo, double *out_hi)
{
  double a = INFINITY, b = -INFINITY;

  for (guint c = 0; c < n; c++)
    if (!isnan (lo[c]))
      {
        a = MIN (a, lo[c]);
        b = MAX (b, hi[c]);
      }
  if (!isfinite (a))
    a = 0, b = 1;
  if (b - a < 1e-12)
    {
      double pad = fabs (a) > 0 ? fabs (a) * 0.05 : 0.5;
      a -= pad;
      b += pad;
    }
  else
    {
      double pad = (b - a) * 0.05;
      a -= pad;
      b += pad;
    }
  *out_lo = a;
  *out_hi = b;
}

static void
rebuild_cache (StudioLossPlot *self, int width, int height)
{
  guint n = self->steps->len;
  const double *x = (const double *) self->steps->data;
  double plot_w = width - MARGIN_LEFT - self->margin_right;
  guint columns = plot_w > 1 ? (guint) plot_w : 1;

  if (columns != self->columns)
    {
      self->columns = columns;
      self->raw_min = g_renew (double, self->raw_min, columns);
      self->raw_max = g_renew (double, self->raw_max, columns);
      self->smooth_min = g_renew (double, self->smooth_min, columns);
      self->smooth_max = g_renew (double, self->smooth_max, columns);
      self->lr_min = g_renew (double, self->lr_min, columns);
      self->lr_max = g_renew (double, self->lr_max, columns);
    }
  if (self->zoomed)
    self->x0 = self->zoom_first, self->x1 = self->zoom_last;
  else if (n > 0)
    self->x0 = x[0], self->x1 = MAX (x[n - 1], x[0] + 1);
  else
    self->x0 = 0, self->x1 = 1;

  studio_loss_plot_decimate (x, (const double *) self->loss->data, n, self->x0, self->x1,
                             columns, self->raw_min, self->raw_max);
  studio_loss_plot_decimate (x, (const double *) self->smoothed->data, n, self->x0, self->x1,
                             columns, self->smooth_min, self->smooth_max);
  studio_loss_plot_decimate (x, (const double *) self->lr->data, n, self->x0, self->x1,
                             columns, self->lr_min, self->lr_max);
  range_of (self->raw_min, self->raw_max, columns, &self->y0, &self->y1);
  range_of (self->lr_min, self->lr_max, columns, &self->lr0, &self->lr1);
  if (self->lr0 < 0 && self->lr1 > 0)
    self->lr0 = 0;

  self->cache_width = width;
  self->cache_height = height;
  self->cache_valid = TRUE;
  self->cache_builds++;
}

/* A column's value as a y coordinate. */
static double
to_y (double v, double top, double plot_h, double v0, double v1)
{
  return top + plot_h - (v - v0) / (v1 - v0) * plot_h;
}

/* One line through the middle of each column, and each column's whole min..max span as a
 * one-pixel bar, so that a spike survives decimation. Bars are boxes and the line does not
 * zigzag: both are cheap for cairo, where a stroked zigzag of 100,000 points is not. */
static void
trace (cairo_t *cr, const double *lo, const double *hi, guint columns, double top,
       double plot_h, double v0, double v1, double line_width)
{
  guint in_path = 0;

  cairo_set_line_width (cr, line_width);
  for (guint c = 0; c < columns; c++)
    {
      double px = MARGIN_LEFT + c + 0.5, py;

      if (isnan (lo[c]))
        continue;
      py = to_y ((lo[c] + hi[c]) / 2, top, plot_h, v0, v1);
      if (in_path == 0)
        cairo_move_to (cr, px, py);
      else
        cairo_line_to (cr, px, py);
      in_path++;
      /* Short strokes: cairo's cost grows faster than the length of a jagged path. */
      if (in_path == 32)
        {
          cairo_stroke (cr);
          cairo_move_to (cr, px, py);
          in_path = 1;
        }
    }
  cairo_stroke (cr);

  for (guint c = 0; c < columns; c++)
    {
      double ylo, yhi;

      if (isnan (lo[c]))
        continue;
      ylo = to_y (lo[c], top, plot_h, v0, v1);
      yhi = to_y (hi[c], top, plot_h, v0, v1);
      if (ylo - yhi > line_width)
        cairo_rectangle (cr, MARGIN_LEFT + c, yhi, 1, ylo - yhi);
    }
  cairo_fill (cr);
}

static void
draw_text (StudioLossPlot *self, cairo_t *cr, const char *text, double x, double y,
           double align_x, double align_y)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - w * align_x, y - h * align_y);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

/* The grid lines' labels for the ranges rebuild_cache found. */
static void
update_labels (StudioLossPlot *self)
{
  g_strfreev (self->loss_labels);
  g_strfreev (self->lr_labels);
  self->loss_labels = studio_plot_value_labels (self->y0, self->y1, N_GRID_LINES, STUDIO_PLOT_LOSS);
  self->lr_labels = studio_plot_value_labels (self->lr0, self->lr1, N_GRID_LINES,
                                              STUDIO_PLOT_LEARNING_RATE);
}

/* Sets the right margin to fit LABELS (6 px from the plot, 6 from the edge); TRUE when
 * it changed. */
static gboolean
fit_right_margin (StudioLossPlot *self, char **labels)
{
  double needed = MARGIN_RIGHT;

  for (guint i = 0; labels[i] != NULL; i++)
    {
      PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), labels[i]);
      int w, h;

      pango_layout_get_pixel_size (layout, &w, &h);
      needed = MAX (needed, w + 12.0);
      g_object_unref (layout);
    }
  if (needed == self->margin_right)
    return FALSE;
  self->margin_right = needed;
  return TRUE;
}

static void
studio_loss_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  StudioLossPlot *self = STUDIO_LOSS_PLOT (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  GdkRGBA fg, accent, lr_colour;
  double plot_h = height - MARGIN_TOP - MARGIN_BOTTOM;
  cairo_t *cr;
  char label[64];
  double ticks[N_GRID_LINES + 1];
  guint n_ticks;

  if (width <= MARGIN_LEFT + self->margin_right + 2 || plot_h < 4)
    return;
  if (!self->cache_valid || width != self->cache_width || height != self->cache_height)
    {
      rebuild_cache (self, width, height);
      /* The labels follow the ranges. A narrow learning-rate range needs more digits,
       * which need a wider margin; the ranges do not depend on the margin, so one more
       * build settles it. */
      update_labels (self);
      if (fit_right_margin (self, self->lr_labels))
        {
          if (width <= MARGIN_LEFT + self->margin_right + 2)
            {
              self->cache_valid = FALSE;
              return;
            }
          rebuild_cache (self, width, height);
        }
    }

  /* Colours from the theme, so the light and dark styles both read well. */
  gtk_style_context_get_color (style, &fg);
  if (!gtk_style_context_lookup_color (style, "accent_color", &accent))
    gdk_rgba_parse (&accent, "#3584e4");
  if (!gtk_style_context_lookup_color (style, "warning_color", &lr_colour))
    gdk_rgba_parse (&lr_colour, "#c64600");

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cairo_set_line_width (cr, 1.0);

  if (self->steps->len == 0)
    {
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_push_group (cr);
      draw_text (self, cr, _("The loss curve appears here once training runs"),
                 width / 2.0, height / 2.0, 0.5, 0.5);
      cairo_pop_group_to_source (cr);
      cairo_paint_with_alpha (cr, 0.55);
      cairo_destroy (cr);
      return;
    }

  /* Grid and axis labels: four horizontal lines, loss on the left, lr on the right. */
  for (int i = 0; i <= N_GRID_LINES; i++)
    {
      double y = MARGIN_TOP + plot_h * i / N_GRID_LINES;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.12);
      cairo_move_to (cr, MARGIN_LEFT, floor (y) + 0.5);
      cairo_line_to (cr, width - self->margin_right, floor (y) + 0.5);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
      draw_text (self, cr, self->loss_labels[i], MARGIN_LEFT - 6, y, 1.0, 0.5);
      cairo_set_source_rgba (cr, lr_colour.red, lr_colour.green, lr_colour.blue, 0.9);
      draw_text (self, cr, self->lr_labels[i], width - self->margin_right + 6, y, 0.0, 0.5);
    }
  /* Each step label sits under its own step. */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
  n_ticks = studio_plot_step_ticks (self->x0, self->x1, N_GRID_LINES, ticks);
  for (guint i = 0; i < n_ticks; i++)
    {
      double span = self->x1 - self->x0, plot_w = width - MARGIN_LEFT - self->margin_right;
      double x = MARGIN_LEFT + (span > 0 ? plot_w * (ticks[i] - self->x0) / span : 0);

      g_snprintf (label, sizeof label, "%.0f", ticks[i]);
      draw_text (self, cr, label, x, height - MARGIN_BOTTOM + 6,
                 x <= MARGIN_LEFT + 1 ? 0.0 : x >= MARGIN_LEFT + plot_w - 1 ? 1.0 : 0.5, 0.0);
    }

  cairo_save (cr);
  cairo_rectangle (cr, MARGIN_LEFT, MARGIN_TOP, width - MARGIN_LEFT - self->margin_right, plot_h);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);

  /* The learning rate, thin and dashed behind the loss. */
  cairo_set_source_rgba (cr, lr_colour.red, lr_colour.green, lr_colour.blue, 0.7);
  cairo_set_dash (cr, (double[]) { 4, 3 }, 2, 0);
  trace (cr, self->lr_min, self->lr_max, self->columns, MARGIN_TOP, plot_h, self->lr0, self->lr1, 1.0);
  cairo_set_dash (cr, NULL, 0, 0);

  cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.3);
  trace (cr, self->raw_min, self->raw_max, self->columns, MARGIN_TOP, plot_h, self->y0, self->y1, 1.0);
  gdk_cairo_set_source_rgba (cr, &accent);
  trace (cr, self->smooth_min, self->smooth_max, self->columns, MARGIN_TOP, plot_h,
         self->y0, self->y1, 2.0);
  cairo_set_line_width (cr, 1.0);

  if (self->dragging)
    {
      double a = MIN (self->drag_start, self->drag_now), b = MAX (self->drag_start, self->drag_now);
      cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.15);
      cairo_rectangle (cr, a, MARGIN_TOP, b - a, plot_h);
      cairo_fill (cr);
    }
  cairo_restore (cr);

  if (self->hover_text != NULL && self->hover_x >= MARGIN_LEFT)
    {
      PangoLayout *layout = gtk_widget_create_pango_layout (widget, self->hover_text);
      int tw, th;
      double bx;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.5);
      cairo_move_to (cr, floor (self->hover_x) + 0.5, MARGIN_TOP);
      cairo_line_to (cr, floor (self->hover_x) + 0.5, MARGIN_TOP + plot_h);
      cairo_stroke (cr);
      pango_layout_get_pixel_size (layout, &tw, &th);
      bx = MIN (self->hover_x + 8, width - self->margin_right - tw - 8);
      bx = MAX (bx, MARGIN_LEFT + 2);
      cairo_set_source_rgba (cr, 1 - fg.red, 1 - fg.green, 1 - fg.blue, 0.85);
      cairo_rectangle (cr, bx - 4, MARGIN_TOP + 4, tw + 8, th + 6);
      cairo_fill (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, bx, MARGIN_TOP + 7);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);
    }
  cairo_destroy (cr);
}

static double
x_to_step (StudioLossPlot *self, double x)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  double plot_w = width - MARGIN_LEFT - self->margin_right;
  double x0, x1;
  guint n = self->steps->len;

  if (self->zoomed)
    x0 = self->zoom_first, x1 = self->zoom_last;
  else if (n > 0)
    x0 = point (self->steps, 0), x1 = MAX (point (self->steps, n - 1), x0 + 1);
  else
    x0 = 0, x1 = 1;
  return x0 + (x - MARGIN_LEFT) / MAX (plot_w, 1) * (x1 - x0);
}

const char *
studio_loss_plot_hover (StudioLossPlot *self, double x)
{
  guint n, lo, hi;
  double step;

  g_return_val_if_fail (STUDIO_IS_LOSS_PLOT (self), NULL);
  g_clear_pointer (&self->hover_text, g_free);
  self->hover_x = x;
  n = self->steps->len;
  if (x < MARGIN_LEFT || x > gtk_widget_get_width (GTK_WIDGET (self)) - self->margin_right || n == 0)
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return NULL;
    }
  step = x_to_step (self, x);
  /* The nearest logged step, by binary search. */
  lo = 0, hi = n - 1;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (point (self->steps, mid) < step)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo > 0 && fabs (point (self->steps, lo - 1) - step) < fabs (point (self->steps, lo) - step))
    lo--;
  self->hover_text = g_strdup_printf (_("step %.0f · loss %.4g · smoothed %.4g · lr %.3g"),
                                      point (self->steps, lo), point (self->loss, lo),
                                      point (self->smoothed, lo), point (self->lr, lo));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->hover_text;
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, StudioLossPlot *self)
{
  studio_loss_plot_hover (self, x);
}

static void
on_leave (GtkEventControllerMotion *motion, StudioLossPlot *self)
{
  studio_loss_plot_hover (self, -1);
}

static void
on_drag_begin (GtkGestureDrag *drag, double x, double y, StudioLossPlot *self)
{
  self->drag_start = self->drag_now = x;
  self->dragging = TRUE;
}

static void
on_drag_update (GtkGestureDrag *drag, double dx, double dy, StudioLossPlot *self)
{
  self->drag_now = self->drag_start + dx;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_drag_end (GtkGestureDrag *drag, double dx, double dy, StudioLossPlot *self)
{
  self->dragging = FALSE;
  /* A drag across the plot zooms to the steps it covers; a click is no zoom. */
  if (fabs (dx) > 6)
    {
      double a = x_to_step (self, MIN (self->drag_start, self->drag_start + dx));
      double b = x_to_step (self, MAX (self->drag_start, self->drag_start + dx));
      studio_loss_plot_zoom (self, a, b);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_click (GtkGestureClick *click, int n_press, double x, double y, StudioLossPlot *self)
{
  if (n_press == 2)
    studio_loss_plot_reset_zoom (self);
}

static void
studio_loss_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                          int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 280;
}

static void
on_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (studio_loss_plot_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);
}

static void
studio_loss_plot_finalize (GObject *object)
{
  StudioLossPlot *self = STUDIO_LOSS_PLOT (object);

  g_array_unref (self->steps);
  g_array_unref (self->loss);
  g_array_unref (self->lr);
  g_array_unref (self->smoothed);
  g_free (self->raw_min);
  g_free (self->raw_max);
  g_free (self->smooth_min);
  g_free (self->smooth_max);
  g_free (self->lr_min);
  g_free (self->lr_max);
  g_free (self->hover_text);
  g_strfreev (self->loss_labels);
  g_strfreev (self->lr_labels);
  G_OBJECT_CLASS (studio_loss_plot_parent_class)->finalize (object);
}

static void
studio_loss_plot_class_init (StudioLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = studio_loss_plot_finalize;
  widget_class->snapshot = studio_loss_plot_snapshot;
  widget_class->measure = studio_loss_plot_measure;
  widget_class->css_changed = on_css_changed;
  gtk_widget_class_set_css_name (widget_class, "lossplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
studio_loss_plot_init (StudioLossPlot *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->margin_right = MARGIN_RIGHT;
  self->steps = g_array_new (FALSE, FALSE, sizeof (double));
  self->loss = g_array_new (FALSE, FALSE, sizeof (double));
  self->lr = g_array_new (FALSE, FALSE, sizeof (double));
  self->smoothed = g_array_new (FALSE, FALSE, sizeof (double));
  self->smoothing = 0.6;
  self->hover_x = -1;

  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (click, "pressed", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loss curve"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Training loss, smoothed loss and learning rate by step; drag to zoom, double-click to show all steps"),
                                  -1);
}

GtkWidget *
studio_loss_plot_new (void)
{
  return g_object_new (STUDIO_TYPE_LOSS_PLOT, NULL);
}
