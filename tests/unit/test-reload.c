/* Reload and ReplaceConnection in the control core (API.md sections 2 and
 * 5), driven with configurations built by hand (the loader has its own
 * tests): unchanged connections untouched, changed ones replaced, gone
 * ones deleted, new ones added; API connections never touched; any error
 * changes nothing. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/config_apply.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/ipsec_conf.h"
#include "daemon/log.h"
#include "common/debug_class.h"
#include "daemon/secrets.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SETTINGS 8

/* A conn of file "f" at line, from "key=value" words. */
struct test_conn {
	struct conf_conn cc;
	struct conf_setting settings[MAX_SETTINGS];
};

static void conn_init(struct test_conn *t, const char *name, unsigned line, const char *const *kv)
{
	memset(t, 0, sizeof(*t));
	t->cc.name = (char *)name;
	t->cc.file = "f";
	t->cc.line = line;
	t->cc.settings = t->settings;
	for (size_t i = 0; kv[i]; i++) {
		g_assert_cmpuint(i, <, MAX_SETTINGS);
		const char *eq = strchr(kv[i], '=');
		t->settings[i].key = g_strndup(kv[i], (gsize)(eq - kv[i]));
		t->settings[i].value = g_strdup(eq + 1);
		t->settings[i].file = "f";
		t->settings[i].line = line + 1 + (unsigned)i;
		if (streq(t->settings[i].key, "auto") && streq(t->settings[i].value, "ignore"))
			t->cc.ignore = true;
		t->cc.n_settings++;
	}
}

static void conn_clear(struct test_conn *t)
{
	for (size_t i = 0; i < t->cc.n_settings; i++) {
		g_free(t->settings[i].key);
		g_free(t->settings[i].value);
	}
}

/* Reload with the conns given (a NULL-terminated list). */
static int reload(struct test_conn *const *conns, struct ctl_reload_result *res, struct ctl_error *err)
{
	struct conf_conn list[16];
	size_t n = 0;
	for (; conns[n]; n++)
		list[n] = conns[n]->cc;
	struct ipsec_conf conf = {
		.setup = { .uniqueids = -1, .listen = -1 },
		.conns = list,
		.n_conns = n,
	};
	return ctl_reload_apply(&conf, res, err);
}

static char *joined(const struct ctl_name_list *l)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t i = 0; i < l->n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", l->names[i]);
	return sb.data ? strbuf_steal(&sb) : xstrdup("");
}

static void check_result(const struct ctl_reload_result *res, const char *added, const char *changed,
			 const char *removed)
{
	char *a = joined(&res->added), *c = joined(&res->changed), *r = joined(&res->removed);
	g_assert_cmpstr(a, ==, added);
	g_assert_cmpstr(c, ==, changed);
	g_assert_cmpstr(r, ==, removed);
	free(a);
	free(c);
	free(r);
}

static const char *const HOSTS_A[] = { "left=127.0.0.1", "right=192.0.2.1", NULL };
static const char *const HOSTS_B[] = { "left=127.0.0.1", "right=192.0.2.2", "rightsubnet=10.2.0.0/16", NULL };
static const char *const HOSTS_B2[] = { "left=127.0.0.1", "right=192.0.2.2", "rightsubnet=10.3.0.0/16", NULL };
static const char *const HOSTS_C[] = { "left=127.0.0.1", "right=192.0.2.3", NULL };
static const char *const HOSTS_D[] = { "left=127.0.0.1", "right=192.0.2.4", "auto=route", NULL };
static const char *const HOSTS_E[] = { "left=127.0.0.1", "right=192.0.2.5", "auto=ignore", NULL };
static const char *const BAD_PFS[] = { "left=127.0.0.1", "right=192.0.2.6", "pfs=perhaps", NULL };
static const char *const NOT_OURS[] = { "left=192.0.2.7", "right=192.0.2.8", NULL };
static const char *const SAME_AS_API[] = { "left=127.0.0.1", "right=192.0.2.99", NULL };

