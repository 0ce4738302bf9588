/* studio-plot-axis.c: axis labels of the loss plot (see the header). */
#include "config.h"

#include <math.h>

#include "studio-plot-axis.h"

#define MIN_DIGITS 4   /* "%.4g" for losses, "%.1e" for learning rates */
#define MAX_EXTRA  4   /* past that, more digits no longer help: the range is flat */

static char *
format_value (double v, int digits, StudioPlotFormat format)
{
  if (format == STUDIO_PLOT_LEARNING_RATE)
    return v == 0 ? g_strdup ("0") : g_strdup_printf ("%.*e", digits - 3, v);
  if (v != 0 && (fabs (v) < 1e-3 || fabs (v) >= 1e5))
    return g_strdup_printf ("%.*e", digits - 3, v);
  return g_strdup_printf ("%.*g", digits, v);
}

static char **
labels_with (double v0, double v1, guint n_lines, int digits, StudioPlotFormat format)
{
  char **labels = g_new0 (char *, n_lines + 2);

  for (guint i = 0; i <= n_lines; i++)
    labels[i] = format_value (v1 - (v1 - v0) * i / MAX (n_lines, 1), digits, format);
  return labels;
}

static gboolean
adjacent_differ (char **labels)
{
  for (guint i = 1; labels[i] != NULL; i++)
    if (g_str_equal (labels[i], labels[i - 1]))
      return FALSE;
  return TRUE;
}

/* A warm-up from 1e-4 to 0.99e-4 printed "1.0e-04" on every line of the axis. */
char **
studio_plot_value_labels (double v0, double v1, guint n_lines, StudioPlotFormat format)
{
  for (int digits = MIN_DIGITS; digits <= MIN_DIGITS + MAX_EXTRA; digits++)
    {
      char **labels = labels_with (v0, v1, n_lines, digits, format);

      if (v0 == v1 || adjacent_differ (labels))
        return labels;
      g_strfreev (labels);
    }
  return labels_with (v0, v1, n_lines, MIN_DIGITS, format);
}

/* Over a range of a few steps the even divisions printed "1 1 2 2 2". */
guint
studio_plot_step_ticks (double x0, double x1, guint n_lines, double *steps)
{
  double lo = ceil (x0 - 1e-9), hi = floor (x1 + 1e-9);
  guint n = 0;

  if (lo > hi)
    return 0;
  for (guint i = 0; i <= n_lines; i++)
    {
      double v = CLAMP (round (x0 + (x1 - x0) * i / MAX (n_lines, 1)), lo, hi);

      if (n == 0 || v != steps[n - 1])
        steps[n++] = v;
    }
  return n;
}
