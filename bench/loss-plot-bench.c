/* loss-plot-bench.c: how long StudioLossPlot takes to draw 100,000 steps (bench/README.md,
 * "Loss plot"). Run under a display (xvfb-run); prints milliseconds per frame for:
 *   - snapshot, cached: a frame with no new data (the per-column cache is reused);
 *   - snapshot, live: one new step appended before each frame (the cache is rebuilt:
 *     three decimations of 100,000 points into pixel columns);
 *   - smoothing change: the slider moved (EMA over all points, then the rebuild);
 *   - render: the recorded frame rasterised by GSK's cairo renderer (what Xvfb uses).
 * Usage: loss-plot-bench [POINTS] [WIDTH] [HEIGHT]. */
#include "config.h"

#include <adwaita.h>
#include <stdlib.h>

#include "studio-loss-plot.h"
#include "studio-resources.h"

#define ROUNDS 50

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static GskRenderNode *
snapshot_plot (GtkWidget *plot)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  /* The widget's own snapshot(), as a frame calls it. */
  GTK_WIDGET_GET_CLASS (plot)->snapshot (plot, snapshot);
  return gtk_snapshot_free_to_node (snapshot);
}

static void
iterate (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 100000;
  int width = argc > 2 ? atoi (argv[2]) : 900;
  int height = argc > 3 ? atoi (argv[3]) : 400;
  GtkWindow *window;
  GtkWidget *plot;
  GskRenderer *renderer;
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  double t0, cached = 0, live = 0, smooth = 0, render = 0;

  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  (void) studio_get_resource ();
  adw_init ();
  window = GTK_WINDOW (gtk_window_new ());
  plot = studio_loss_plot_new ();
  gtk_window_set_default_size (window, width, height);
  gtk_window_set_child (window, plot);
  gtk_window_present (window);
  iterate (500);

  for (guint i = 1; i <= n; i++)
    studio_loss_plot_append (STUDIO_LOSS_PLOT (plot), i,
                             0.3 / (1 + i * 2e-5) + g_rand_double_range (rand, 0, 0.05),
                             1e-4 * (1 - (double) i / (n + 1)));
  gsk_render_node_unref (snapshot_plot (plot));   /* warm the cache and the fonts */

  for (int r = 0; r < ROUNDS; r++)
    {
      GskRenderNode *node;
      g_autoptr (GdkTexture) texture = NULL;

      t0 = now_ms ();
      node = snapshot_plot (plot);
      cached += now_ms () - t0;

      renderer = gtk_native_get_renderer (gtk_widget_get_native (plot));
      t0 = now_ms ();
      texture = gsk_renderer_render_texture (renderer, node,
                                             &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (plot),
                                                                  gtk_widget_get_height (plot)));
      render += now_ms () - t0;
      gsk_render_node_unref (node);

      studio_loss_plot_append (STUDIO_LOSS_PLOT (plot), n + r + 1, 0.25, 1e-6);
      t0 = now_ms ();
      gsk_render_node_unref (snapshot_plot (plot));
      live += now_ms () - t0;

      t0 = now_ms ();
      studio_loss_plot_set_smoothing (STUDIO_LOSS_PLOT (plot), r % 2 ? 0.6 : 0.61);
      gsk_render_node_unref (snapshot_plot (plot));
      smooth += now_ms () - t0;
    }

  g_print ("loss plot, %u points, %dx%d widget, %u cache builds, mean of %d frames:\n",
           studio_loss_plot_get_n_points (STUDIO_LOSS_PLOT (plot)), gtk_widget_get_width (plot),
           gtk_widget_get_height (plot), studio_loss_plot_get_cache_builds (STUDIO_LOSS_PLOT (plot)),
           ROUNDS);
  g_print ("  snapshot, cached          %8.3f ms\n", cached / ROUNDS);
  g_print ("  snapshot, live (+1 step)  %8.3f ms\n", live / ROUNDS);
  g_print ("  smoothing change          %8.3f ms\n", smooth / ROUNDS);
  g_print ("  render (cairo)            %8.3f ms\n", render / ROUNDS);
  gtk_window_destroy (window);
  return 0;
}
