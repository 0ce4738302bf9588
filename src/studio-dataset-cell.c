/* studio-dataset-cell.c: StudioDatasetCell (see the header).
 *
 * Why the cell draws itself: it used to be a box of a GtkPicture, three badge labels and
 * two labels. Binding it to another image set label texts, badge visibility and the
 * picture's paintable, and each of those queued a resize; during a scroll the grid binds
 * cells inside its own allocation, so every frame ran GTK's layout phase again (up to
 * four times), and on X11 each layout phase makes GTK 4.8 recompute the window's size
 * with X server round trips. Now the cell's size depends only on the thumbnail size and
 * the font, and a new image, a thumbnail arriving or a caption change only redraw it.
 *
 * No tooltips here: in GTK 4.8 setting one queries the pointer from the display server,
 * a round trip per cell that stalled fast scrolling; the name is on screen and is the
 * cell's accessible label. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "studio-dataset-cell.h"
#include "studio-thumbnail-loader.h"

/* The geometry the old template had (box margin 6, spacing 4; badges 4 from the
 * corner, 2 apart, padded 1 x 6 with 4 px corners; a card's 12 px corners). */
#define MARGIN         6
#define SPACING        4
#define BADGE_MARGIN   4
#define BADGE_SPACING  2
#define BADGE_PAD_X    6
#define BADGE_PAD_Y    1
#define BADGE_RADIUS   4
#define CARD_RADIUS    12
#define DIM_OPACITY    0.55f   /* Adwaita's .dim-label */

#define N_BADGES 3

struct _StudioDatasetCell
{
  GtkWidget parent_instance;

  StudioDatasetItem *item;
  GCancellable      *cancellable;
  gulong             notify_id;
  int                size;       /* thumbnail side; the cell's size follows it */
  int                min_side;
  gboolean           has_thumbnail;
  GdkTexture        *texture;
  char              *pixels;
  StudioDatasetCellBadges badges;

  /* Made on first use from the cell's font, dropped when the font changes. */
  PangoLayout          *name_layout;
  PangoLayout          *pixels_layout;
  PangoLayout          *badge_layouts[N_BADGES];
  PangoFontDescription *font;
  int                   name_height, pixels_height;
};

G_DEFINE_FINAL_TYPE (StudioDatasetCell, studio_dataset_cell, GTK_TYPE_WIDGET)

static const char *
badge_label (guint i)
{
  switch (i)
    {
    case 0: return _("No caption");
    case 1: return _("Small");
    default: return _("Unreadable");
    }
}

GtkWidget *
studio_dataset_cell_new (void)
{
  return g_object_new (STUDIO_TYPE_DATASET_CELL, NULL);
}

/* Text */

static void
drop_layouts (StudioDatasetCell *self)
{
  g_clear_object (&self->name_layout);
  g_clear_object (&self->pixels_layout);
  for (guint i = 0; i < N_BADGES; i++)
    g_clear_object (&self->badge_layouts[i]);
  g_clear_pointer (&self->font, pango_font_description_free);
}

/* The layouts and the heights of their lines, from the cell's font (9 pt, from the
 * "caption" style class): the name bold like .caption-heading, the size with tabular
 * figures like .numeric. A line's height is the font's, whatever the text, so it is
 * measured once. */
