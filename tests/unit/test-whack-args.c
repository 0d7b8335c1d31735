/* whack's option table (clients/whack/whack-args.c): the FreeS/WAN flags
 * map to the right request fields and API.md section 1 keywords, and
 * every bad command line is refused with a message naming the flag. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "../../clients/whack/whack-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* argv from a NULL-terminated list, with "whack" as argv[0] */
static int parse_list(struct whack_request *req, char *err, size_t errlen, const char *first, ...)
{
	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)"whack";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return whack_parse(argc, argv, req, err, errlen);
}
#define PARSE(req, err, ...) parse_list((req), (err), sizeof(err), __VA_ARGS__, NULL)

static const char *lookup(const char *const *keys, const char *const *values, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return values[i];
	return NULL;
}

static void test_connection_mapping(void)
{
	struct whack_request req;
	char err[256] = "";
	int r = PARSE(&req, err, "--name", "west", "--host", "127.0.0.1", "--id", "@west",
		      "--client", "10.0.1.0/24", "--nexthop", "127.0.0.2", "--ikeport", "4500",
		      "--updown", "/bin/true x", "--to", "--host", "192.0.2.2", "--id", "@east",
		      "--psk", "--encrypt", "--tunnel", "--pfs", "--compress",
		      "--ikelifetime", "3600", "--ipseclifetime", "7200", "--rekeymargin", "60",
		      "--rekeyfuzz", "50", "--keyingtries", "0", "--dontrekey");
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(r, ==, 0);
	const char *keys[WHACK_MAX_CONN_OPTIONS], *values[WHACK_MAX_CONN_OPTIONS];
	size_t n = whack_connection_options(&req, keys, values, N(keys));
	g_assert_cmpstr(lookup(keys, values, n, "left"), ==, "127.0.0.1");
	g_assert_cmpstr(lookup(keys, values, n, "leftid"), ==, "@west");
	g_assert_cmpstr(lookup(keys, values, n, "leftsubnet"), ==, "10.0.1.0/24");
	g_assert_cmpstr(lookup(keys, values, n, "leftnexthop"), ==, "127.0.0.2");
	g_assert_cmpstr(lookup(keys, values, n, "leftikeport"), ==, "4500");
	g_assert_cmpstr(lookup(keys, values, n, "leftupdown"), ==, "/bin/true x");
	g_assert_cmpstr(lookup(keys, values, n, "right"), ==, "192.0.2.2");
	g_assert_cmpstr(lookup(keys, values, n, "rightid"), ==, "@east");
	g_assert_null(lookup(keys, values, n, "rightsubnet"));
	g_assert_cmpstr(lookup(keys, values, n, "authby"), ==, "secret");
	g_assert_cmpstr(lookup(keys, values, n, "phase2"), ==, "esp");
	g_assert_cmpstr(lookup(keys, values, n, "type"), ==, "tunnel");
	g_assert_cmpstr(lookup(keys, values, n, "pfs"), ==, "yes");
	g_assert_cmpstr(lookup(keys, values, n, "compress"), ==, "yes");
	g_assert_cmpstr(lookup(keys, values, n, "ikelifetime"), ==, "3600");
	g_assert_cmpstr(lookup(keys, values, n, "salifetime"), ==, "7200");
	g_assert_cmpstr(lookup(keys, values, n, "rekeymargin"), ==, "60");
	g_assert_cmpstr(lookup(keys, values, n, "rekeyfuzz"), ==, "50%");
	g_assert_cmpstr(lookup(keys, values, n, "keyingtries"), ==, "0");
	g_assert_cmpstr(lookup(keys, values, n, "rekey"), ==, "no");
	whack_request_free(&req);
}

/* libreswan's --dpddelay/--dpdtimeout/--dpdaction reach the DPD keywords */
static void test_dpd_mapping(void)
{
	struct whack_request req;
	char err[256] = "";
	g_assert_cmpint(PARSE(&req, err, "--name", "c", "--host", "127.0.0.1", "--to", "--host", "192.0.2.2",
			      "--dpddelay", "30", "--dpdtimeout", "2m", "--dpdaction", "restart"), ==, 0);
	const char *keys[WHACK_MAX_CONN_OPTIONS], *values[WHACK_MAX_CONN_OPTIONS];
	size_t n = whack_connection_options(&req, keys, values, N(keys));
	g_assert_cmpstr(lookup(keys, values, n, "dpddelay"), ==, "30");
	g_assert_cmpstr(lookup(keys, values, n, "dpdtimeout"), ==, "2m");
	g_assert_cmpstr(lookup(keys, values, n, "dpdaction"), ==, "restart");
	whack_request_free(&req);
	g_assert_cmpint(PARSE(&req, err, "--name", "c", "--host", "127.0.0.1", "--to", "--host", "192.0.2.2"), ==, 0);
	n = whack_connection_options(&req, keys, values, N(keys));
	g_assert_null(lookup(keys, values, n, "dpddelay"));
	g_assert_null(lookup(keys, values, n, "dpdaction"));
	whack_request_free(&req);
	err[0] = '\0';
	g_assert_cmpint(PARSE(&req, err, "--name", "c", "--host", "127.0.0.1", "--to", "--host", "192.0.2.2",
			      "--dpddelay"), !=, 0);
	g_assert_nonnull(strstr(err, "dpddelay"));
	whack_request_free(&req);
}