static void test_reload(void)
{
	struct ctl_reload_result res;
	struct ctl_error err = { 0 };
	struct test_conn a, a_moved, b, b2, c, d, e, bad, not_ours, api_named;
	conn_init(&a, "a", 1, HOSTS_A);
	conn_init(&a_moved, "a", 3, HOSTS_A);
	conn_init(&b, "b", 5, HOSTS_B);
	conn_init(&b2, "b", 7, HOSTS_B2);
	conn_init(&c, "c", 9, HOSTS_C);
	conn_init(&d, "d", 12, HOSTS_D);
	conn_init(&e, "e", 15, HOSTS_E);
	conn_init(&bad, "bad", 20, BAD_PFS);
	conn_init(&not_ours, "far", 25, NOT_OURS);
	conn_init(&api_named, "api1", 30, SAME_AS_API);

	/* first load: everything new; the ignored conn is not loaded */
	struct test_conn *first[] = { &a, &b, &c, &e, NULL };
	g_assert_cmpint(reload(first, &res, &err), ==, 0);
	check_result(&res, "a b c", "", "");
	ctl_reload_result_free(&res);
	g_assert_null(connection_by_name("e"));
	g_assert_cmpstr(connection_by_name("b")->source, ==, "f:5");

	/* an API connection, and a as it is when the peer is up: routed */
	const char *keys[] = { "left", "right" }, *values[] = { "127.0.0.1", "192.0.2.50" };
	g_assert_cmpint(ctl_add_connection("api1", keys, values, 2, NULL, &err), ==, 0);
	g_assert_cmpstr(connection_by_name("api1")->source, ==, CONNECTION_SOURCE_API);
	g_assert_cmpint(ctl_route("a", &err), ==, 0);
	g_assert_cmpint(ctl_route("b", &err), ==, 0);
	struct connection *a_before = connection_by_name("a");

	/* a unchanged (moved two lines down), b changed, c gone, d new
	 * (auto=route), api1 held by the API: skipped */
	struct test_conn *second[] = { &a_moved, &b2, &d, &api_named, &e, NULL };
	g_assert_cmpint(reload(second, &res, &err), ==, 0);
	check_result(&res, "d", "b", "c");
	ctl_reload_result_free(&res);
	g_assert_true(connection_by_name("a") == a_before);
	g_assert_cmpint(a_before->routing, ==, RT_PROSPECTIVE);     /* untouched */
	g_assert_cmpstr(a_before->source, ==, "f:3");               /* only its Source moved */
	g_assert_cmpint(connection_by_name("b")->routing, ==, RT_UNROUTED);   /* replaced */
	g_assert_cmpstr(connection_by_name("b")->source, ==, "f:7");
	g_assert_null(connection_by_name("c"));
	g_assert_cmpint(connection_by_name("d")->routing, ==, RT_PROSPECTIVE); /* its auto=route */
	g_assert_cmpstr(connection_by_name("api1")->source, ==, CONNECTION_SOURCE_API);
	g_assert_cmpuint(connections_count(), ==, 4);

	/* the same again: nothing to do */
	g_assert_cmpint(reload(second, &res, &err), ==, 0);
	check_result(&res, "", "", "");
	ctl_reload_result_free(&res);

	/* a conn the option parser refuses: an error naming its FILE:LINE,
	 * and nothing changes (d would go) */
	struct test_conn *with_bad[] = { &a, &bad, NULL };
	g_assert_cmpint(reload(with_bad, &res, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_CONFIG);
	g_assert_true(g_str_has_prefix(err.message, "f:20: conn \"bad\": "));
	g_assert_nonnull(strstr(err.message, "'pfs'"));
	g_assert_cmpuint(connections_count(), ==, 4);
	g_assert_nonnull(connection_by_name("d"));
	g_assert_cmpstr(connection_by_name("a")->source, ==, "f:3");

	/* a bad secrets file stops the reload before any connection change */
	char path[] = "/tmp/test-reload-secrets.XXXXXX";
	int fd = mkstemp(path);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, "this is : not a secret\n", 23), ==, 23);
	close(fd);
	secrets_set_path(path);
	struct test_conn *only_a[] = { &a, NULL };
	g_assert_cmpint(reload(only_a, &res, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_SECRETS);
	g_assert_cmpuint(connections_count(), ==, 4);
	unlink(path);
	secrets_set_path("/nonexistent/ipsec.secrets");   /* missing: only noted */

	/* now auto=ignore: e (never loaded) stays out, a goes as removed */
	conn_clear(&a);
	const char *const a_ignored[] = { "left=127.0.0.1", "right=192.0.2.1", "auto=ignore", NULL };
	conn_init(&a, "a", 1, a_ignored);
	struct test_conn *third[] = { &a, &b2, &d, NULL };
	g_assert_cmpint(reload(third, &res, &err), ==, 0);
	check_result(&res, "", "", "a");
	ctl_reload_result_free(&res);
	g_assert_nonnull(connection_by_name("api1"));   /* never a reload's */

	/* a conn neither of whose ends is this host is skipped, as at
	 * start-up, not an error of the file; one loaded before that is no
	 * longer ours goes as removed */
	struct test_conn *with_far[] = { &b2, &d, &not_ours, NULL };
	g_assert_cmpint(reload(with_far, &res, &err), ==, 0);
	check_result(&res, "", "", "");
	ctl_reload_result_free(&res);
	g_assert_null(connection_by_name("far"));
	struct test_conn d_far;
	conn_init(&d_far, "d", 12, NOT_OURS);
	struct test_conn *d_moved_away[] = { &b2, &d_far, NULL };
	g_assert_cmpint(reload(d_moved_away, &res, &err), ==, 0);
	check_result(&res, "", "", "d");
	ctl_reload_result_free(&res);
	g_assert_null(connection_by_name("d"));
	conn_clear(&d_far);

	/* config setup plutodebug applies on reload (only when it changed) */
	struct ipsec_conf with_debug = { .setup = { .uniqueids = -1, .listen = -1, .plutodebug = "control crypt" } };
	g_assert_cmpint(ctl_reload_apply(&with_debug, &res, &err), ==, 0);
	ctl_reload_result_free(&res);
	g_assert_cmpuint(debug_global, ==, DBG_CONTROL | DBG_CRYPT);
	debug_global = 0;

	struct test_conn *all[] = { &a, &a_moved, &b, &b2, &c, &d, &e, &bad, &not_ours, &api_named };
	for (size_t i = 0; i < N(all); i++)
		conn_clear(all[i]);
	ctl_delete_all();
}

