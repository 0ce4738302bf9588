/* test-dataset-grid-cells.c: the Dataset grid's cells, under Xvfb.
 *
 * fit-width: GTK 4.8's GtkGridView builds, binds and allocates max-columns × 30 rows of
 * cells whatever fits on screen; the view bounds max-columns by its width over the
 * thumbnail size. This opens 1,000 images in a real StudioDatasetView and checks, at
 * three zoom levels, that every column that fits is shown and that the grid keeps no
 * more cells than those columns need (with the grid's 24 it kept all 1,000).
 *
 * cell-shows-item: a StudioDatasetCell shows an image's name, size and badges, and its size
 * depends only on the thumbnail size: binding it to another image or a caption change
 * must not make the window lay itself out again (each layout costs GTK 4.8 on X11 a
 * window size computation with X server round trips, every scrolled frame).
 *
 * cell-draws: what a cell asks the renderer to draw. An opaque thumbnail filling the card
 * needs no card and no rounded outline under it (the software renderer rasterises those
 * paths for every cell on every scrolled frame); a transparent or letterboxed one shows
 * the card, so keeps them. Thumbnails sit on whole pixels, so they are copied, not
 * filtered.
 *
 * screenshots: cells with and without badges, light and dark, written to
 * STUDIO_ARTIFACTS_DIR to be looked at. */
#include "config.h"

#include <adwaita.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>
#include <math.h>

#include "studio-dataset-cell.h"
#include "studio-dataset-view.h"
#include "studio-project.h"
#include "studio-resources.h"

#include "gui-test-util.h"

static char *home;

static gboolean
loaded (gpointer data)
{
  return !studio_dataset_view_get_loading (data) && studio_dataset_view_get_dataset (data) != NULL;
}

/* The grid's width is known after its first layout; the limit follows in the frame
 * after. */
static gboolean
limit_fits (gpointer data)
{
  GtkWidget *view = data;
  GtkWidget *grid = gui_test_child (view, "grid");
  int width = gtk_widget_get_width (grid);
  int size = studio_dataset_view_get_thumbnail_size (STUDIO_DATASET_VIEW (view));

  return width > 0 && gtk_grid_view_get_max_columns (GTK_GRID_VIEW (grid)) <= (guint) MAX (1, width / size);
}

/* Columns at the distinct x positions of laid-out cells (the grid's children are not in
 * screen order), the cells the grid keeps, and a cell's minimum width. */
static guint
grid_columns (GtkWidget *grid, guint *n_cells, int *cell_min_width)
{
  guint columns = 0;
  float xs[64];

  *n_cells = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (grid); c; c = gtk_widget_get_next_sibling (c))
    {
      graphene_rect_t bounds;
      guint i;

      if (gtk_widget_get_first_child (c) == NULL)   /* not a list item holding a cell */
        continue;
      (*n_cells)++;
      if (!gtk_widget_compute_bounds (c, grid, &bounds) || bounds.size.width < 32)
        continue;
      gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, cell_min_width, NULL, NULL, NULL);
      for (i = 0; i < columns && xs[i] != bounds.origin.x; i++)
        ;
      if (i == columns && columns < G_N_ELEMENTS (xs))
        xs[columns++] = bounds.origin.x;
    }
  return columns;
}

