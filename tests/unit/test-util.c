/* The daemons of the GLib unit tests (see test-util.h). */
#include "test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define DBUS_NAME_PLUTO "org.freeswan.pluto1"

static char *tmpdir, *bus_address, *pluto_socket;
static GPid bus_pid, pluto_pid;   /* 0 when not running */

void test_require_programs(const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	for (const char *name = first; name; name = va_arg(ap, const char *)) {
		char *found = g_find_program_in_path(name);
		if (!found) {
			g_printerr("%s missing: skipped\n", name);
			exit(77);
		}
		g_free(found);
	}
	va_end(ap);
}

const char *test_tmpdir_make(const char *prefix)
{
	GError *error = NULL;
	char *template = g_strdup_printf("%s-XXXXXX", prefix);
	tmpdir = g_dir_make_tmp(template, &error);
	g_assert_no_error(error);
	g_free(template);
	return tmpdir;
}

char *test_tmp_path(const char *name)
{
	g_assert_nonnull(tmpdir);
	return g_build_filename(tmpdir, name, NULL);
}

static void remove_tree(const char *path)
{
	if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		GDir *dir = g_dir_open(path, 0, NULL);
		const char *name;
		while (dir && (name = g_dir_read_name(dir))) {
			char *child = g_build_filename(path, name, NULL);
			remove_tree(child);
			g_free(child);
		}
		if (dir)
			g_dir_close(dir);
	}
	if (g_remove(path) < 0)
		g_printerr("could not remove %s\n", path);
}

void test_tmpdir_remove(void)
{
	remove_tree(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
	g_clear_pointer(&pluto_socket, g_free);
}

gboolean test_loop_until(test_cond_fn cond, gconstpointer ud, gboolean may_block)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!cond(ud)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_main_context_iteration(NULL, may_block);
		if (!may_block)
			g_usleep(2000);
	}
	return TRUE;
}

gboolean test_wait_for_file(const char *path)
{
	for (int i = 0; i < 200; i++) {
		if (g_file_test(path, G_FILE_TEST_EXISTS))
			return TRUE;
		g_usleep(50 * 1000);
	}
	return FALSE;
}

/* a failed assertion aborts the test: its daemons must not outlive it */
static void die_with_parent(gpointer unused)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Run argv (searched on PATH) with stdout and stderr appended to log_name
 * in the temporary directory. */
static GPid spawn_logged(char **argv, const char *log_name)
{
	GError *error = NULL;
	GPid pid = 0;
	char *log = test_tmp_path(log_name);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	g_assert_cmpint(fd, >=, 0);
	gboolean spawned = g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
						  die_with_parent, NULL, &pid, -1, fd, fd, &error);
	g_assert_no_error(error);
	g_assert_true(spawned);
	close(fd);
	g_free(log);
	return pid;
}

static void stop_daemon(GPid *pid)
{
	if (!*pid)
		return;
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	g_spawn_close_pid(*pid);
	*pid = 0;
}

static char *replace(const char *text, const char *what, const char *with)
{
	char **parts = g_strsplit(text, what, -1);
	char *out = g_strjoinv(with, parts);
	g_strfreev(parts);
	return out;
}

const char *test_bus_start(void)
{
	const char *srcdir = g_getenv("SRCDIR");
	GError *error = NULL;
	char *in_text = NULL;
	g_assert_nonnull(srcdir);
	char *in = g_build_filename(srcdir, "tests", "dbus", "bus.conf.in", NULL);
	g_assert_true(g_file_get_contents(in, &in_text, NULL, &error));
	char *socket = test_tmp_path("bus-socket");
	char *policydir = g_build_filename(srcdir, "data", "dbus-1", NULL);
	char *t1 = replace(in_text, "@SOCKET@", socket);
	char *conf_text = replace(t1, "@POLICYDIR@", policydir);
	char *conf = test_tmp_path("bus.conf");
	g_assert_true(g_file_set_contents(conf, conf_text, -1, &error));
	char *config_arg = g_strdup_printf("--config-file=%s", conf);
	char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--nopidfile", NULL };
	bus_pid = spawn_logged(argv, "dbus.log");
	if (!test_wait_for_file(socket))
		g_error("dbus-daemon did not create %s (its output: %s/dbus.log)", socket, tmpdir);
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
	return bus_address;
}

GDBusConnection *test_bus_connect(void)
{
	GError *error = NULL;
	g_assert_nonnull(bus_address);
	GDBusConnection *conn = g_dbus_connection_new_for_address_sync(bus_address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	return conn;
}

gboolean test_bus_name_has_owner(GDBusConnection *conn, const char *name)
{
	GVariant *r = g_dbus_connection_call_sync(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
						  "org.freedesktop.DBus", "NameHasOwner",
						  g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
						  G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean owned = FALSE;
	if (r) {
		g_variant_get(r, "(b)", &owned);
		g_variant_unref(r);
	}
	return owned;
}

void test_bus_stop(void)
{
	stop_daemon(&bus_pid);
	g_clear_pointer(&bus_address, g_free);
}

const char *test_pluto_start(void)
{
	GError *error = NULL;
	const char *pluto = g_getenv("PLUTO");
	g_assert_nonnull(pluto);
	char *rundir = test_tmp_path("run");
	char *secrets = test_tmp_path("ipsec.secrets");
	if (!g_file_test(secrets, G_FILE_TEST_EXISTS))
		g_assert_true(g_file_set_contents(secrets, "", 0, &error));
	pluto_socket = test_tmp_path("run/org.freeswan.pluto");
	/* with a bus running, the NULL before "--nodbus" ends the list */
	char *argv[] = { "unshare", "-n", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh",
			 (char *)pluto, "--nofork", "--stderrlog", "--rundir", rundir, "--ctlbase", pluto_socket,
			 "--secretsfile", secrets, bus_address ? NULL : "--nodbus", NULL };
	pluto_pid = spawn_logged(argv, "pluto.log");
	if (!test_wait_for_file(pluto_socket))
		g_error("pluto did not create %s (its output: %s/pluto.log)", pluto_socket, tmpdir);
	if (bus_address) {
		GDBusConnection *conn = test_bus_connect();
		for (int i = 0; i < 200 && !test_bus_name_has_owner(conn, DBUS_NAME_PLUTO); i++)
			g_usleep(50 * 1000);
		if (!test_bus_name_has_owner(conn, DBUS_NAME_PLUTO))
			g_error("pluto did not take " DBUS_NAME_PLUTO " (its output: %s/pluto.log)", tmpdir);
		g_dbus_connection_close_sync(conn, NULL, NULL);
		g_object_unref(conn);
	}
	g_free(rundir);
	g_free(secrets);
	return pluto_socket;
}

void test_pluto_signal(int sig)
{
	g_assert_cmpint(pluto_pid, !=, 0);
	kill(pluto_pid, sig);
}

gboolean test_pluto_wait_exit(int *wstatus)
{
	for (int i = 0; i < 200 && pluto_pid; i++) {
		if (waitpid(pluto_pid, wstatus, WNOHANG) == pluto_pid) {
			g_spawn_close_pid(pluto_pid);
			pluto_pid = 0;
			return TRUE;
		}
		g_usleep(50 * 1000);
	}
	return FALSE;
}

void test_pluto_stop(void)
{
	stop_daemon(&pluto_pid);
}
