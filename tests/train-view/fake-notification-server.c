/* fake-notification-server.c: the org.gtk.Notifications stand-in of
 * fake-notification-server.h, written with GDBus. */
#include "fake-notification-server.h"

#include <string.h>

#define NAME "org.gtk.Notifications"
#define PATH "/org/gtk/Notifications"

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.gtk.Notifications'>"
  "    <method name='AddNotification'>"
  "      <arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/>"
  "    </method>"
  "    <method name='RemoveNotification'>"
  "      <arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/>"
  "    </method>"
  "  </interface>"
  "</node>";

struct _FakeNotificationServer
{
  GDBusConnection *connection;
  GDBusNodeInfo   *node;
  guint            registration;
  GPtrArray       *received;
  guint            n_removed;
};

static void
fake_notification_free (FakeNotification *n)
{
  g_free (n->sender);
  g_free (n->app_id);
  g_free (n->id);
  g_free (n->title);
  g_free (n->body);
  g_free (n->default_action);
  g_clear_pointer (&n->default_target, g_variant_unref);
  g_free (n);
}

static void
method_call (GDBusConnection *connection, const char *sender, const char *path,
             const char *interface, const char *method, GVariant *params,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  FakeNotificationServer *self = user_data;

  if (g_str_equal (method, "AddNotification"))
    {
      FakeNotification *n = g_new0 (FakeNotification, 1);
      g_autoptr (GVariant) dict = NULL;
      g_autoptr (GVariantDict) fields = NULL;

      g_variant_get (params, "(ss@a{sv})", &n->app_id, &n->id, &dict);
      n->sender = g_strdup (sender);
      fields = g_variant_dict_new (dict);
      g_variant_dict_lookup (fields, "title", "s", &n->title);
      g_variant_dict_lookup (fields, "body", "s", &n->body);
      g_variant_dict_lookup (fields, "default-action", "s", &n->default_action);
      n->default_target = g_variant_dict_lookup_value (fields, "default-action-target", NULL);
      g_ptr_array_add (self->received, n);
    }
  else
    self->n_removed++;
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };

FakeNotificationServer *
fake_notification_server_new (GError **error)
{
  FakeNotificationServer *self = g_new0 (FakeNotificationServer, 1);
  g_autofree char *address = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint result = 0;

  self->received = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_notification_free);
  self->node = g_dbus_node_info_new_for_xml (introspection_xml, NULL);
  /* Not the shared session connection: that one is the app's. */
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, error);
  if (address != NULL)
    self->connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
               G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, error);
  if (self->connection != NULL)
    self->registration = g_dbus_connection_register_object (self->connection, PATH,
                                                            self->node->interfaces[0],
                                                            &vtable, self, NULL, error);
  if (self->registration != 0)
    reply = g_dbus_connection_call_sync (self->connection, "org.freedesktop.DBus",
                                         "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                         "RequestName",
                                         g_variant_new ("(su)", NAME, 0x4 /* DO_NOT_QUEUE */),
                                         G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                         NULL, error);
  if (reply != NULL)
    {
      g_variant_get (reply, "(u)", &result);
      if (result != 1 /* PRIMARY_OWNER */)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                     "%s already has an owner on this bus: run the test under dbus-run-session", NAME);
    }
  if (result != 1)
    {
      fake_notification_server_free (self);
      return NULL;
    }
  return self;
}

void
fake_notification_server_free (FakeNotificationServer *self)
{
  if (self->registration != 0)
    g_dbus_connection_unregister_object (self->connection, self->registration);
  if (self->connection != NULL)
    g_dbus_connection_close_sync (self->connection, NULL, NULL);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->node, g_dbus_node_info_unref);
  g_ptr_array_unref (self->received);
  g_free (self);
}

GPtrArray *
fake_notification_server_get_received (FakeNotificationServer *self)
{
  return self->received;
}

guint
fake_notification_server_get_n_removed (FakeNotificationServer *self)
{
  return self->n_removed;
}

/* GApplication's object path: the id with '.' as '/' and '-' as '_'. */
static char *
app_object_path (const char *app_id)
{
  char *path = g_strconcat ("/", app_id, NULL);

  for (char *p = path; *p != '\0'; p++)
    if (*p == '.')
      *p = '/';
    else if (*p == '-')
      *p = '_';
  return path;
}

static void
activated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  g_assert_no_error (error);
  *done = TRUE;
}

void
fake_notification_server_activate (FakeNotificationServer *self,
                                   const FakeNotification *notification,
                                   gboolean               *done)
{
  g_autofree char *path = app_object_path (notification->app_id);
  GVariantBuilder params, platform_data;

  g_assert_nonnull (notification->default_action);
  g_assert_true (g_str_has_prefix (notification->default_action, "app."));
  g_variant_builder_init (&params, G_VARIANT_TYPE ("av"));
  if (notification->default_target != NULL)
    g_variant_builder_add (&params, "v", notification->default_target);
  g_variant_builder_init (&platform_data, G_VARIANT_TYPE_VARDICT);
  *done = FALSE;
  g_dbus_connection_call (self->connection, notification->sender, path,
                          "org.freedesktop.Application", "ActivateAction",
                          g_variant_new ("(sava{sv})", notification->default_action + strlen ("app."),
                                         &params, &platform_data),
                          G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NONE, -1, NULL, activated, done);
}
