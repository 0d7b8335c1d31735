/* The D-Bus API as a GLib client sees it (the NetworkManager plugin and
 * desktop tools are GDBus clients): a real pluto on a private dbus-daemon,
 * watched through GDBusObjectManagerClient and GDBusProxy property caches,
 * which only stay right when InterfacesAdded/Removed and PropertiesChanged
 * are emitted correctly. */
#include <gio/gio.h>
#include <glib.h>
#include <string.h>
#include <sys/wait.h>

#include "test-util.h"

#define DEST "org.freeswan.pluto1"
#define ROOT "/org/freeswan/pluto1"
#define MGR_IFACE "org.freeswan.pluto1.Manager"
#define CONN_IFACE "org.freeswan.pluto1.Connection"
#define WEST ROOT "/connection/west"

static GDBusConnection *conn;
static GDBusObjectManager *manager;

static gboolean name_has_owner(void)
{
	return test_bus_name_has_owner(conn, DEST);
}

/* --- waiting for what GLib delivers through the main loop --- */

static gboolean iterate_until(test_cond_fn cond, gconstpointer ud)
{
	return test_loop_until(cond, ud, FALSE);
}

static GPtrArray *events;   /* what the signal handlers saw, as text */

static gboolean event_seen(gconstpointer needle)
{
	for (guint i = 0; i < events->len; i++)
		if (strstr(events->pdata[i], needle))
			return TRUE;
	return FALSE;
}

static void assert_event(const char *needle)
{
	if (!iterate_until(event_seen, needle)) {
		for (guint i = 0; i < events->len; i++)
			g_test_message("seen: %s", (const char *)events->pdata[i]);
		g_error("no event containing \"%s\"", needle);
	}
}

static void on_object_added(GDBusObjectManager *m, GDBusObject *object, gpointer ud)
{
	g_ptr_array_add(events, g_strdup_printf("added %s", g_dbus_object_get_object_path(object)));
}

static void on_object_removed(GDBusObjectManager *m, GDBusObject *object, gpointer ud)
{
	g_ptr_array_add(events, g_strdup_printf("removed %s", g_dbus_object_get_object_path(object)));
}

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
		      const char *member, GVariant *params, gpointer ud)
{
	char *p = g_variant_print(params, FALSE);
	g_ptr_array_add(events, g_strdup_printf("signal %s %s.%s %s", path, iface, member, p));
	g_free(p);
}

static GVariant *call(const char *path, const char *iface, const char *method, GVariant *args,
		      const char *reply_type, GError **error)
{
	return g_dbus_connection_call_sync(conn, DEST, path, iface, method, args,
					   reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
					   G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
}

static GVariant *options_west(void)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&b, "{ss}", "left", "127.0.0.1");
	g_variant_builder_add(&b, "{ss}", "right", "192.0.2.2");
	g_variant_builder_add(&b, "{ss}", "rightid", "@east.example");
	return g_variant_builder_end(&b);
}

static char *cached_string(GDBusProxy *proxy, const char *name)
{
	GVariant *v = g_dbus_proxy_get_cached_property(proxy, name);
	g_assert_nonnull(v);
	char *s = g_variant_dup_string(v, NULL);
	g_variant_unref(v);
	return s;
}

static const char *routing_wanted;

static gboolean cached_routing_is(gconstpointer ud)
{
	GDBusProxy *proxy = (GDBusProxy *)ud;
	char *s = cached_string(proxy, "Routing");
	gboolean same = g_str_equal(s, routing_wanted);
	g_free(s);
	return same;
}

static void test_connection_lifecycle(void)
{
	GError *error = NULL;

	/* AddConnection: the object appears with its properties */
	GVariant *reply = call(ROOT, MGR_IFACE, "AddConnection", g_variant_new("(s@a{ss})", "west", options_west()),
			       "(o)", &error);
	g_assert_no_error(error);
	const char *path;
	g_variant_get(reply, "(&o)", &path);
	g_assert_cmpstr(path, ==, WEST);
	g_variant_unref(reply);
	assert_event("added " WEST);

	GDBusInterface *iface = g_dbus_object_manager_get_interface(manager, WEST, CONN_IFACE);
	g_assert_nonnull(iface);
	GDBusProxy *proxy = G_DBUS_PROXY(iface);
	char *s = cached_string(proxy, "Name");
	g_assert_cmpstr(s, ==, "west");
	g_free(s);
	s = cached_string(proxy, "Routing");
	g_assert_cmpstr(s, ==, "unrouted");
	g_free(s);
	GVariant *v = g_dbus_proxy_get_cached_property(proxy, "Template");
	g_assert_false(g_variant_get_boolean(v));
	g_variant_unref(v);
	v = g_dbus_proxy_get_cached_property(proxy, "Options");
	g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE("a{ss}")));
	const char *opt;
	g_assert_true(g_variant_lookup(v, "rightid", "&s", &opt));
	g_assert_cmpstr(opt, ==, "@east.example");
	g_assert_true(g_variant_lookup(v, "rekeymargin", "&s", &opt));   /* defaults filled in */
	g_variant_unref(v);
	v = g_dbus_proxy_get_cached_property(proxy, "States");
	g_assert_cmpuint(g_variant_n_children(v), ==, 0);
	g_variant_unref(v);
	s = cached_string(proxy, "NewestIpsecState");
	g_assert_cmpstr(s, ==, "/");
	g_free(s);

	/* Route: PropertiesChanged on Routing, the proxy cache follows, and a
	 * Progress signal carries the whack line */
	reply = call(WEST, CONN_IFACE, "Route", NULL, "()", &error);
	g_assert_no_error(error);
	g_variant_unref(reply);
	assert_event("signal " WEST " org.freedesktop.DBus.Properties.PropertiesChanged "
		     "('org.freeswan.pluto1.Connection', {'Routing': <'prospective'>}");
	routing_wanted = "prospective";
	g_assert_true(iterate_until(cached_routing_is, proxy));
	assert_event("signal " WEST " org.freeswan.pluto1.Connection.Progress (2, '\"west\": routed");

	/* errors come back with their names */
	reply = call(ROOT, MGR_IFACE, "AddConnection", g_variant_new("(s@a{ss})", "west", options_west()),
		     "(o)", &error);
	g_assert_null(reply);
	char *name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, "org.freeswan.pluto1.Error.DuplicateName");
	g_assert_nonnull(strstr(error->message, "\"west\""));
	g_free(name);
	g_clear_error(&error);
	reply = call(ROOT, MGR_IFACE, "DeleteConnection", g_variant_new("(s)", "nosuch"), "()", &error);
	g_assert_null(reply);
	name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, "org.freeswan.pluto1.Error.UnknownName");
	g_free(name);
	g_clear_error(&error);
	reply = call(WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &error);
	g_assert_null(reply);
	name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, "org.freeswan.pluto1.Error.NotListening");
	g_free(name);
	g_clear_error(&error);

	/* Delete: the object goes away */
	reply = call(WEST, CONN_IFACE, "Delete", NULL, "()", &error);
	g_assert_no_error(error);
	g_variant_unref(reply);
	assert_event("removed " WEST);
	GDBusObject *gone = g_dbus_object_manager_get_object(manager, WEST);
	g_assert_null(gone);
	g_object_unref(iface);
}

