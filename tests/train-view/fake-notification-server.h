/* fake-notification-server.h: a stand-in for the desktop's notification service that
 * the notification tests run on their private session bus: it owns org.gtk.Notifications
 * (the name GLib's GNotification sends to first), records what arrives, and can click
 * a notification the way GNOME Shell does (ActivateAction on the sending app). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char     *sender;          /* the app's unique bus name */
  char     *app_id;
  char     *id;
  char     *title;
  char     *body;
  char     *default_action;  /* "app.NAME", or NULL */
  GVariant *default_target;  /* or NULL */
} FakeNotification;

typedef struct _FakeNotificationServer FakeNotificationServer;

/* Connects to the session bus on a connection of its own and takes the name; fails
 * when someone else (a real desktop) already has it. */
FakeNotificationServer *fake_notification_server_new (GError **error);
void                    fake_notification_server_free (FakeNotificationServer *self);

/* The FakeNotifications received so far, oldest first. */
GPtrArray *fake_notification_server_get_received (FakeNotificationServer *self);
/* How many RemoveNotification calls came. */
guint      fake_notification_server_get_n_removed (FakeNotificationServer *self);

/* Clicks NOTIFICATION: calls its default action on the app that sent it. The call is
 * asynchronous (the app may live in this very process); *DONE becomes TRUE when the
 * app has answered, and an error is a test failure. */
void fake_notification_server_activate (FakeNotificationServer *self,
                                        const FakeNotification *notification,
                                        gboolean               *done);

G_END_DECLS