static void
test_cells_fit_width (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *project_dir = g_build_filename (home, "many-project", NULL);
  g_autofree char *src = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset",
                                           "shape-01-red-circle.png", NULL);
  g_autofree char *data = NULL;
  g_autoptr (StudioProject) project = NULL;
  GtkWidget *window, *view, *grid;
  gsize len;

  project = studio_project_create (project_dir, STUDIO_TASK_IMAGE_LORA, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *name = g_strdup_printf ("copy-%04u.png", i);
      g_autofree char *dest = g_build_filename (studio_project_get_dataset_dir (project), name, NULL);
      g_assert_true (g_file_set_contents (dest, data, len, NULL));
    }

  window = gtk_window_new ();
  view = g_object_new (STUDIO_TYPE_DATASET_VIEW, NULL);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, window, 5000));
  studio_dataset_view_set_project (STUDIO_DATASET_VIEW (view), project);
  g_assert_true (gui_test_wait_until (loaded, view, 15000));
  grid = gui_test_child (view, "grid");

  for (int step = 0; step < 3; step++)
    {
      int width, size = studio_dataset_view_get_thumbnail_size (STUDIO_DATASET_VIEW (view));
      int min_width = 0;
      guint n_cells, columns, max_columns;

      gui_test_wait_until (limit_fits, view, 10000);
      gui_test_settle (300);   /* the layout with that limit */
      width = gtk_widget_get_width (grid);
      max_columns = gtk_grid_view_get_max_columns (GTK_GRID_VIEW (grid));
      columns = grid_columns (grid, &n_cells, &min_width);
      g_test_message ("thumbnails %d: grid %d wide, %u columns, max-columns %u, %u cells, "
                      "cell at least %d wide", size, width, columns, max_columns, n_cells, min_width);
      g_assert_cmpint (min_width, >, 0);
      g_assert_cmpuint (columns, >=, 2);
      /* Every column that fits is shown... */
      g_assert_cmpint ((int) (columns + 1) * min_width, >, width);
      /* ...the limit is what the width allows... */
      g_assert_cmpuint (max_columns, <=, MAX (1, width / size));
      /* ...and the cells are the grid's 30 rows (plus a few) of those columns. */
      g_assert_cmpuint (n_cells, <=, max_columns * 33);
      /* Smaller thumbnails next: more columns. */
      gtk_widget_activate_action (view, "dataset.zoom-out", NULL);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}


/* Cells */

static StudioDatasetItem *
make_item (const char *name, int width, int height, const char *caption, StudioItemFlags flags)
{
  g_autofree char *path = g_build_filename (home, "missing", name, NULL);
  StudioDatasetItem *item = _studio_dataset_item_new (path, name);
  StudioImageInfo info = { STUDIO_IMAGE_FORMAT_PNG, width, height };

  _studio_dataset_item_set_info (item, &info);
  _studio_dataset_item_set_caption (item, caption);
  if (flags != 0)
    _studio_dataset_item_add_flags (item, flags);
  return item;
}