static void
ensure_layouts (StudioDatasetCell *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  PangoAttrList *attrs;

  if (self->name_layout != NULL)
    return;
  self->font = pango_font_description_copy (pango_context_get_font_description (gtk_widget_get_pango_context (widget)));

  self->name_layout = gtk_widget_create_pango_layout (widget, "Ag");
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (self->name_layout, attrs);
  pango_attr_list_unref (attrs);
  pango_layout_set_ellipsize (self->name_layout, PANGO_ELLIPSIZE_MIDDLE);
  pango_layout_set_single_paragraph_mode (self->name_layout, TRUE);
  pango_layout_set_alignment (self->name_layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (self->name_layout, NULL, &self->name_height);

  self->pixels_layout = gtk_widget_create_pango_layout (widget, "Ag");
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  pango_layout_set_attributes (self->pixels_layout, attrs);
  pango_attr_list_unref (attrs);
  pango_layout_set_ellipsize (self->pixels_layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_single_paragraph_mode (self->pixels_layout, TRUE);
  pango_layout_set_alignment (self->pixels_layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (self->pixels_layout, NULL, &self->pixels_height);

  for (guint i = 0; i < N_BADGES; i++)
    self->badge_layouts[i] = gtk_widget_create_pango_layout (widget, badge_label (i));

  /* The texts of the image bound before the layouts existed. */
  if (self->item != NULL)
    {
      pango_layout_set_text (self->name_layout, studio_dataset_item_get_name (self->item), -1);
      pango_layout_set_text (self->pixels_layout, self->pixels, -1);
    }
}

/* Binding */

static void
update_accessible (StudioDatasetCell *self)
{
  g_autoptr (GString) description = g_string_new (self->pixels);

  for (guint i = 0; i < N_BADGES; i++)
    if (self->badges & (1u << i))
      g_string_append_printf (description, ", %s", badge_label (i));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, studio_dataset_item_get_name (self->item),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description->str,
                                  -1);
}

static void
update_badges (StudioDatasetCell *self)
{
  StudioDatasetItem *item = self->item;
  int w = studio_dataset_item_get_width (item), h = studio_dataset_item_get_height (item);
  gboolean unreadable = studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE);
  StudioDatasetCellBadges badges = 0;

  if (studio_dataset_item_has_flag (item, STUDIO_ITEM_NO_CAPTION))
    badges |= STUDIO_DATASET_CELL_BADGE_NO_CAPTION;
  if (!unreadable && self->min_side > 0 && MIN (w, h) < self->min_side)
    badges |= STUDIO_DATASET_CELL_BADGE_SMALL;
  if (unreadable)
    badges |= STUDIO_DATASET_CELL_BADGE_UNREADABLE;
  if (badges == self->badges)
    return;
  self->badges = badges;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
show_texture (StudioDatasetCell *self, GdkTexture *texture)
{
  g_set_object (&self->texture, texture);
  self->has_thumbnail = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
thumbnail_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;
  StudioDatasetCell *self;

  texture = studio_thumbnail_loader_load_finish (STUDIO_THUMBNAIL_LOADER (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the cell was unbound or rebound: USER_DATA may be gone */
  self = user_data;
  show_texture (self, texture);
  g_clear_object (&self->cancellable);
}

void
studio_dataset_cell_unbind (StudioDatasetCell *self)
{
  g_return_if_fail (STUDIO_IS_DATASET_CELL (self));

  /* Cancelled, the request leaves the worker queue: scrolling fast past 5,000
   * images decodes only the ones the user stops at. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->item == NULL)
    return;
  g_clear_signal_handler (&self->notify_id, self->item);
  g_clear_object (&self->item);
  g_clear_object (&self->texture);
  g_clear_pointer (&self->pixels, g_free);
  self->badges = 0;
  self->has_thumbnail = FALSE;
  gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL);
  gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
studio_dataset_cell_bind (StudioDatasetCell *self, StudioDatasetItem *item,
                          StudioThumbnailLoader *loader, int size, int min_side)
{
  GdkTexture *texture;
  const char *path;

  g_return_if_fail (STUDIO_IS_DATASET_CELL (self));

  studio_dataset_cell_unbind (self);
  if (item == NULL)
    return;

  self->item = g_object_ref (item);
  self->min_side = min_side;
  /* The one change of size: a new cell's first image, or a new zoom level. */
  if (size != self->size)
    {
      self->size = size;
      gtk_widget_queue_resize (GTK_WIDGET (self));
    }
  path = studio_dataset_item_get_path (item);
  if (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
    self->pixels = g_strdup (_("unreadable"));
  else
    /* TRANSLATORS: an image's size in pixels, "1024 × 768" */
    self->pixels = g_strdup_printf (_("%d × %d"), studio_dataset_item_get_width (item),
                                    studio_dataset_item_get_height (item));
  if (self->name_layout != NULL)
    {
      pango_layout_set_text (self->name_layout, studio_dataset_item_get_name (item), -1);
      pango_layout_set_text (self->pixels_layout, self->pixels, -1);
    }
  self->badges = ~0u;   /* update_badges () always updates the accessible text */
  update_badges (self);
  /* Captions change under the cell (editor, batch tools): the badge follows. */
  self->notify_id = g_signal_connect_swapped (item, "notify::flags", G_CALLBACK (update_badges), self);

  if (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
    {
      self->has_thumbnail = TRUE;
      return;
    }
  texture = studio_thumbnail_loader_lookup (loader, path, size);
  if (texture != NULL)
    {
      show_texture (self, texture);
      return;
    }
  self->cancellable = g_cancellable_new ();
  studio_thumbnail_loader_load (loader, path, size, self->cancellable, thumbnail_loaded, self);
}

gboolean
studio_dataset_cell_has_thumbnail (StudioDatasetCell *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_CELL (self), FALSE);
  return self->has_thumbnail;
}

GdkPaintable *
studio_dataset_cell_get_paintable (StudioDatasetCell *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_CELL (self), NULL);
  return self->texture ? GDK_PAINTABLE (self->texture) : NULL;
}

const char *
studio_dataset_cell_get_name (StudioDatasetCell *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_CELL (self), NULL);
  return self->item ? studio_dataset_item_get_name (self->item) : NULL;
}

const char *
studio_dataset_cell_get_pixels (StudioDatasetCell *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_CELL (self), NULL);
  return self->pixels;
}

StudioDatasetCellBadges
studio_dataset_cell_get_badges (StudioDatasetCell *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_CELL (self), 0);
  return self->item ? self->badges : 0;
}

/* Size and drawing */

static void
studio_dataset_cell_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                             int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  StudioDatasetCell *self = STUDIO_DATASET_CELL (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = self->size + 2 * MARGIN;
  else
    {
      ensure_layouts (self);
      *minimum = *natural = MARGIN + self->size + SPACING + self->name_height + SPACING
                            + self->pixels_height + MARGIN;
    }
}

/* A colour the theme defines (@define-color), or FALLBACK. */
static GdkRGBA
theme_color (GtkWidget *widget, const char *name, const char *fallback)
{
  GdkRGBA color;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, &color))
    gdk_rgba_parse (&color, fallback);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return color;
}

