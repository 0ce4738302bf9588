/* studio-dataset-view-private.h: what the parts of StudioDatasetView share: its
 * instance struct and the functions one part calls in another. The parts are
 *   studio-dataset-view.c             the class, properties, loading a project's dataset,
 *                                     the Details of an import's or Auto Caption's toast
 *   studio-dataset-view-filter.c      the filter, caption search and health buttons
 *   studio-dataset-view-health.c      the health summary and content hashes
 *   studio-dataset-view-grid.c        grid cells, zoom, selection and navigation
 *   studio-dataset-view-batch.c       batch edits and Undo, tags, trash, caption store
 *   studio-dataset-view-import.c      drop, Add Images, import progress and refusals
 *   studio-dataset-view-auto-caption.c Auto Caption and the review of what it wrote
 *   studio-dataset-view-monitor.c     the folder monitor
 * Only these files include it. */
#pragma once

#include "studio-dataset-health.h"
#include "studio-dataset-view.h"
#include "studio-thumbnail-loader.h"

G_BEGIN_DECLS

struct _StudioDatasetView
{
  AdwBin parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkStack        *stack;
  AdwStatusPage   *error_page;
  GtkButton       *images_button;
  GtkButton       *no_caption_button;
  GtkButton       *warnings_button;
  GtkButton       *small_button;
  GtkButton       *duplicates_button;
  GtkButton       *unreadable_button;
  GtkLabel        *resolution_label;
  GtkLabel        *aspects_label;
  GtkLabel        *store_label;
  GtkDropDown     *filter_dropdown;
  GtkSearchEntry  *search_entry;
  GtkListBox      *tags_list;
  GtkPopover      *tags_popover;
  GtkRevealer     *progress_revealer;
  GtkProgressBar  *progress_bar;
  GtkStack        *grid_stack;
  GtkGridView     *grid;
  StudioCaptionEditor *editor;

  StudioProject         *project;
  StudioDataset         *dataset;
  StudioThumbnailLoader *loader;
  GtkFilterListModel    *filtered;
  GtkCustomFilter       *filter;
  GtkMultiSelection     *selection;
  GCancellable          *cancellable;      /* load and hashing of this dataset */
  GFileMonitor          *monitor;
  GHashTable            *monitor_added;    /* paths to (re)probe */
  GHashTable            *monitor_removed;
  guint                  monitor_source;
  guint                  health_source;
  GHashTable            *hashes;           /* path -> content hash */
  StudioDatasetHealth   *health;

  int                    zoom;
  int                    min_side;         /* training resolution, 0: unknown */
  StudioDatasetFilter    filter_mode;
  char                  *search;           /* casefolded */

  GPtrArray             *undo;             /* StudioBatchChange* of the last batch */
  GSList                *pending_import;   /* GFile*, until the dataset is loaded */
  GCancellable          *import_cancellable;
  GStrv                  last_refused;
  GStrv                  auto_captioned;   /* names the last Auto Caption wrote */
  GStrv                  caption_warnings; /* its skipped images, in the engine's words */
  gboolean               loading;
  gboolean               health_current;   /* self->health counts the items as they are */
  guint                  fit_tick;     /* tick callback on the grid, see fit_max_columns */
};

/* studio-dataset-view.c */
void     _studio_dataset_view_toast            (StudioDatasetView *self, const char *message);
void     _studio_dataset_view_notify_importing (StudioDatasetView *self);

/* Each part below has a class_init_PART, called from class_init once the template is
 * set: it installs the part's actions and binds its template callbacks. */

/* studio-dataset-view-filter.c */
void     _studio_dataset_view_class_init_filter (GtkWidgetClass *widget_class);
/* Makes the filtered model and follows the filter menu and search entry. */
void     _studio_dataset_view_init_filter      (StudioDatasetView *self);
/* Shows the grid, or why it is empty. */
void     _studio_dataset_view_update_grid_page (StudioDatasetView *self);
void     _studio_dataset_view_refilter         (StudioDatasetView *self);

/* studio-dataset-view-health.c */
void     _studio_dataset_view_show_health      (StudioDatasetView *self);
/* Counts again (and hashes new files) a moment later: changes come in bursts. */
void     _studio_dataset_view_schedule_health  (StudioDatasetView *self);

/* studio-dataset-view-grid.c */
void     _studio_dataset_view_class_init_grid  (GtkWidgetClass *widget_class);
/* Makes the selection and the cells' factory, and follows the grid's width. */
void     _studio_dataset_view_init_grid        (StudioDatasetView *self);
void     _studio_dataset_view_fit_max_columns  (StudioDatasetView *self);

/* studio-dataset-view-batch.c */
void     _studio_dataset_view_class_init_batch (GtkWidgetClass *widget_class);

/* studio-dataset-view-import.c */
void     _studio_dataset_view_class_init_import (GtkWidgetClass *widget_class);
/* Accepts files dropped on the view. */
void     _studio_dataset_view_init_import      (StudioDatasetView *self);
/* Starts the queued import, if the dataset is loaded and no import runs. */
void     _studio_dataset_view_start_import     (StudioDatasetView *self);

/* studio-dataset-view-auto-caption.c */
void     _studio_dataset_view_class_init_auto_caption (GtkWidgetClass *widget_class);

/* studio-dataset-view-monitor.c */
/* Shows changes made to the dataset folder outside the app; warns when it cannot. */
void     _studio_dataset_view_watch_folder     (StudioDatasetView *self);
void     _studio_dataset_view_unwatch_folder   (StudioDatasetView *self);

G_END_DECLS
