/* The D-Bus API as a GLib client sees it (the NetworkManager plugin and
 * desktop tools are GDBus clients): a real pluto on a private dbus-daemon,
 * watched through GDBusObjectManagerClient and GDBusProxy property caches,
 * which only stay right when InterfacesAdded/Removed and PropertiesChanged
 * are emitted correctly. */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define DEST "org.freeswan.pluto1"
#define ROOT "/org/freeswan/pluto1"
#define MGR_IFACE "org.freeswan.pluto1.Manager"
#define CONN_IFACE "org.freeswan.pluto1.Connection"
#define WEST ROOT "/connection/west"

static char *tmpdir, *bus_address;
static GPid bus_pid, pluto_pid;
static GDBusConnection *conn;
static GDBusObjectManager *manager;

static char *path_in_tmp(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

/* a failed assertion aborts the test: its daemons must not outlive it */
static void die_with_parent(gpointer ud)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static char *replace(const char *text, const char *what, const char *with)
{
	char **parts = g_strsplit(text, what, -1);
	char *out = g_strjoinv(with, parts);
	g_strfreev(parts);
	return out;
}

static gboolean wait_for_file(const char *path)
{
	for (int i = 0; i < 200; i++) {
		if (g_file_test(path, G_FILE_TEST_EXISTS))
			return TRUE;
		g_usleep(50 * 1000);
	}
	return FALSE;
}

/* tests/dbus/bus.conf.in with the project's policy directory, as start_bus */
static void start_private_bus(void)
{
	const char *srcdir = g_getenv("SRCDIR");
	GError *error = NULL;
	char *in_text = NULL;
	g_assert_nonnull(srcdir);
	char *in = g_build_filename(srcdir, "tests", "dbus", "bus.conf.in", NULL);
	g_assert_true(g_file_get_contents(in, &in_text, NULL, &error));
	char *socket = path_in_tmp("bus-socket");
	char *policydir = g_build_filename(srcdir, "data", "dbus-1", NULL);
	char *t1 = replace(in_text, "@SOCKET@", socket);
	char *conf_text = replace(t1, "@POLICYDIR@", policydir);
	char *conf = path_in_tmp("bus.conf");
	g_assert_true(g_file_set_contents(conf, conf_text, -1, &error));
	char *config_arg = g_strdup_printf("--config-file=%s", conf);
	char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--nopidfile", NULL };
	g_assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
				    die_with_parent, NULL, &bus_pid, &error));
	g_assert_true(wait_for_file(socket));
	bus_address = g_strdup_printf("unix:path=%s", socket);
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
	g_free(config_arg);
	g_free(conf);
	g_free(conf_text);
	g_free(t1);
	g_free(policydir);
	g_free(socket);
	g_free(in);
	g_free(in_text);
}

/* pluto as start_pluto runs it: own network namespace with lo up, own
 * run directory and control socket, no fork, logs on stderr. */
static void start_pluto(void)
{
	GError *error = NULL;
	const char *pluto = g_getenv("PLUTO");
	g_assert_nonnull(pluto);
	char *rundir = path_in_tmp("run");
	char *sock = path_in_tmp("run/org.freeswan.pluto");
	char *secrets = path_in_tmp("ipsec.secrets");
	g_assert_true(g_file_set_contents(secrets, "", 0, &error));
	char *argv[] = { "unshare", "-n", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh",
			 (char *)pluto, "--nofork", "--stderrlog", "--rundir", rundir, "--ctlbase", sock,
			 "--secretsfile", secrets, NULL };
	g_assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
				    die_with_parent, NULL, &pluto_pid, &error));
	g_assert_true(wait_for_file(sock));
	g_free(rundir);
	g_free(sock);
	g_free(secrets);
}

static gboolean name_has_owner(void)
{
	GVariant *r = g_dbus_connection_call_sync(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
						  "org.freedesktop.DBus", "NameHasOwner",
						  g_variant_new("(s)", DEST), G_VARIANT_TYPE("(b)"),
						  G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean owned = FALSE;
	if (r) {
		g_variant_get(r, "(b)", &owned);
		g_variant_unref(r);
	}
	return owned;
}

/* --- waiting for what GLib delivers through the main loop --- */

typedef gboolean (*cond_fn)(gconstpointer ud);

static gboolean iterate_until(cond_fn cond, gconstpointer ud)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!cond(ud)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(2000);
	}
	return TRUE;
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
	for (int i = 0; i < 200; i++) {
		if (waitpid(pluto_pid, &status, WNOHANG) == pluto_pid)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_spawn_close_pid(pluto_pid);
	pluto_pid = 0;
	g_assert_false(name_has_owner());
}

static void cleanup_tmp(void)
{
	const char *files[] = { "run/pluto.pid", "run/org.freeswan.pluto", "run", "ipsec.secrets",
				"bus.conf", "bus-socket" };
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		char *p = path_in_tmp(files[i]);
		if (g_file_test(p, G_FILE_TEST_IS_DIR))
			g_rmdir(p);
		else
			g_unlink(p);
		g_free(p);
	}
	g_rmdir(tmpdir);
}

int main(int argc, char **argv)
{
	GError *error = NULL;
	g_test_init(&argc, &argv, NULL);
	char *daemon = g_find_program_in_path("dbus-daemon"), *unshare = g_find_program_in_path("unshare");
	gboolean have_tools = daemon && unshare;
	g_free(daemon);
	g_free(unshare);
	if (!have_tools) {
		g_printerr("dbus-daemon or unshare missing: skipped\n");
		return 77;
	}
	events = g_ptr_array_new_with_free_func(g_free);
	tmpdir = g_dir_make_tmp("pluto-gdbus-XXXXXX", &error);
	g_assert_no_error(error);
	start_private_bus();
	start_pluto();

	conn = g_dbus_connection_new_for_address_sync(bus_address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	for (int i = 0; i < 200 && !name_has_owner(); i++)
		g_usleep(50 * 1000);
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
	if (pluto_pid) {
		kill(pluto_pid, SIGTERM);
		waitpid(pluto_pid, NULL, 0);
	}
	kill(bus_pid, SIGTERM);
	waitpid(bus_pid, NULL, 0);
	cleanup_tmp();
	g_free(tmpdir);
	g_free(bus_address);
	g_ptr_array_unref(events);
	return r;
}