static void test_replace(void)
{
	struct ctl_error err = { 0 };
	struct connection *c = NULL, *again = NULL;
	const char *keys[] = { "left", "right", "rightsubnet" };
	const char *v1[] = { "127.0.0.1", "192.0.2.2", "10.1.0.0/16" };
	const char *v2[] = { "127.0.0.1", "192.0.2.2", "10.2.0.0/16" };
	const char *bad[] = { "127.0.0.1", "192.0.2.2", "10.2.0.0/33" };

	/* replace of a new name adds it */
	g_assert_cmpint(ctl_replace_connection("r", keys, v1, 3, &c, &err), ==, 0);
	g_assert_cmpint(ctl_route("r", &err), ==, 0);
	/* the same options (spelled differently: defaults given) keep it */
	const char *keys_more[] = { "left", "right", "rightsubnet", "pfs" };
	const char *v1_more[] = { "127.0.0.1", "192.0.2.2", "10.1.0.0/16", "no" };
	g_assert_cmpint(ctl_replace_connection("r", keys_more, v1_more, 4, &again, &err), ==, 0);
	g_assert_true(again == c);
	g_assert_cmpint(c->routing, ==, RT_PROSPECTIVE);
	/* a bad map changes nothing */
	g_assert_cmpint(ctl_replace_connection("r", keys, bad, 3, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	g_assert_true(connection_by_name("r") == c);
	g_assert_cmpint(c->routing, ==, RT_PROSPECTIVE);
	/* changed: replaced (the old one unrouted and gone) */
	g_assert_cmpint(ctl_replace_connection("r", keys, v2, 3, &again, &err), ==, 0);
	g_assert_cmpint(again->routing, ==, RT_UNROUTED);
	g_assert_cmpuint(connections_count(), ==, 1);

	/* auto=ignore is for files only, through every door */
	const char *ikeys[] = { "left", "right", "auto" };
	const char *ivalues[] = { "127.0.0.1", "192.0.2.3", "ignore" };
	g_assert_cmpint(ctl_add_connection("i", ikeys, ivalues, 3, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	g_assert_nonnull(strstr(err.message, "'auto'"));
	g_assert_cmpint(ctl_replace_connection("r", ikeys, ivalues, 3, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	g_assert_nonnull(connection_by_name("r"));
	ctl_delete_all();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	secrets_set_path("/nonexistent/ipsec.secrets");
	g_test_add_func("/reload/apply", test_reload);
	g_test_add_func("/reload/replace", test_replace);
	return g_test_run();
}