static void
measure_cell (GtkWidget *cell, int *width, int *height)
{
  int min, nat;

  gtk_widget_measure (cell, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
  g_assert_cmpint (min, ==, nat);
  *width = nat;
  gtk_widget_measure (cell, GTK_ORIENTATION_VERTICAL, *width, &min, &nat, NULL, NULL);
  g_assert_cmpint (min, ==, nat);
  *height = nat;
}

static gboolean
thumbnail_done (gpointer data)
{
  return studio_dataset_cell_has_thumbnail (data);
}

static void
count_layout (GdkSurface *surface, int width, int height, gpointer data)
{
  (*(guint *) data)++;
}

static void
test_cell_shows_item (void)
{
  g_autofree char *cache = g_build_filename (home, "cell-cache", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (StudioDatasetItem) plain = make_item ("a.png", 1024, 768, "a cat", 0);
  g_autoptr (StudioDatasetItem) small = make_item ("a-much-longer-file-name-that-never-fits-in-a-cell.png",
                                                   300, 200, NULL, 0);
  g_autoptr (StudioDatasetItem) broken = make_item ("broken.png", 0, 0, "text", STUDIO_ITEM_UNREADABLE);
  g_autofree char *pixels = g_strdup_printf (_("%d × %d"), 1024, 768);
  g_autofree char *small_pixels = g_strdup_printf (_("%d × %d"), 300, 200);
  g_autofree char *small_description = g_strdup_printf ("%s, %s, %s", small_pixels, _("No caption"),
                                                        _("Small"));
  GtkWidget *window = gtk_window_new (), *cell = studio_dataset_cell_new ();
  StudioDatasetCell *c = STUDIO_DATASET_CELL (cell);
  GdkSurface *surface;
  int width, height, w, h;
  guint layouts = 0;
  char *error;

  gtk_window_set_child (GTK_WINDOW (window), cell);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, window, 5000));

  studio_dataset_cell_bind (c, plain, loader, 160, 512);
  g_assert_cmpstr (studio_dataset_cell_get_name (c), ==, "a.png");
  g_assert_cmpstr (studio_dataset_cell_get_pixels (c), ==, pixels);
  g_assert_cmpint (studio_dataset_cell_get_badges (c), ==, 0);
  /* The accessible label is the name, the description the size and the warnings. */
  error = gtk_test_accessible_check_property (GTK_ACCESSIBLE (cell), GTK_ACCESSIBLE_PROPERTY_LABEL, "a.png");
  g_assert_null (error);
  error = gtk_test_accessible_check_property (GTK_ACCESSIBLE (cell), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, pixels);
  g_assert_null (error);
  /* The image file is missing: the cell still ends its wait, without a picture. */
  g_assert_true (gui_test_wait_until (thumbnail_done, cell, 5000));
  g_assert_null (studio_dataset_cell_get_paintable (c));
  measure_cell (cell, &width, &height);
  /* The thumbnail, the margins and two lines of text. */
  g_assert_cmpint (width, ==, 160 + 12);
  g_assert_cmpint (height, >, 160 + 12 + 2 * 8);
  gui_test_settle (300);

  /* From here on nothing may ask the window for a new layout. */
  surface = gtk_native_get_surface (GTK_NATIVE (window));
  g_signal_connect (surface, "layout", G_CALLBACK (count_layout), &layouts);

  studio_dataset_cell_bind (c, small, loader, 160, 512);
  g_assert_cmpstr (studio_dataset_cell_get_name (c), ==, studio_dataset_item_get_name (small));
  g_assert_cmpint (studio_dataset_cell_get_badges (c), ==,
                   STUDIO_DATASET_CELL_BADGE_NO_CAPTION | STUDIO_DATASET_CELL_BADGE_SMALL);
  error = gtk_test_accessible_check_property (GTK_ACCESSIBLE (cell), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                              small_description);
  g_assert_null (error);
  measure_cell (cell, &w, &h);
  g_assert_cmpint (w, ==, width);
  g_assert_cmpint (h, ==, height);
  gui_test_wait_until (thumbnail_done, cell, 5000);

  studio_dataset_cell_bind (c, broken, loader, 160, 512);
  g_assert_cmpint (studio_dataset_cell_get_badges (c), ==, STUDIO_DATASET_CELL_BADGE_UNREADABLE);
  g_assert_cmpstr (studio_dataset_cell_get_pixels (c), ==, _("unreadable"));
  g_assert_true (studio_dataset_cell_has_thumbnail (c));
  measure_cell (cell, &w, &h);
  g_assert_cmpint (w, ==, width);
  g_assert_cmpint (h, ==, height);

  /* A caption written in the editor removes the badge, still without a resize. */
  studio_dataset_cell_bind (c, small, loader, 160, 0);
  g_assert_cmpint (studio_dataset_cell_get_badges (c), ==, STUDIO_DATASET_CELL_BADGE_NO_CAPTION);
  _studio_dataset_item_set_caption (small, "a dog");
  g_assert_cmpint (studio_dataset_cell_get_badges (c), ==, 0);
  gui_test_settle (300);
  g_assert_cmpuint (layouts, ==, 0);

  /* The counter does see a resize: a new thumbnail size is one. */
  studio_dataset_cell_bind (c, plain, loader, 96, 512);
  measure_cell (cell, &w, &h);
  g_assert_cmpint (w, ==, 96 + 12);
  g_assert_cmpint (h, ==, height - 64);
  gui_test_settle (300);
  g_assert_cmpuint (layouts, >, 0);

  /* A bigger font (a text scale, another theme) is the other thing that resizes it. */
  {
    g_autoptr (GtkCssProvider) provider = gtk_css_provider_new ();
    int big_w, big_h;

    gtk_css_provider_load_from_data (provider, "dataset-cell.big { font-size: 30pt; }", -1);
    gtk_style_context_add_provider_for_display (gtk_widget_get_display (cell), GTK_STYLE_PROVIDER (provider),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    gtk_widget_add_css_class (cell, "big");
    gui_test_settle (100);
    measure_cell (cell, &big_w, &big_h);
    g_assert_cmpint (big_w, ==, w);
    g_assert_cmpint (big_h, >, h + 2 * 20);
    gtk_widget_remove_css_class (cell, "big");
    gtk_style_context_remove_provider_for_display (gtk_widget_get_display (cell), GTK_STYLE_PROVIDER (provider));
    gui_test_settle (100);
    measure_cell (cell, &big_w, &big_h);
    g_assert_cmpint (big_h, ==, h);
  }

  studio_dataset_cell_unbind (c);
  g_assert_null (studio_dataset_cell_get_name (c));
  g_assert_cmpint (studio_dataset_cell_get_badges (c), ==, 0);
  g_signal_handlers_disconnect_by_func (surface, count_layout, &layouts);
  gtk_window_destroy (GTK_WINDOW (window));
}

typedef struct {
  guint shadows, rounded_clips, textures;
  gboolean textures_on_whole_pixels;
} DrawCounts;

/* Walks a cell's render nodes, TX/TY the offset the transforms above add. */
static void
count_nodes (GskRenderNode *node, float tx, float ty, DrawCounts *counts)
{
  switch (gsk_render_node_get_node_type (node))
    {
    case GSK_CONTAINER_NODE:
      for (guint i = 0; i < gsk_container_node_get_n_children (node); i++)
        count_nodes (gsk_container_node_get_child (node, i), tx, ty, counts);
      break;
    case GSK_TRANSFORM_NODE:
      {
        float dx = 0, dy = 0;
        gsk_transform_to_translate (gsk_transform_node_get_transform (node), &dx, &dy);
        count_nodes (gsk_transform_node_get_child (node), tx + dx, ty + dy, counts);
      }
      break;
    case GSK_CLIP_NODE:
      count_nodes (gsk_clip_node_get_child (node), tx, ty, counts);
      break;
    case GSK_DEBUG_NODE:
      count_nodes (gsk_debug_node_get_child (node), tx, ty, counts);
      break;
    case GSK_ROUNDED_CLIP_NODE:
      counts->rounded_clips++;
      count_nodes (gsk_rounded_clip_node_get_child (node), tx, ty, counts);
      break;
    case GSK_OUTSET_SHADOW_NODE:
      counts->shadows++;
      break;
    case GSK_TEXTURE_NODE:
      {
        graphene_rect_t bounds;
        gsk_render_node_get_bounds (node, &bounds);
        counts->textures++;
        if (bounds.origin.x + tx != floorf (bounds.origin.x + tx) ||
            bounds.origin.y + ty != floorf (bounds.origin.y + ty))
          counts->textures_on_whole_pixels = FALSE;
      }
      break;
    default:
      break;
    }
}

static DrawCounts
cell_draw_counts (GtkWidget *cell)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (cell);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  DrawCounts counts = { 0, 0, 0, TRUE };

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), gtk_widget_get_width (cell),
                          gtk_widget_get_height (cell));
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  count_nodes (node, 0, 0, &counts);
  return counts;
}

