/* test-plot-axis.c: the loss plot's axis labels tell grid lines apart and put whole
 * steps under the step axis, each once. */
#include "config.h"

#include <math.h>

#include "studio-plot-axis.h"

static void
assert_adjacent_differ (char **labels)
{
  for (guint i = 1; labels[i] != NULL; i++)
    g_assert_cmpstr (labels[i], !=, labels[i - 1]);
}

/* A cosine warm-down from 1e-4 to 9.9e-5 over two steps printed "1.0e-04" five times. */
static void
test_narrow_learning_rate_range (void)
{
  g_auto (GStrv) labels = studio_plot_value_labels (9.9e-5, 1e-4, 4, STUDIO_PLOT_LEARNING_RATE);

  g_assert_cmpuint (g_strv_length (labels), ==, 5);
  assert_adjacent_differ (labels);
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (labels[0], NULL), 1e-4, 1e-9);
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (labels[4], NULL), 9.9e-5, 1e-9);
}

/* A wide range keeps the short form. */
static void
test_usual_ranges_keep_short_labels (void)
{
  g_auto (GStrv) lr = studio_plot_value_labels (0, 1e-4, 4, STUDIO_PLOT_LEARNING_RATE);
  g_auto (GStrv) loss = studio_plot_value_labels (0.5, 1.5, 4, STUDIO_PLOT_LOSS);

  g_assert_cmpstr (lr[0], ==, "1.0e-04");
  g_assert_cmpstr (lr[1], ==, "7.5e-05");
  g_assert_cmpstr (lr[4], ==, "0");
  g_assert_cmpstr (loss[0], ==, "1.5");
  g_assert_cmpstr (loss[2], ==, "1");
  g_assert_cmpstr (loss[4], ==, "0.5");
}

static void
test_narrow_loss_range (void)
{
  g_auto (GStrv) labels = studio_plot_value_labels (1.10001, 1.10005, 4, STUDIO_PLOT_LOSS);

  assert_adjacent_differ (labels);
}

/* A flat line (constant learning rate) has one value on every line: the short form. */
static void
test_flat_range (void)
{
  g_auto (GStrv) labels = studio_plot_value_labels (2e-4, 2e-4, 4, STUDIO_PLOT_LEARNING_RATE);

  for (guint i = 0; labels[i] != NULL; i++)
    g_assert_cmpstr (labels[i], ==, "2.0e-04");
}

static void
test_few_steps_are_whole_and_distinct (void)
{
  double ticks[5];
  guint n = studio_plot_step_ticks (1, 2, 4, ticks);

  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat (ticks[0], ==, 1);
  g_assert_cmpfloat (ticks[1], ==, 2);

  n = studio_plot_step_ticks (1, 11, 4, ticks);
  g_assert_cmpuint (n, ==, 5);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpfloat (ticks[i], ==, round (ticks[i]));
      g_assert_cmpfloat (ticks[i], >=, 1);
      g_assert_cmpfloat (ticks[i], <=, 11);
      if (i > 0)
        g_assert_cmpfloat (ticks[i], >, ticks[i - 1]);
    }
}

/* A zoomed span between two steps has no whole step to label. */
static void
test_zoom_between_steps (void)
{
  double ticks[5];

  g_assert_cmpuint (studio_plot_step_ticks (3.2, 3.8, 4, ticks), ==, 0);
  g_assert_cmpuint (studio_plot_step_ticks (3.2, 4.8, 4, ticks), ==, 1);
  g_assert_cmpfloat (ticks[0], ==, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot-axis/narrow-learning-rate", test_narrow_learning_rate_range);
  g_test_add_func ("/plot-axis/usual-ranges", test_usual_ranges_keep_short_labels);
  g_test_add_func ("/plot-axis/narrow-loss", test_narrow_loss_range);
  g_test_add_func ("/plot-axis/flat", test_flat_range);
  g_test_add_func ("/plot-axis/few-steps", test_few_steps_are_whole_and_distinct);
  g_test_add_func ("/plot-axis/zoom-between-steps", test_zoom_between_steps);
  return g_test_run ();
}