static void test_policy_defaults(void)
{
	struct whack_request req;
	char err[256] = "";
	g_assert_cmpint(PARSE(&req, err, "--name", "c", "--host", "127.0.0.1", "--to", "--host", "%any",
			      "--rsasig", "--psk", "--authenticate"), ==, 0);
	const char *keys[WHACK_MAX_CONN_OPTIONS], *values[WHACK_MAX_CONN_OPTIONS];
	size_t n = whack_connection_options(&req, keys, values, N(keys));
	g_assert_cmpstr(lookup(keys, values, n, "authby"), ==, "secret|rsasig");
	g_assert_cmpstr(lookup(keys, values, n, "phase2"), ==, "ah");
	g_assert_cmpstr(lookup(keys, values, n, "type"), ==, "transport");
	g_assert_cmpstr(lookup(keys, values, n, "pfs"), ==, "no");
	g_assert_cmpstr(lookup(keys, values, n, "compress"), ==, "no");
	g_assert_null(lookup(keys, values, n, "rekey"));
	whack_request_free(&req);

	g_assert_cmpint(PARSE(&req, err, "--name", "c", "--host", "127.0.0.1", "--to", "--host", "192.0.2.2"), ==, 0);
	n = whack_connection_options(&req, keys, values, N(keys));
	g_assert_null(lookup(keys, values, n, "authby"));
	g_assert_cmpstr(lookup(keys, values, n, "phase2"), ==, "none");
	whack_request_free(&req);
}

static void test_actions(void)
{
	struct whack_request req;
	char err[256] = "";
	g_assert_cmpint(PARSE(&req, err, "--initiate", "--name", "x", "--asynchronous", "--label", "L",
			      "--ctlbase", "/tmp/s"), ==, 0);
	g_assert_true(req.initiate && req.asynchronous);
	g_assert_cmpstr(req.name, ==, "x");
	g_assert_cmpstr(req.label, ==, "L");
	g_assert_cmpstr(req.ctlbase, ==, "/tmp/s");
	g_assert_false(req.has_conn);
	whack_request_free(&req);

	g_assert_cmpint(PARSE(&req, err, "--deletestate", "17"), ==, 0);
	g_assert_true(req.has_deletestate);
	g_assert_cmpuint(req.deletestate, ==, 17);
	whack_request_free(&req);

	g_assert_cmpint(PARSE(&req, err, "--debug-none", "--debug-raw", "--debug-private", "--name", "c"), ==, 0);
	g_assert_cmpuint(req.n_debug, ==, 3);
	g_assert_cmpstr(req.debug[0], ==, "none");
	g_assert_cmpstr(req.debug[1], ==, "raw");
	g_assert_cmpstr(req.debug[2], ==, "private");
	whack_request_free(&req);

	g_assert_cmpint(PARSE(&req, err, "--keyid", "@east", "--pubkeyrsa=0sAQN"), ==, 0);
	g_assert_cmpstr(req.keyid, ==, "@east");
	g_assert_cmpstr(req.pubkeyrsa, ==, "0sAQN");
	whack_request_free(&req);

	const char *singles[] = { "--listen", "--unlisten", "--status", "--shutdown", "--help", "--version" };
	for (size_t i = 0; i < N(singles); i++) {
		g_assert_cmpint(PARSE(&req, err, singles[i]), ==, 0);
		whack_request_free(&req);
	}
}

