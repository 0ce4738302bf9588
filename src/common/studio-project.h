/* studio-project.h: a LoRA Studio project, and the list of recent ones.
 *
 * A project is a folder holding `config.yaml`, the dataset folder the config's
 * train_data_dir names (`dataset/` by default) and one folder per training run under
 * `runs/` (`runs/20261129-141500-name/`). The recent-projects list lives in GSettings
 * (key `recent-projects`): newest first, no duplicates, at most ten, and folders that
 * have gone are left out when it is read.
 */
#pragma once

#include <gio/gio.h>

#include "studio-config.h"

G_BEGIN_DECLS

#define STUDIO_PROJECT_ERROR (studio_project_error_quark ())
GQuark studio_project_error_quark (void);

typedef enum {
  STUDIO_PROJECT_ERROR_NOT_FOUND,    /* the folder does not exist */
  STUDIO_PROJECT_ERROR_NOT_PROJECT,  /* no config.yaml in it */
  STUDIO_PROJECT_ERROR_EXISTS,       /* create: a project is already there */
  STUDIO_PROJECT_ERROR_IO,           /* cannot create folders or files */
  STUDIO_PROJECT_ERROR_CONFIG,       /* config.yaml is broken (message from the parser) */
} StudioProjectError;

#define STUDIO_PROJECT_CONFIG_NAME "config.yaml"
#define STUDIO_PROJECT_DATASET_NAME "dataset"
#define STUDIO_PROJECT_RUNS_NAME "runs"
#define STUDIO_RECENT_PROJECTS_MAX 10

typedef struct {
  char      *name;        /* folder name, e.g. "20261129-141500-first-try" */
  char      *path;        /* absolute */
  GDateTime *started;     /* from the name's timestamp, else the folder's mtime; local time */
  gboolean   has_result;  /* a LoRA file (image or text) was written */
} StudioRun;

void studio_run_free (StudioRun *run);

#define STUDIO_TYPE_PROJECT (studio_project_get_type ())
G_DECLARE_FINAL_TYPE (StudioProject, studio_project, STUDIO, PROJECT, GObject)

/* Makes FOLDER (created if needed, may already hold files) a project: a default
 * config for TASK, the dataset folder and runs/. DATASET_DIR NULL means
 * FOLDER/dataset; otherwise the config points at it (e.g. the folder of images that
 * was dropped on the window). Fails when FOLDER already holds a config.yaml. */
StudioProject *studio_project_create (const char *folder, StudioTaskType task,
                                      const char *dataset_dir, GError **error);
/* PATH is the project folder or its config.yaml. */
StudioProject *studio_project_open   (const char *path, GError **error);

const char   *studio_project_get_folder      (StudioProject *self);
/* The folder's name, for titles. */
const char   *studio_project_get_name        (StudioProject *self);
const char   *studio_project_get_config_path (StudioProject *self);
StudioConfig *studio_project_get_config      (StudioProject *self);
/* train_data_dir, absolute. */
const char   *studio_project_get_dataset_dir (StudioProject *self);
char         *studio_project_dup_runs_dir    (StudioProject *self);
gboolean      studio_project_save_config     (StudioProject *self, GError **error);

/* Runs, newest first: a new GPtrArray of StudioRun*. A missing runs/ is no run. */
GPtrArray    *studio_project_list_runs       (StudioProject *self);
/* Creates runs/<YYYYMMDD-HHMMSS>-<LABEL>/ (LABEL may be NULL; it is reduced to
 * letters, digits and '-') and returns its path. */
char         *studio_project_create_run_dir  (StudioProject *self, const char *label,
                                              GError **error);

/* The recent list from SETTINGS (schema io.github.lorastudio.LoraStudio), existing
 * folders only: a NULL-terminated array, free with g_strfreev. */
char   **studio_recent_projects_get    (GSettings *settings);
/* Moves FOLDER to the front (absolute path; duplicates and the eleventh are dropped). */
void     studio_recent_projects_add    (GSettings *settings, const char *folder);
void     studio_recent_projects_remove (GSettings *settings, const char *folder);

G_END_DECLS
