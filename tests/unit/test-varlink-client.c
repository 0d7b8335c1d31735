/* A Varlink client written with GIO against a real pluto ($PLUTO), started
 * by test-util like tests/lib/common.sh does it: its own run directory and
 * socket in a temporary directory, --nofork --stderrlog --nodbus, inside
 * `unshare -n` so it never touches the host's IKE port. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-c/json.h>

#include "test-util.h"

static const char *sock_path;

static GSocketConnection *connect_pluto(void)
{
	GError *error = NULL;
	GSocketClient *client = g_socket_client_new();
	GSocketAddress *addr = g_unix_socket_address_new(sock_path);
	GSocketConnection *conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &error);
	g_assert_no_error(error);
	g_socket_set_timeout(g_socket_connection_get_socket(conn), 10);
	g_object_unref(addr);
	g_object_unref(client);
	return conn;
}

static void send_request(GSocketConnection *conn, const char *json)
{
	GError *error = NULL;
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	g_output_stream_write_all(out, json, strlen(json) + 1 /* the NUL */, NULL, NULL, &error);
	g_assert_no_error(error);
}

/* One NUL-terminated reply, parsed; bytes past the NUL stay for next time. */
static json_object *read_reply(GSocketConnection *conn, GString *pending)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	for (;;) {
		const char *nul = memchr(pending->str, '\0', pending->len);
		if (nul) {
			json_object *reply = json_tokener_parse(pending->str);
			g_assert_nonnull(reply);
			g_string_erase(pending, 0, (gssize)(nul - pending->str) + 1);
			return reply;
		}
		char buf[4096];
		GError *error = NULL;
		gssize n = g_input_stream_read(in, buf, sizeof(buf), NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(n, >, 0);
		g_string_append_len(pending, buf, n);
	}
}

static json_object *call(const char *json)
{
	GSocketConnection *conn = connect_pluto();
	GString *pending = g_string_new(NULL);
	send_request(conn, json);
	json_object *reply = read_reply(conn, pending);
	g_string_free(pending, TRUE);
	g_object_unref(conn);
	return reply;
}

/* a string at a path of object keys, or NULL */
static const char *get_str(json_object *o, const char *k1, const char *k2)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_get_info(void)
{
	json_object *r = call("{\"method\":\"org.varlink.service.GetInfo\"}");
	g_assert_cmpstr(get_str(r, "error", NULL), ==, NULL);
	g_assert_cmpstr(get_str(r, "parameters", "product"), ==, "pluto");
	json_object *ifaces = json_object_object_get(json_object_object_get(r, "parameters"), "interfaces");
	g_assert_cmpint(json_object_array_length(ifaces), ==, 2);
	g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(ifaces, 1)), ==, "org.freeswan.pluto");
	json_object_put(r);
}

static void test_add_connection(void)
{
	json_object *r = call("{\"method\":\"org.freeswan.pluto.AddConnection\",\"parameters\":{\"name\":\"gio\","
			      "\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.2\",\"pfs\":\"yes\"}}}");
	g_assert_cmpstr(get_str(r, "error", NULL), ==, NULL);
	g_assert_cmpstr(json_object_to_json_string(json_object_object_get(r, "parameters")), ==, "{ }");
	json_object_put(r);
}

static void test_status(void)
{
	json_object *r = call("{\"method\":\"org.freeswan.pluto.Status\"}");
	json_object *p = json_object_object_get(r, "parameters");
	g_assert_false(json_object_get_boolean(json_object_object_get(p, "listening")));
	json_object *conns = json_object_object_get(p, "connections");
	g_assert_cmpint(json_object_array_length(conns), ==, 1);
	json_object *c = json_object_array_get_idx(conns, 0);
	g_assert_cmpstr(get_str(c, "name", NULL), ==, "gio");
	g_assert_cmpstr(get_str(c, "options", "pfs"), ==, "yes");
	g_assert_cmpstr(get_str(c, "routing", NULL), ==, "unrouted");
	g_assert_nonnull(strstr(get_str(p, "text", NULL), "\"gio\": 127.0.0.1:500...192.0.2.2:500"));
	json_object_put(r);
}

static void test_error_reply(void)
{
	json_object *r = call("{\"method\":\"org.freeswan.pluto.DeleteConnection\",\"parameters\":{\"name\":\"nope\"}}");
	g_assert_cmpstr(get_str(r, "error", NULL), ==, "org.freeswan.pluto.UnknownName");
	g_assert_nonnull(strstr(get_str(r, "parameters", "message"), "nope"));
	json_object_put(r);
	r = call("{\"method\":\"org.freeswan.pluto.Route\",\"parameters\":{\"name\":true}}");
	g_assert_cmpstr(get_str(r, "error", NULL), ==, "org.varlink.service.InvalidParameter");
	g_assert_cmpstr(get_str(r, "parameters", "parameter"), ==, "name");
	json_object_put(r);
}

static void test_monitor(void)
{
	GSocketConnection *mon = connect_pluto();
	GString *pending = g_string_new(NULL);
	send_request(mon, "{\"method\":\"org.freeswan.pluto.Monitor\",\"more\":true}");
	json_object *r = read_reply(mon, pending);
	g_assert_true(json_object_get_boolean(json_object_object_get(r, "continues")));
	g_assert_cmpstr(get_str(json_object_object_get(r, "parameters"), "change", "property"), ==, "Monitor");
	json_object_put(r);

	json_object_put(call("{\"method\":\"org.freeswan.pluto.AddConnection\",\"parameters\":{\"name\":\"watched\","
			     "\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.3\"}}}"));
	/* progress lines may come first; the connectionAdded must come */
	gboolean seen = FALSE;
	for (int i = 0; i < 10 && !seen; i++) {
		r = read_reply(mon, pending);
		g_assert_true(json_object_get_boolean(json_object_object_get(r, "continues")));
		json_object *change = json_object_object_get(json_object_object_get(r, "parameters"), "change");
		if (g_strcmp0(get_str(change, "event", NULL), "connectionAdded") == 0) {
			g_assert_cmpstr(get_str(change, "connection", "name"), ==, "watched");
			g_assert_cmpstr(get_str(change, "connectionName", NULL), ==, "watched");
			seen = TRUE;
		}
		json_object_put(r);
	}
	g_assert_true(seen);
	g_string_free(pending, TRUE);
	g_object_unref(mon);
}

static void test_sigterm(void)
{
	int status = -1;
	test_pluto_signal(SIGTERM);
	g_assert_true(test_pluto_wait_exit(&status));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_false(g_file_test(sock_path, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_tmpdir_make("pluto-varlink");
	sock_path = test_pluto_start();   /* no bus: --nodbus */
	g_test_add_func("/varlink/get-info", test_get_info);
	g_test_add_func("/varlink/add-connection", test_add_connection);
	g_test_add_func("/varlink/status", test_status);
	g_test_add_func("/varlink/error-reply", test_error_reply);
	g_test_add_func("/varlink/monitor", test_monitor);
	g_test_add_func("/varlink/sigterm", test_sigterm);
	int r = g_test_run();
	test_pluto_stop();
	test_tmpdir_remove();
	return r;
}
