/* studio-dataset-item.c: StudioDatasetItem, one image of a dataset (see the header). */
#include "config.h"

#include <string.h>

#include "studio-dataset-item.h"

struct _StudioDatasetItem
{
  GObject parent_instance;

  char             *path;
  char             *name;
  char             *caption;
  char             *message;
  StudioImageInfo   info;
  StudioItemFlags   flags;
};

G_DEFINE_TYPE (StudioDatasetItem, studio_dataset_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  PROP_NAME,
  PROP_CAPTION,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FORMAT,
  PROP_FLAGS,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GType
studio_item_flags_get_type (void)
{
  static gsize type = 0;
  static const GFlagsValue values[] = {
    { STUDIO_ITEM_NO_CAPTION, "STUDIO_ITEM_NO_CAPTION", "no-caption" },
    { STUDIO_ITEM_UNREADABLE, "STUDIO_ITEM_UNREADABLE", "unreadable" },
    { STUDIO_ITEM_EXTENSION_MISMATCH, "STUDIO_ITEM_EXTENSION_MISMATCH", "extension-mismatch" },
    { STUDIO_ITEM_CAPTION_INVALID, "STUDIO_ITEM_CAPTION_INVALID", "caption-invalid" },
    { 0, NULL, NULL }
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_flags_register_static ("StudioItemFlags", values));
  return type;
}

static void
studio_dataset_item_finalize (GObject *object)
{
  StudioDatasetItem *self = STUDIO_DATASET_ITEM (object);

  g_free (self->path);
  g_free (self->name);
  g_free (self->caption);
  g_free (self->message);
  G_OBJECT_CLASS (studio_dataset_item_parent_class)->finalize (object);
}

static void
studio_dataset_item_get_property (GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  StudioDatasetItem *self = STUDIO_DATASET_ITEM (object);

  switch (prop_id)
    {
    case PROP_PATH:    g_value_set_string (value, self->path); break;
    case PROP_NAME:    g_value_set_string (value, self->name); break;
    case PROP_CAPTION: g_value_set_string (value, self->caption); break;
    case PROP_WIDTH:   g_value_set_int (value, self->info.width); break;
    case PROP_HEIGHT:  g_value_set_int (value, self->info.height); break;
    case PROP_FORMAT:  g_value_set_int (value, self->info.format); break;
    case PROP_FLAGS:   g_value_set_flags (value, self->flags); break;
    case PROP_MESSAGE: g_value_set_string (value, self->message); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
studio_dataset_item_class_init (StudioDatasetItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = studio_dataset_item_finalize;
  object_class->get_property = studio_dataset_item_get_property;

  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL, ro);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  properties[PROP_CAPTION] = g_param_spec_string ("caption", NULL, NULL, NULL, ro);
  properties[PROP_WIDTH] = g_param_spec_int ("width", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_HEIGHT] = g_param_spec_int ("height", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_FORMAT] = g_param_spec_int ("format", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_FLAGS] = g_param_spec_flags ("flags", NULL, NULL, STUDIO_TYPE_ITEM_FLAGS, 0, ro);
  properties[PROP_MESSAGE] = g_param_spec_string ("message", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
studio_dataset_item_init (StudioDatasetItem *self)
{
  self->flags = STUDIO_ITEM_NO_CAPTION;
}

StudioDatasetItem *
_studio_dataset_item_new (const char *path, const char *name)
{
  StudioDatasetItem *self = g_object_new (STUDIO_TYPE_DATASET_ITEM, NULL);
  self->path = g_strdup (path);
  self->name = g_strdup (name);
  return self;
}

const char *
studio_dataset_item_get_path (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), NULL);
  return self->path;
}

const char *
studio_dataset_item_get_name (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), NULL);
  return self->name;
}

const char *
studio_dataset_item_get_caption (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), NULL);
  return self->caption;
}

int
studio_dataset_item_get_width (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), 0);
  return self->info.width;
}

int
studio_dataset_item_get_height (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), 0);
  return self->info.height;
}

StudioImageFormat
studio_dataset_item_get_format (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), STUDIO_IMAGE_FORMAT_UNKNOWN);
  return self->info.format;
}

StudioItemFlags
studio_dataset_item_get_flags (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), 0);
  return self->flags;
}

gboolean
studio_dataset_item_has_flag (StudioDatasetItem *self, StudioItemFlags flag)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), FALSE);
  return (self->flags & flag) != 0;
}

const char *
studio_dataset_item_get_message (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), NULL);
  return self->message;
}

char *
studio_dataset_item_dup_sidecar_path (StudioDatasetItem *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_ITEM (self), NULL);

  const char *base = strrchr (self->path, '/');
  const char *dot = strrchr (base ? base + 1 : self->path, '.');
  gsize stem = dot ? (gsize) (dot - self->path) : strlen (self->path);
  return g_strdup_printf ("%.*s.txt", (int) stem, self->path);
}

void
_studio_dataset_item_set_info (StudioDatasetItem *self, const StudioImageInfo *info)
{
  self->info = *info;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIDTH]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEIGHT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FORMAT]);
}

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; p && *p; p++)
    if (!g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

void
_studio_dataset_item_set_caption (StudioDatasetItem *self, const char *caption)
{
  StudioItemFlags old_flags = self->flags;

  if (g_strcmp0 (self->caption, caption) != 0)
    {
      g_free (self->caption);
      self->caption = g_strdup (caption);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAPTION]);
    }
  if (is_blank (caption))
    self->flags |= STUDIO_ITEM_NO_CAPTION;
  else
    self->flags &= ~STUDIO_ITEM_NO_CAPTION;
  if (self->flags != old_flags)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FLAGS]);
}

void
_studio_dataset_item_add_flags (StudioDatasetItem *self, StudioItemFlags flags)
{
  if ((self->flags | flags) == self->flags)
    return;
  self->flags |= flags;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FLAGS]);
}

void
_studio_dataset_item_add_message (StudioDatasetItem *self, const char *message)
{
  char *joined = self->message ? g_strconcat (self->message, "\n", message, NULL)
                               : g_strdup (message);
  g_free (self->message);
  self->message = joined;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}
