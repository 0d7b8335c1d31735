/* Daemons for the GLib unit tests, run the way tests/lib/common.sh runs
 * them for the integration tests: one temporary directory per test
 * program, a private dbus-daemon from tests/dbus/bus.conf.in with the
 * project's policy (start_bus), and pluto under `unshare -n` with its own
 * run directory, socket and secrets file (start_pluto). One bus and one
 * pluto per test program; the helper keeps them. Daemon output goes to
 * dbus.log and pluto.log in the temporary directory, which a failed
 * assertion leaves behind. Every daemon dies with the test (a failed
 * assertion aborts it before any cleanup). */
#pragma once
#include <gio/gio.h>
#include <glib.h>

/* Exit 77 (meson's "skipped") unless every program (NULL-terminated list)
 * is on PATH. */
void test_require_programs(const char *first, ...) G_GNUC_NULL_TERMINATED;

/* The temporary directory: prefix-XXXXXX under the system's tmp. */
const char *test_tmpdir_make(const char *prefix);
/* A name inside it (g_free). */
char *test_tmp_path(const char *name);
/* Remove it with everything in it. */
void test_tmpdir_remove(void);

/* Iterate the default GLib main context until cond(ud) holds; FALSE after
 * 10 s. may_block: each iteration may wait for a source (the caller has a
 * timer that wakes it), else it polls every 2 ms. */
typedef gboolean (*test_cond_fn)(gconstpointer ud);
gboolean test_loop_until(test_cond_fn cond, gconstpointer ud, gboolean may_block);

/* Poll for path to exist, up to 10 s. */
gboolean test_wait_for_file(const char *path);

/* Start the private bus and export DBUS_SYSTEM_BUS_ADDRESS; returns that
 * address (valid until test_bus_stop). */
const char *test_bus_start(void);
/* A new client connection to it (g_object_unref). */
GDBusConnection *test_bus_connect(void);
gboolean test_bus_name_has_owner(GDBusConnection *conn, const char *name);
void test_bus_stop(void);

/* Start $PLUTO (--nofork --stderrlog, --nodbus unless the bus runs) and
 * wait for its Varlink socket and, with a bus, for its bus name. Returns
 * the socket path (valid until test_tmpdir_remove). */
const char *test_pluto_start(void);
void test_pluto_signal(int sig);
/* Wait up to 10 s for pluto to exit: TRUE with its waitpid status. */
gboolean test_pluto_wait_exit(int *wstatus);
/* SIGTERM it if it still runs, and reap it. */
void test_pluto_stop(void);