static void
append_rounded_color (GtkSnapshot *snapshot, const graphene_rect_t *rect, float radius,
                      const GdkRGBA *color)
{
  GskRoundedRect rounded;

  gsk_rounded_rect_init_from_rect (&rounded, rect, radius);
  gtk_snapshot_push_rounded_clip (snapshot, &rounded);
  gtk_snapshot_append_color (snapshot, color, rect);
  gtk_snapshot_pop (snapshot);
}

static void
append_layout_at (GtkSnapshot *snapshot, PangoLayout *layout, float x, float y, const GdkRGBA *color)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

/* The outline's straight sides, 1 px outside CARD and clear of its corners: all of the
 * outline that shows beside a thumbnail filling the card, whose square corners cover the
 * outline's rounded ends. Four plain rectangles cost the software renderer far less than
 * the rounded ring (a path it rasterises for every cell on every scrolled frame). */
static void
append_outline_sides (GtkSnapshot *snapshot, const graphene_rect_t *card, const GdkRGBA *shade)
{
  float x = card->origin.x, y = card->origin.y, side = card->size.width;
  float straight = side - 2 * CARD_RADIUS;

  gtk_snapshot_append_color (snapshot, shade, &GRAPHENE_RECT_INIT (x + CARD_RADIUS, y - 1, straight, 1));
  gtk_snapshot_append_color (snapshot, shade, &GRAPHENE_RECT_INIT (x + CARD_RADIUS, y + side, straight, 1));
  gtk_snapshot_append_color (snapshot, shade, &GRAPHENE_RECT_INIT (x - 1, y + CARD_RADIUS, 1, straight));
  gtk_snapshot_append_color (snapshot, shade, &GRAPHENE_RECT_INIT (x + side, y + CARD_RADIUS, 1, straight));
}

/* The card (Adwaita's .card: card_bg_color, 12 px corners, a faint outline), the
 * thumbnail fitted inside with its aspect kept, like the GtkPicture it replaces. X and Y
 * are whole pixels: a thumbnail made at the size it is shown is then copied, not
 * filtered. An opaque thumbnail that fills the card hides the card entirely. */
static void
snapshot_picture (StudioDatasetCell *self, GtkSnapshot *snapshot, float x, float y)
{
  GtkWidget *widget = GTK_WIDGET (self);
  graphene_rect_t card = GRAPHENE_RECT_INIT (x, y, self->size, self->size);
  GdkRGBA shade = theme_color (widget, "card_shade_color", "rgba(0,0,0,0.07)");
  graphene_rect_t picture;
  GskRoundedRect outline;
  GdkRGBA bg;

  if (self->texture != NULL)
    {
      float tw = gdk_texture_get_width (self->texture), th = gdk_texture_get_height (self->texture);
      float scale = MIN (self->size / tw, self->size / th);

      picture = GRAPHENE_RECT_INIT (x + floorf ((self->size - tw * scale) / 2),
                                    y + floorf ((self->size - th * scale) / 2), tw * scale, th * scale);
      if (graphene_rect_equal (&picture, &card) && studio_thumbnail_texture_is_opaque (self->texture))
        {
          append_outline_sides (snapshot, &card, &shade);
          gtk_snapshot_append_texture (snapshot, self->texture, &picture);
          return;
        }
    }

  bg = theme_color (widget, "card_bg_color", "#ffffff");
  gsk_rounded_rect_init_from_rect (&outline, &card, CARD_RADIUS);
  gtk_snapshot_append_outset_shadow (snapshot, &outline, &shade, 0, 0, 1, 0);
  append_rounded_color (snapshot, &card, CARD_RADIUS, &bg);
  if (self->texture != NULL)
    gtk_snapshot_append_texture (snapshot, self->texture, &picture);
}