/* each bad command line, and a word its message must contain */
static void test_rejections(void)
{
	static const struct { const char *argv[12]; const char *needle; } cases[] = {
		{ { "--bogus" }, "unknown flag \"--bogus\"" },
		{ { "stray" }, "unexpected argument \"stray\"" },
		{ { "--name" }, "--name needs a value" },
		{ { "--name", "x" }, "no action specified" },
		{ { "--listen=yes" }, "--listen takes no value" },
		{ { "--initiate" }, "--initiate needs --name" },
		{ { "--route" }, "--route needs --name" },
		{ { "--delete" }, "--delete needs --name" },
		{ { "--asynchronous", "--listen" }, "--asynchronous only goes with --initiate" },
		{ { "--deletestate", "x1" }, "--deletestate needs a number" },
		{ { "--listen", "--listen" }, "--listen given twice" },
		{ { "--listen", "--unlisten" }, "conflicts" },
		{ { "--host", "127.0.0.1" }, "needs --name" },
		{ { "--name", "c", "--host", "127.0.0.1" }, "lacks --to" },
		{ { "--name", "c", "--to", "--host", "1.2.3.4" }, "missing --host before --to" },
		{ { "--name", "c", "--host", "1.2.3.4", "--to" }, "missing --host after --to" },
		{ { "--name", "c", "--host", "1.2.3.4", "--host", "1.2.3.5" }, "--host given twice" },
		{ { "--name", "c", "--dnskeyondemand" }, "DNS" },
		{ { "--name", "c", "--disablearrivalcheck" }, "not supported" },
		{ { "--oppohere", "1.2.3.4" }, "opportunistic" },
		{ { "--keyid", "@a", "--addkey", "--pubkeyrsa", "0sAQ" }, "--addkey is not supported" },
		{ { "--keyid", "@a" }, "--keyid needs --pubkeyrsa" },
		{ { "--pubkeyrsa", "0sAQ" }, "--pubkeyrsa needs --keyid" },
		{ { "--name", "c", "--host", "1.2.3.4", "--to", "--host", "1.2.3.5", "--encrypt", "--authenticate" }, "--encrypt with --authenticate" },
		{ { "--name", "c", "--host", "1.2.3.4", "--to", "--host", "1.2.3.5", "--ikelifetime", "1h" }, "--ikelifetime needs a number" },
		{ { "--name", "c", "--host", "1.2.3.4", "--to", "--host", "1.2.3.5", "--ipv6" }, "IPv6" },
		{ { "--name", "c", "--host", "1.2.3.4", "--client", "fd00::/64", "--to", "--host", "1.2.3.5", "--tunnelipv4" }, "client subnet" },
		{ { "--optionsfrom", "/nonexistent/whack-opts" }, "/nonexistent/whack-opts" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char *argv[14] = { (char *)"whack" };
		int argc = 1;
		for (size_t k = 0; cases[i].argv[k]; k++)
			argv[argc++] = (char *)cases[i].argv[k];
		struct whack_request req;
		char err[512] = "";
		int r = whack_parse(argc, argv, &req, err, sizeof(err));
		if (r == 0 || !strstr(err, cases[i].needle))
			g_error("case %zu (%s): r=%d err=\"%s\", expected \"%s\"", i, cases[i].argv[0], r, err,
				cases[i].needle);
		whack_request_free(&req);
	}
}

static void test_optionsfrom(void)
{
	char *dir = g_dir_make_tmp("whack-args-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *file = g_build_filename(dir, "opts", NULL);
	char *inner = g_build_filename(dir, "inner", NULL);
	g_assert_true(g_file_set_contents(inner, "--to --host 192.0.2.2\n", -1, NULL));
	char *text = g_strdup_printf("# a comment --bogus\n--name \"my conn\"  --host 127.0.0.1\n"
				     "--updown '/bin/echo a  b' --optionsfrom %s\n", inner);
	g_assert_true(g_file_set_contents(file, text, -1, NULL));

	struct whack_request req;
	char err[256] = "";
	int r = PARSE(&req, err, "--optionsfrom", file, "--psk");
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpstr(req.name, ==, "my conn");
	g_assert_cmpstr(req.ends[0].host, ==, "127.0.0.1");
	g_assert_cmpstr(req.ends[0].updown, ==, "/bin/echo a  b");
	g_assert_cmpstr(req.ends[1].host, ==, "192.0.2.2");
	g_assert_true(req.psk);
	whack_request_free(&req);

	/* a file that includes itself stops at the nesting limit */
	char *loop = g_strdup_printf("--optionsfrom %s\n", file);
	g_assert_true(g_file_set_contents(file, loop, -1, NULL));
	g_assert_cmpint(PARSE(&req, err, "--optionsfrom", file), ==, -1);
	g_assert_nonnull(strstr(err, "nested too deeply"));
	whack_request_free(&req);

	g_assert_true(g_file_set_contents(file, "--name \"unterminated\n", -1, NULL));
	g_assert_cmpint(PARSE(&req, err, "--optionsfrom", file), ==, -1);
	g_assert_nonnull(strstr(err, "unterminated quote"));
	whack_request_free(&req);

	g_unlink(file);
	g_unlink(inner);
	g_rmdir(dir);
	g_free(loop);
	g_free(text);
	g_free(inner);
	g_free(file);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/whack-args/connection-mapping", test_connection_mapping);
	g_test_add_func("/whack-args/policy-defaults", test_policy_defaults);
	g_test_add_func("/whack-args/dpd-mapping", test_dpd_mapping);
	g_test_add_func("/whack-args/actions", test_actions);
	g_test_add_func("/whack-args/rejections", test_rejections);
	g_test_add_func("/whack-args/optionsfrom", test_optionsfrom);
	return g_test_run();
}
