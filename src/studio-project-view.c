/* studio-project-view.c: StudioProjectView: hands an open project to the Dataset,
 * Train and Samples views. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-dataset-view.h"
#include "studio-project-view.h"
#include "studio-samples-view.h"
#include "studio-train-view.h"

struct _StudioProjectView
{
  AdwBin parent_instance;

  AdwViewStack         *stack;
  StudioDatasetView    *dataset_view;
  StudioTrainView      *train_view;
  StudioSamplesView    *samples_view;

  StudioProject *project;
};

G_DEFINE_FINAL_TYPE (StudioProjectView, studio_project_view, ADW_TYPE_BIN)

void
studio_project_view_set_project (StudioProjectView *self, StudioProject *project)
{
  g_return_if_fail (STUDIO_IS_PROJECT_VIEW (self));
  g_return_if_fail (STUDIO_IS_PROJECT (project));

  g_set_object (&self->project, project);
  studio_train_view_set_project (self->train_view, project);
  studio_dataset_view_set_project (self->dataset_view, project);
  studio_samples_view_set_project (self->samples_view, project);
}

StudioProject *
studio_project_view_get_project (StudioProjectView *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT_VIEW (self), NULL);
  return self->project;
}

StudioDatasetView *
studio_project_view_get_dataset_view (StudioProjectView *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT_VIEW (self), NULL);
  return self->dataset_view;
}

AdwViewStack *
studio_project_view_get_stack (StudioProjectView *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT_VIEW (self), NULL);
  return self->stack;
}

void
studio_project_view_set_visible_view (StudioProjectView *self, const char *name)
{
  g_return_if_fail (STUDIO_IS_PROJECT_VIEW (self));
  adw_view_stack_set_visible_child_name (self->stack, name);
}

static void
studio_project_view_dispose (GObject *object)
{
  StudioProjectView *self = STUDIO_PROJECT_VIEW (object);

  g_clear_object (&self->project);
  G_OBJECT_CLASS (studio_project_view_parent_class)->dispose (object);
}

static void
studio_project_view_class_init (StudioProjectViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_project_view_dispose;

  g_type_ensure (STUDIO_TYPE_DATASET_VIEW);
  g_type_ensure (STUDIO_TYPE_TRAIN_VIEW);
  g_type_ensure (STUDIO_TYPE_SAMPLES_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-project-view.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioProjectView, stack);
  gtk_widget_class_bind_template_child (widget_class, StudioProjectView, dataset_view);
  gtk_widget_class_bind_template_child (widget_class, StudioProjectView, train_view);
  gtk_widget_class_bind_template_child (widget_class, StudioProjectView, samples_view);
}

static void
studio_project_view_init (StudioProjectView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Generate and the runs' curves go through the Train view's engine. */
  studio_samples_view_set_train_view (self->samples_view, self->train_view);
}