static StudioDatasetItem *
write_item (const char *name, int width, int height, gboolean alpha, guint32 rgba)
{
  g_autofree char *path = g_build_filename (home, name, NULL);
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  StudioImageInfo info = { STUDIO_IMAGE_FORMAT_PNG, width, height };
  StudioDatasetItem *item;
  GError *error = NULL;

  gdk_pixbuf_fill (pixbuf, rgba);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", &error, NULL));
  g_assert_no_error (error);
  item = _studio_dataset_item_new (path, name);
  _studio_dataset_item_set_info (item, &info);
  _studio_dataset_item_set_caption (item, "captioned");   /* no badge */
  return item;
}

static void
test_cell_draws (void)
{
  g_autofree char *cache = g_build_filename (home, "draw-cache", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (StudioDatasetItem) opaque = write_item ("opaque.png", 600, 600, FALSE, 0x336699ff);
  /* Saved with an alpha channel it never uses, as screenshots often are. */
  g_autoptr (StudioDatasetItem) unused_alpha = write_item ("unused-alpha.png", 600, 600, TRUE, 0x336699ff);
  g_autoptr (StudioDatasetItem) glass = write_item ("glass.png", 600, 600, TRUE, 0x33669980);
  g_autoptr (StudioDatasetItem) wide = write_item ("wide.png", 600, 300, FALSE, 0x336699ff);
  struct {
    StudioDatasetItem *item;
    gboolean card_shown;
  } cases[] = { { opaque, FALSE }, { unused_alpha, FALSE }, { glass, TRUE }, { wide, TRUE } };
  GtkWidget *window = gtk_window_new (), *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *cell = studio_dataset_cell_new ();

  /* One pixel wider than the cell: centring the card would put it on a half pixel. */
  gtk_widget_set_size_request (cell, 160 + 12 + 1, -1);
  gtk_box_append (GTK_BOX (box), cell);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, window, 5000));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      DrawCounts counts;

      studio_dataset_cell_bind (STUDIO_DATASET_CELL (cell), cases[i].item, loader, 160, 64);
      g_assert_true (gui_test_wait_until (thumbnail_done, cell, 10000));
      g_assert_nonnull (studio_dataset_cell_get_paintable (STUDIO_DATASET_CELL (cell)));
      gui_test_settle (50);
      g_assert_cmpint (gtk_widget_get_width (cell), ==, 160 + 12 + 1);
      counts = cell_draw_counts (cell);
      g_test_message ("%s: %u shadows, %u rounded clips, %u textures",
                      studio_dataset_item_get_name (cases[i].item), counts.shadows, counts.rounded_clips,
                      counts.textures);
      g_assert_cmpuint (counts.textures, ==, 1);
      g_assert_true (counts.textures_on_whole_pixels);
      g_assert_cmpuint (counts.shadows, ==, cases[i].card_shown ? 1 : 0);
      g_assert_cmpuint (counts.rounded_clips, ==, cases[i].card_shown ? 1 : 0);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Three cells side by side, light and dark, for a person to look at: a captioned
 * picture, the same without a caption and below the minimum size, an unreadable file. */
