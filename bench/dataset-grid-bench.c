/* dataset-grid-bench.c: how the Dataset view holds up with thousands of large images.
 *
 *   dataset-grid-bench generate DIR [N]   writes N (default 10000) distinct 1024x1024
 *                                         JPEGs into DIR, on every core
 *   dataset-grid-bench run DIR [--verbose] [--undecorated]
 *                                         opens DIR as a project in a real window (with
 *                                         --undecorated: without its client-side
 *                                         decoration and shadow) and prints, as
 *                                         key=value lines:
 *     first_screen_ms  set_project -> every visible cell shows its thumbnail
 *     scroll_*         the whole grid scrolled top to bottom, half a page per frame:
 *                      max_block_ms is the longest gap between two runs of a 1 ms
 *                      high-priority timeout (how long the main loop was busy),
 *                      max_frame_ms the longest gap between two frame-clock ticks,
 *                      blocks_over_16ms how many gaps were longer than a 16 ms frame
 *                      (_cpu: by main-thread CPU time), main_cpu_ms the main thread's
 *                      CPU time for the whole scroll (and per frame)
 *     scroll_phase_*   main-thread CPU per frame in the frame clock's update (the scroll
 *                      and the grid rebinding cells), layout and paint (snapshot and
 *                      the renderer) phases: mean and worst frame
 *     load_process_cpu_ms  CPU time of all threads while the folder loads (the
 *                      scan runs in a worker); scroll_process_cpu_ms the same while
 *                      scrolling (the thumbnail workers' share beside the main thread)
 *     *_cpu_ms         the same spans in the main thread's CPU time
 *                      (CLOCK_THREAD_CPUTIME_ID): on a loaded machine a wall-clock gap
 *                      may be waiting for a core, the CPU time is the loop's own work
 *     grid_cells, grid_columns  cells the grid keeps alive, columns it shows
 *     vmrss_mb, vmhwm_mb  resident memory now and at its peak (/proc/self/status)
 *
 * Run it twice: the first run decodes and fills the thumbnail cache (cold), the second
 * starts with an empty memory but a warm disk cache, the case the issue measures.
 * Needs a display (xvfb-run works). See bench/README.md for the numbers. */
#include "config.h"

#include <adwaita.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "studio-dataset-cell.h"
#include "studio-dataset-view.h"
#include "studio-resources.h"
#include "studio-project.h"

/* generate */

typedef struct {
  const char *dir;
  guint       first, last;
} Slice;

static gpointer
generate_slice (gpointer data)
{
  Slice *slice = data;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 1024, 1024);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (guint i = slice->first; i < slice->last; i++)
    {
      g_autofree char *name = g_strdup_printf ("img-%05u.jpg", i);
      g_autofree char *path = g_build_filename (slice->dir, name, NULL);
      GError *error = NULL;

      /* A gradient and a block whose colour and place depend on I: every file differs,
       * so none is a duplicate, and JPEG has real work to do. */
      for (int y = 0; y < 1024; y++)
        for (int x = 0; x < 1024; x++)
          {
            guint8 *p = pixels + y * stride + x * 3;
            gboolean block = ABS (x - (int) (i * 37 % 900) - 60) < 60 && ABS (y - (int) (i * 53 % 900) - 60) < 60;
            p[0] = block ? 255 - (i & 0xff) : (guint8) (x / 4 + i);
            p[1] = block ? (i * 7) & 0xff : (guint8) (y / 4);
            p[2] = (guint8) ((x + y) / 8 + i * 3);
          }
      if (!gdk_pixbuf_save (pixbuf, path, "jpeg", &error, "quality", "85", NULL))
        {
          g_printerr ("%s: %s\n", path, error->message);
          g_error_free (error);
        }
    }
  return NULL;
}

static int
generate (const char *dir, guint n)
{
  guint n_threads = g_get_num_processors ();
  g_autofree GThread **threads = g_new0 (GThread *, n_threads);
  g_autofree Slice *slices = g_new0 (Slice, n_threads);
  gint64 start = g_get_monotonic_time ();

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_printerr ("Cannot create %s\n", dir);
      return 1;
    }
  for (guint t = 0; t < n_threads; t++)
    {
      slices[t].dir = dir;
      slices[t].first = n * t / n_threads;
      slices[t].last = n * (t + 1) / n_threads;
      threads[t] = g_thread_new ("generate", generate_slice, &slices[t]);
    }
  for (guint t = 0; t < n_threads; t++)
    g_thread_join (threads[t]);
  printf ("generated=%u seconds=%.1f\n", n, (g_get_monotonic_time () - start) / 1e6);
  return 0;
}

/* run */