/* The badges stacked in the thumbnail's top end corner: light text on dark for the
 * warnings (readable on any picture, .osd), the theme's error colours for unreadable. */
static void
snapshot_badges (StudioDatasetCell *self, GtkSnapshot *snapshot, float card_x, float card_y)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;
  float y = card_y + BADGE_MARGIN;

  for (guint i = 0; i < N_BADGES; i++)
    {
      GdkRGBA bg, fg;
      int tw, th;
      float w, h, x;

      if (!(self->badges & (1u << i)))
        continue;
      if (i == 2)
        {
          bg = theme_color (widget, "error_bg_color", "#c01c28");
          fg = theme_color (widget, "error_fg_color", "#ffffff");
        }
      else
        {
          bg = (GdkRGBA) { 0, 0, 0, 0.7f };
          fg = (GdkRGBA) { 1, 1, 1, 1 };
        }
      pango_layout_get_pixel_size (self->badge_layouts[i], &tw, &th);
      w = MIN (tw + 2 * BADGE_PAD_X, self->size - 2 * BADGE_MARGIN);
      h = th + 2 * BADGE_PAD_Y;
      x = rtl ? card_x + BADGE_MARGIN : card_x + self->size - BADGE_MARGIN - w;
      append_rounded_color (snapshot, &GRAPHENE_RECT_INIT (x, y, w, h), BADGE_RADIUS, &bg);
      gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (x, y, w, h));
      append_layout_at (snapshot, self->badge_layouts[i], x + BADGE_PAD_X, y + BADGE_PAD_Y, &fg);
      gtk_snapshot_pop (snapshot);
      y += h + BADGE_SPACING;
    }
}

static void
studio_dataset_cell_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  StudioDatasetCell *self = STUDIO_DATASET_CELL (widget);
  int width = gtk_widget_get_width (widget);
  int text_width = MAX (1, width - 2 * MARGIN);
  float card_x = floorf ((width - self->size) / 2.f), card_y = MARGIN, y;
  GdkRGBA color, dim;

  if (self->item == NULL || self->size <= 0)
    return;
  ensure_layouts (self);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  dim = color;
  dim.alpha *= DIM_OPACITY;

  snapshot_picture (self, snapshot, card_x, card_y);
  snapshot_badges (self, snapshot, card_x, card_y);

  y = card_y + self->size + SPACING;
  pango_layout_set_width (self->name_layout, text_width * PANGO_SCALE);
  append_layout_at (snapshot, self->name_layout, MARGIN, y, &color);
  y += self->name_height + SPACING;
  pango_layout_set_width (self->pixels_layout, text_width * PANGO_SCALE);
  append_layout_at (snapshot, self->pixels_layout, MARGIN, y, &dim);
}

/* A new font (the theme, the text scale) is the one thing besides the thumbnail size
 * that changes the cell's size. Other style changes (the row selected, hovered) keep it:
 * the default handler then only redraws. */
static void
studio_dataset_cell_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  StudioDatasetCell *self = STUDIO_DATASET_CELL (widget);

  GTK_WIDGET_CLASS (studio_dataset_cell_parent_class)->css_changed (widget, change);
  if (self->font != NULL
      && !pango_font_description_equal (self->font, pango_context_get_font_description (gtk_widget_get_pango_context (widget))))
    {
      drop_layouts (self);
      gtk_widget_queue_resize (widget);
    }
}

static void
studio_dataset_cell_dispose (GObject *object)
{
  StudioDatasetCell *self = STUDIO_DATASET_CELL (object);

  studio_dataset_cell_unbind (self);
  drop_layouts (self);
  G_OBJECT_CLASS (studio_dataset_cell_parent_class)->dispose (object);
}

static void
studio_dataset_cell_class_init (StudioDatasetCellClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_dataset_cell_dispose;
  widget_class->measure = studio_dataset_cell_measure;
  widget_class->snapshot = studio_dataset_cell_snapshot;
  widget_class->css_changed = studio_dataset_cell_css_changed;

  gtk_widget_class_set_css_name (widget_class, "dataset-cell");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
studio_dataset_cell_init (StudioDatasetCell *self)
{
  /* Adwaita's caption size (9 pt) for every text the cell draws. */
  gtk_widget_add_css_class (GTK_WIDGET (self), "caption");
}