static void
test_cells_screenshots (void)
{
  g_autofree char *cache = g_build_filename (home, "shot-cache", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  g_autofree char *src = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset",
                                           "shape-01-red-circle.png", NULL);
  g_autoptr (StudioDatasetItem) plain = _studio_dataset_item_new (src, "shape-01-red-circle.png");
  g_autoptr (StudioDatasetItem) bare = _studio_dataset_item_new (src, "a-rather-long-name-without-caption.png");
  g_autoptr (StudioDatasetItem) broken = make_item ("broken.png", 0, 0, NULL, STUDIO_ITEM_UNREADABLE);
  StudioImageInfo info = { STUDIO_IMAGE_FORMAT_PNG, 128, 128 };
  StudioDatasetItem *items[] = { plain, bare, broken };
  int min_sides[] = { 64, 512, 512 };
  GtkWidget *window = gtk_window_new (), *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *cells[3];
  AdwStyleManager *style = adw_style_manager_get_default ();

  _studio_dataset_item_set_info (plain, &info);
  _studio_dataset_item_set_caption (plain, "a red circle");
  _studio_dataset_item_set_info (bare, &info);
  gtk_window_set_child (GTK_WINDOW (window), box);
  for (guint i = 0; i < 3; i++)
    {
      cells[i] = studio_dataset_cell_new ();
      gtk_box_append (GTK_BOX (box), cells[i]);
      studio_dataset_cell_bind (STUDIO_DATASET_CELL (cells[i]), items[i], loader, 160, min_sides[i]);
    }
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, window, 5000));
  for (guint i = 0; i < 3; i++)
    g_assert_true (gui_test_wait_until (thumbnail_done, cells[i], 10000));
  g_assert_nonnull (studio_dataset_cell_get_paintable (STUDIO_DATASET_CELL (cells[0])));
  g_assert_cmpint (studio_dataset_cell_get_badges (STUDIO_DATASET_CELL (cells[1])), ==,
                   STUDIO_DATASET_CELL_BADGE_NO_CAPTION | STUDIO_DATASET_CELL_BADGE_SMALL);
  gui_test_settle (200);
  g_assert_true (gui_test_try_save_screenshot (window, "dataset-cells-light.png"));
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  gui_test_settle (300);
  g_assert_true (gui_test_try_save_screenshot (window, "dataset-cells-dark.png"));
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  int status;

  /* A private thumbnail cache, set before GLib reads it. */
  g_autoptr (GFile) home_file = gui_test_private_home ("studio-gridcells", &home);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  /* Accessible properties are kept (and can be read back) by GTK's test context. */
  g_setenv ("GTK_A11Y", "test", TRUE);

  g_test_init (&argc, &argv, NULL);
  if (!gui_test_have_display ())
    {
      gui_test_add_no_display_skip ("/dataset-view/grid-cells/fit-width");
      gui_test_add_no_display_skip ("/dataset-view/grid-cells/cell-shows-item");
      gui_test_add_no_display_skip ("/dataset-view/grid-cells/cell-draws");
      gui_test_add_no_display_skip ("/dataset-view/grid-cells/screenshots");
    }
  else
    {
      gtk_init ();
      adw_init ();
      (void) studio_get_resource ();   /* referencing the resource links it in */
      g_test_add_func ("/dataset-view/grid-cells/fit-width", test_cells_fit_width);
      g_test_add_func ("/dataset-view/grid-cells/cell-shows-item", test_cell_shows_item);
      g_test_add_func ("/dataset-view/grid-cells/cell-draws", test_cell_draws);
      g_test_add_func ("/dataset-view/grid-cells/screenshots", test_cells_screenshots);
    }
  status = g_test_run ();
  gui_test_delete_tree (home_file);
  return status;
}