static gint64 last_probe, max_block, probe_origin;
static gint64 last_probe_cpu, max_block_cpu;
static guint n_blocks_over, n_blocks_over_cpu;   /* gaps over one 16 ms frame */
static gboolean verbose, undecorated;
static gint64 last_tick, max_frame;
static gboolean scrolling_done;
static guint n_frames, n_compute_size;

/* Where a frame's main-thread CPU goes: the clock's phases, each measured from the end
 * of the one before (our handlers run after GTK's, connected later). */
enum { PHASE_UPDATE, PHASE_LAYOUT, PHASE_PAINT, N_PHASES };
static const char *const phase_names[N_PHASES] = { "update", "layout", "paint" };
static gint64 phase_mark, phase_sum[N_PHASES], phase_max[N_PHASES];
static guint n_phase_frames;
static gboolean measuring_phases;
static gint64 phase_since_probe[N_PHASES];   /* phase CPU since the probe last ran */

/* GdkToplevel::compute-size: GTK 4.8 on X11 asks it (a whole-window measure and X
 * round trips for the monitor's work area) whenever a resize reaches the window. */
static void
count_compute_size (GdkToplevel *toplevel, GdkToplevelSize *size, gpointer data)
{
  n_compute_size++;
}

/* The main thread's own CPU time, in microseconds: on a loaded machine a wall-clock
 * gap may be time spent waiting for a core, CPU time is what the loop really did. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* All threads' CPU time (the folder scan runs in a worker), in microseconds. */
static gint64
process_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
phase_start (GdkFrameClock *clock, gpointer data)
{
  phase_mark = thread_cpu_us ();
}

static void
phase_end (GdkFrameClock *clock, gpointer data)
{
  int phase = GPOINTER_TO_INT (data);
  gint64 now = thread_cpu_us ();

  if (measuring_phases && phase_mark != 0)
    {
      phase_sum[phase] += now - phase_mark;
      phase_since_probe[phase] += now - phase_mark;
      phase_max[phase] = MAX (phase_max[phase], now - phase_mark);
      if (phase == PHASE_PAINT)
        n_phase_frames++;
    }
  phase_mark = now;
}

static void
watch_phases (GdkFrameClock *clock)
{
  g_signal_connect (clock, "before-paint", G_CALLBACK (phase_start), NULL);
  g_signal_connect (clock, "update", G_CALLBACK (phase_end), GINT_TO_POINTER (PHASE_UPDATE));
  g_signal_connect (clock, "layout", G_CALLBACK (phase_end), GINT_TO_POINTER (PHASE_LAYOUT));
  g_signal_connect (clock, "paint", G_CALLBACK (phase_end), GINT_TO_POINTER (PHASE_PAINT));
}

static void
print_phases (void)
{
  for (int p = 0; p < N_PHASES; p++)
    printf ("scroll_phase_%s_cpu_ms=%.2f max=%.2f\n", phase_names[p],
            phase_sum[p] / 1e3 / MAX (n_phase_frames, 1), phase_max[p] / 1e3);
}

static gboolean
probe (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  gint64 cpu = thread_cpu_us ();

  if (last_probe != 0 && now - last_probe > max_block)
    max_block = now - last_probe;
  if (last_probe != 0 && cpu - last_probe_cpu > max_block_cpu)
    max_block_cpu = cpu - last_probe_cpu;
  if (last_probe != 0 && now - last_probe > 16000)
    n_blocks_over++;
  if (last_probe != 0 && cpu - last_probe_cpu > 16000)
    n_blocks_over_cpu++;
  /* --verbose: every block over one frame (or over 12 ms of CPU), to find its cause,
   * with the frame phases' CPU inside it; the rest is other sources (thumbnails
   * arriving, the folder monitor) and the main loop itself. */
  if (verbose && last_probe != 0 && (now - last_probe > 16000 || cpu - last_probe_cpu > 12000))
    fprintf (stderr, "block %.1f ms (cpu %.1f ms: update %.1f, layout %.1f, paint %.1f) ending at %.0f ms\n",
             (now - last_probe) / 1e3, (cpu - last_probe_cpu) / 1e3, phase_since_probe[PHASE_UPDATE] / 1e3,
             phase_since_probe[PHASE_LAYOUT] / 1e3, phase_since_probe[PHASE_PAINT] / 1e3,
             (now - probe_origin) / 1e3);
  memset (phase_since_probe, 0, sizeof phase_since_probe);
  last_probe = now;
  last_probe_cpu = cpu;
  return G_SOURCE_CONTINUE;
}