static gboolean cached_listening(gconstpointer ud)
{
	GVariant *v = g_dbus_proxy_get_cached_property((GDBusProxy *)ud, "Listening");
	gboolean b = v && g_variant_get_boolean(v);
	if (v)
		g_variant_unref(v);
	return b;
}

static void test_manager_properties(void)
{
	GError *error = NULL;
	GDBusProxy *mgr = g_dbus_proxy_new_sync(conn, G_DBUS_PROXY_FLAGS_NONE, NULL, DEST, ROOT, MGR_IFACE,
						NULL, &error);
	g_assert_no_error(error);
	char *version = cached_string(mgr, "Version");
	g_assert_cmpstr(version, !=, "");
	g_free(version);
	GVariant *v = g_dbus_proxy_get_cached_property(mgr, "Listening");
	g_assert_false(g_variant_get_boolean(v));
	g_variant_unref(v);

	GVariant *reply = call(ROOT, MGR_IFACE, "Listen", NULL, "()", &error);
	g_assert_no_error(error);
	g_variant_unref(reply);
	g_assert_true(iterate_until(cached_listening, mgr));
	v = g_dbus_proxy_get_cached_property(mgr, "Interfaces");
	g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE("as")));
	g_assert_cmpuint(g_variant_n_children(v), >, 0);
	g_variant_unref(v);

	reply = call(ROOT, MGR_IFACE, "Status", NULL, "(s)", &error);
	g_assert_no_error(error);
	const char *text;
	g_variant_get(reply, "(&s)", &text);
	g_assert_true(g_str_has_prefix(text, "pluto "));
	g_assert_nonnull(strstr(text, "listening"));
	g_variant_unref(reply);
	g_object_unref(mgr);
}

static void test_shutdown(void)
{
	GError *error = NULL;
	GVariant *reply = call(ROOT, MGR_IFACE, "Shutdown", NULL, "()", &error);
	g_assert_no_error(error);
	g_variant_unref(reply);
	int status = -1;
	test_pluto_wait_exit(&status);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_false(name_has_owner());
}

int main(int argc, char **argv)
{
	GError *error = NULL;
	g_test_init(&argc, &argv, NULL);
	test_require_programs("dbus-daemon", "unshare", NULL);
	events = g_ptr_array_new_with_free_func(g_free);
	test_tmpdir_make("pluto-gdbus");
	test_bus_start();
	test_pluto_start();   /* waits for the bus name too */

	conn = test_bus_connect();
	g_assert_true(name_has_owner());

	manager = g_dbus_object_manager_client_new_sync(conn, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, DEST,
							ROOT, NULL, NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	g_signal_connect(manager, "object-added", G_CALLBACK(on_object_added), NULL);
	g_signal_connect(manager, "object-removed", G_CALLBACK(on_object_removed), NULL);
	guint sub = g_dbus_connection_signal_subscribe(conn, NULL, NULL, NULL, NULL, NULL,
						       G_DBUS_SIGNAL_FLAGS_NONE, on_signal, NULL, NULL);

	g_test_add_func("/dbus-gdbus/connection-lifecycle", test_connection_lifecycle);
	g_test_add_func("/dbus-gdbus/manager-properties", test_manager_properties);
	g_test_add_func("/dbus-gdbus/shutdown", test_shutdown);
	int r = g_test_run();

	g_dbus_connection_signal_unsubscribe(conn, sub);
	g_object_unref(manager);
	g_dbus_connection_close_sync(conn, NULL, NULL);
	g_object_unref(conn);
	test_pluto_stop();
	test_bus_stop();
	test_tmpdir_remove();
	g_ptr_array_unref(events);
	return r;
}