static gboolean
scroll_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  GtkAdjustment *adjustment = data;
  gint64 now = g_get_monotonic_time ();
  double value = gtk_adjustment_get_value (adjustment);
  double page = gtk_adjustment_get_page_size (adjustment);
  double upper = gtk_adjustment_get_upper (adjustment);

  if (last_tick != 0 && now - last_tick > max_frame)
    max_frame = now - last_tick;
  last_tick = now;
  n_frames++;
  /* The grid sizes itself over the first frames: done only once it is taller than
   * the window and its end is on screen. */
  if (upper > page * 2 && value + page >= upper - 1)
    {
      scrolling_done = TRUE;
      return G_SOURCE_REMOVE;
    }
  gtk_adjustment_set_value (adjustment, MIN (value + page / 2, upper - page));
  return G_SOURCE_CONTINUE;
}

/* Every cell on screen shows its thumbnail. */
static gboolean
screen_full (GtkWidget *grid)
{
  guint cells = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (grid); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *cell = gtk_widget_get_first_child (c);
      graphene_rect_t bounds;

      if (!STUDIO_IS_DATASET_CELL (cell) || !gtk_widget_get_mapped (c))
        continue;
      /* Only cells inside the visible part of the grid count; a cell not yet laid out
       * (a few pixels at the origin) is not on screen either. */
      if (!gtk_widget_compute_bounds (c, grid, &bounds) || bounds.origin.y + bounds.size.height <= 0 ||
          bounds.origin.y >= gtk_widget_get_height (grid) || bounds.size.width < 32)
        continue;
      cells++;
      if (studio_dataset_cell_get_paintable (STUDIO_DATASET_CELL (cell)) == NULL)
        return FALSE;
    }
  return cells > 0;
}

/* The cells the grid keeps alive, and the columns it shows (distinct x positions: the
 * grid's children are not in screen order). */
static void
print_cells (GtkWidget *grid)
{
  guint cells = 0, columns = 0;
  float xs[64];

  for (GtkWidget *c = gtk_widget_get_first_child (grid); c; c = gtk_widget_get_next_sibling (c))
    {
      graphene_rect_t bounds;
      guint i;

      cells++;
      if (!gtk_widget_compute_bounds (c, grid, &bounds) || bounds.size.width < 32)
        continue;
      for (i = 0; i < columns && xs[i] != bounds.origin.x; i++)
        ;
      if (i == columns && columns < G_N_ELEMENTS (xs))
        xs[columns++] = bounds.origin.x;
    }
  printf ("grid_cells=%u\ngrid_columns=%u\n", cells, columns);
}

static void
iterate (void)
{
  g_main_context_iteration (NULL, TRUE);
}

static void
print_memory (void)
{
  g_autofree char *status = NULL;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return;
  for (char *line = strtok (status, "\n"); line; line = strtok (NULL, "\n"))
    {
      long kb;
      if (sscanf (line, "VmRSS: %ld", &kb) == 1)
        printf ("vmrss_mb=%.0f\n", kb / 1024.0);
      if (sscanf (line, "VmHWM: %ld", &kb) == 1)
        printf ("vmhwm_mb=%.0f\n", kb / 1024.0);
    }
}

/* Drawing alone, as the cairo renderer does it in a frame: main-thread CPU per
 * offscreen render of WIDGET's last screen, without the compositor or the scheduler in
 * the number, so that a change to how cells draw can be compared on a busy machine,
 * and the grid's share of a whole-window frame seen. */
static void
print_render_cost (const char *what, GtkWidget *widget)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderer) renderer = gsk_cairo_renderer_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GError) error = NULL;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  const int n_renders = 100;
  gint64 start;

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), gtk_widget_get_width (widget),
                          gtk_widget_get_height (widget));
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL || !gsk_renderer_realize (renderer, NULL, &error))
    return;
  start = thread_cpu_us ();
  for (int i = 0; i < n_renders; i++)
    g_object_unref (gsk_renderer_render_texture (renderer, node, NULL));
  printf ("%s_render_cpu_ms=%.2f\n", what, (thread_cpu_us () - start) / 1e3 / n_renders);
  gsk_renderer_unrealize (renderer);
}

static int
run (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *abs = g_canonicalize_filename (dir, NULL);
  g_autofree char *project_dir = g_strconcat (abs, "-project", NULL);
  g_autofree char *config = g_build_filename (project_dir, "config.yaml", NULL);
  g_autoptr (StudioProject) project = NULL;
  GtkWidget *window, *view, *grid, *scroller;
  GtkAdjustment *adjustment;
  gint64 start, start_cpu, start_process_cpu;
  guint n_items;

  adw_init ();
  /* Referencing the resource links it in; it registers itself. */
  (void) studio_get_resource ();
  project = g_file_test (config, G_FILE_TEST_EXISTS)
              ? studio_project_open (project_dir, &error)
              : studio_project_create (project_dir, STUDIO_TASK_IMAGE_LORA, abs, &error);
  if (project == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  window = gtk_window_new ();
  view = g_object_new (STUDIO_TYPE_DATASET_VIEW, NULL);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  /* Without the client-side decoration's shadow, which GTK 4.8's cairo renderer
   * draws again under every damaged region (see bench/README.md). */
  if (undecorated)
    gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (window))
    iterate ();
  /* One-time start-up (settings portal lookups, fonts, the first frames) is not the
   * project opening: let it pass before measuring. */
  {
    gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;
    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE);
  }

  grid = GTK_WIDGET (gtk_widget_get_template_child (view, STUDIO_TYPE_DATASET_VIEW, "grid"));
  g_assert (grid != NULL);
  scroller = gtk_widget_get_parent (grid);
  g_assert (GTK_IS_SCROLLED_WINDOW (scroller));
  g_timeout_add_full (G_PRIORITY_HIGH, 1, probe, NULL, NULL);

  start = probe_origin = g_get_monotonic_time ();
  start_cpu = thread_cpu_us ();
  start_process_cpu = process_cpu_us ();
  studio_dataset_view_set_project (STUDIO_DATASET_VIEW (view), project);
  while (studio_dataset_view_get_loading (STUDIO_DATASET_VIEW (view)))
    iterate ();
  printf ("load_ms=%.0f\n", (g_get_monotonic_time () - start) / 1e3);
  printf ("load_process_cpu_ms=%.0f\n", (process_cpu_us () - start_process_cpu) / 1e3);
  while (!screen_full (grid))
    iterate ();
  printf ("first_screen_ms=%.0f\n", (g_get_monotonic_time () - start) / 1e3);
  printf ("first_screen_main_cpu_ms=%.0f\n", (thread_cpu_us () - start_cpu) / 1e3);
  n_items = g_list_model_get_n_items (studio_dataset_view_get_visible (STUDIO_DATASET_VIEW (view)));
  printf ("images=%u\n", n_items);
  print_cells (grid);
  printf ("load_max_block_ms=%.1f\n", max_block / 1e3);
  printf ("load_max_block_cpu_ms=%.1f\n", max_block_cpu / 1e3);

  max_block = max_block_cpu = 0;
  n_blocks_over = n_blocks_over_cpu = 0;
  last_probe = 0;
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
  start = g_get_monotonic_time ();
  start_cpu = thread_cpu_us ();
  start_process_cpu = process_cpu_us ();
  g_signal_connect (gtk_native_get_surface (GTK_NATIVE (window)), "compute-size",
                    G_CALLBACK (count_compute_size), NULL);
  gtk_widget_add_tick_callback (grid, scroll_tick, adjustment, NULL);
  watch_phases (gtk_widget_get_frame_clock (window));
  measuring_phases = TRUE;
  while (!scrolling_done)
    iterate ();
  measuring_phases = FALSE;
  printf ("scroll_seconds=%.1f\n", (g_get_monotonic_time () - start) / 1e6);
  printf ("scroll_max_block_ms=%.1f\n", max_block / 1e3);
  printf ("scroll_max_block_cpu_ms=%.1f\n", max_block_cpu / 1e3);
  printf ("scroll_max_frame_ms=%.1f\n", max_frame / 1e3);
  printf ("scroll_frames=%u scroll_window_resizes=%u\n", n_frames, n_compute_size);
  printf ("scroll_main_cpu_ms=%.0f scroll_main_cpu_per_frame_ms=%.2f\n", (thread_cpu_us () - start_cpu) / 1e3,
          (thread_cpu_us () - start_cpu) / 1e3 / MAX (n_frames, 1));
  printf ("scroll_blocks_over_16ms=%u scroll_blocks_over_16ms_cpu=%u\n", n_blocks_over, n_blocks_over_cpu);
  printf ("scroll_process_cpu_ms=%.0f\n", (process_cpu_us () - start_process_cpu) / 1e3);
  print_phases ();
  /* Let the last screen's thumbnails arrive, then measure memory. */
  start = g_get_monotonic_time ();
  while (!screen_full (grid))
    iterate ();
  printf ("last_screen_ms=%.0f\n", (g_get_monotonic_time () - start) / 1e3);
  print_cells (grid);
  print_memory ();
  print_render_cost ("grid", grid);
  print_render_cost ("window", window);
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}

int
main (int argc, char **argv)
{
  /* Lines come out as they are measured, even into a pipe. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc >= 3 && g_str_equal (argv[1], "generate"))
    return generate (argv[2], argc >= 4 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : 10000);
  if (argc >= 3 && g_str_equal (argv[1], "run"))
    {
      gtk_init ();
      for (int i = 3; i < argc; i++)
        {
          verbose |= g_str_equal (argv[i], "--verbose");
          undecorated |= g_str_equal (argv[i], "--undecorated");
        }
      return run (argv[2]);
    }
  g_printerr ("usage: %s generate DIR [N] | run DIR [--verbose] [--undecorated]\n", argv[0]);
  return 2;
}
