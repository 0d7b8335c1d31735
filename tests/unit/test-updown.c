/* updown.c: the PLUTO_* environment (host and client variants, IPv4 and
 * IPv6, with and without a state), output logged line by line with the
 * connection prefix, failures (exit status, signal, time limit) logged and
 * returned, no descriptor leaks, and the shipped default script adding and
 * removing routes in this test's own network namespace. */
#include <fcntl.h>
#include <signal.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/fd_limit.h"
#include "common/ifaddr.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "klips/rtnl_watch.h"
#include "klips/updown.h"

static GPtrArray *lines;
static char *tmpdir;

static void capture(int priority, const char *line, void *ud)
{
	g_ptr_array_add(lines, g_strdup(line));
}

/* the first captured line containing all of the given pieces, or NULL */
static const char *logged(const char *a, const char *b)
{
	for (guint i = 0; i < lines->len; i++) {
		const char *l = g_ptr_array_index(lines, i);
		if (strstr(l, a) && (!b || strstr(l, b)))
			return l;
	}
	return NULL;
}

static void dump_log(void)
{
	for (guint i = 0; i < lines->len; i++)
		g_test_message("log: %s", (const char *)g_ptr_array_index(lines, i));
}

static struct connection *add(const char *name, const char *const *kv)
{
	const char *keys[32], *values[32];
	size_t n = 0;
	for (; kv[2 * n]; n++) {
		keys[n] = kv[2 * n];
		values[n] = kv[2 * n + 1];
	}
	struct connection *c = NULL;
	struct ctl_error err = { 0 };
	if (ctl_add_connection(name, keys, values, n, &c, &err) < 0)
		g_error("adding %s: %s", name, err.message);
	g_assert_nonnull(c);
	g_assert_cmpint(c->this, >=, 0);
	return c;
}

static void teardown(void)
{
	states_delete_all();
	connections_delete_all();
	updown_set_default(NULL);
	updown_set_timeout(30000);
	g_ptr_array_set_size(lines, 0);
}

/* Reads NAME=value lines of an `env` dump into a table. */
static GHashTable *read_env(const char *path)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	char **l = g_strsplit(text, "\n", -1);
	for (char **p = l; *p; p++) {
		char *eq = strchr(*p, '=');
		if (*p[0] && eq)
			g_hash_table_insert(t, g_strndup(*p, (gsize)(eq - *p)), g_strdup(eq + 1));
	}
	g_strfreev(l);
	g_free(text);
	g_unlink(path);
	return t;
}

/* Runs `env > file` as the connection's updown and returns the dump. */
static GHashTable *env_of(const char *name, const char *const *kv, enum updown_verb verb,
			  bool with_state, struct connection **ret)
{
	char *out = g_build_filename(tmpdir, "env.out", NULL);
	char *cmd = g_strdup_printf("env > %s", out);
	const char *all[40];
	size_t n = 0;
	for (; kv[n]; n++)
		all[n] = kv[n];
	all[n++] = "leftupdown";
	all[n++] = cmd;
	all[n] = NULL;
	struct connection *c = add(name, all);
	struct state *st = NULL;
	if (with_state) {
		st = state_new(c, STATE_KIND_IPSEC, true);
		state_set_text(&st->peer_id, "%s", "@peer-from-payload");
		st->n_inbound_spis = 2;
		st->inbound_spis[0] = 0x11223344;
		st->inbound_spis[1] = 0x5566;
		st->n_outbound_spis = 1;
		st->outbound_spis[0] = 0xaabbccdd;
	}
	struct ctl_error err = { 0 };
	int r = updown_run(verb, c, st, &err);
	if (r < 0)
		dump_log();
	g_assert_cmpint(r, ==, 0);
	GHashTable *t = read_env(out);
	g_free(cmd);
	g_free(out);
	if (ret)
		*ret = c;
	return t;
}

static void check_var(GHashTable *t, const char *name, const char *want)
{
	const char *got = g_hash_table_lookup(t, name);
	if (!got)
		g_error("%s is missing", name);
	g_assert_cmpstr(got, ==, want);
}

/* Only PLUTO_* and PATH come from pluto (the shell adds PWD itself). */
static void check_nothing_inherited(GHashTable *t)
{
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		const char *name = k;
		if (!g_str_has_prefix(name, "PLUTO_") && strcmp(name, "PATH") && strcmp(name, "PWD"))
			g_error("unexpected variable %s in the updown environment", name);
	}
	check_var(t, "PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
}

static void test_env_v4_host(void)
{
	static const char *const kv[] = { "left", "192.0.2.1", "right", "192.0.2.2", NULL };
	GHashTable *t = env_of("h4", kv, UPDOWN_ROUTE, false, NULL);
	check_nothing_inherited(t);
	g_assert_null(g_hash_table_lookup(t, "UPDOWN_TEST_SECRET"));
	check_var(t, "PLUTO_VERSION", "1.1");
	check_var(t, "PLUTO_VERB", "route-host");
	check_var(t, "PLUTO_CONNECTION", "h4");
	check_var(t, "PLUTO_NEXT_HOP", "192.0.2.2");
	check_var(t, "PLUTO_INTERFACE", "v0");
	check_var(t, "PLUTO_ME", "192.0.2.1");
	check_var(t, "PLUTO_MY_ID", "192.0.2.1");
	check_var(t, "PLUTO_MY_CLIENT", "192.0.2.1/32");
	check_var(t, "PLUTO_MY_CLIENT_NET", "192.0.2.1");
	check_var(t, "PLUTO_MY_CLIENT_MASK", "255.255.255.255");
	check_var(t, "PLUTO_MY_PROTOCOL", "0");
	check_var(t, "PLUTO_MY_PORT", "0");
	check_var(t, "PLUTO_PEER", "192.0.2.2");
	check_var(t, "PLUTO_PEER_ID", "192.0.2.2");
	check_var(t, "PLUTO_PEER_CLIENT", "192.0.2.2/32");
	check_var(t, "PLUTO_PEER_CLIENT_NET", "192.0.2.2");
	check_var(t, "PLUTO_PEER_CLIENT_MASK", "255.255.255.255");
	check_var(t, "PLUTO_PEER_PROTOCOL", "0");
	check_var(t, "PLUTO_PEER_PORT", "0");
	g_assert_nonnull(g_hash_table_lookup(t, "PLUTO_CONN_POLICY"));
	g_assert_null(g_hash_table_lookup(t, "PLUTO_SERIAL"));
	g_assert_null(g_hash_table_lookup(t, "PLUTO_SPI_IN"));
	g_hash_table_unref(t);
	teardown();
}

static void test_env_v4_client(void)
{
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "leftsubnet", "10.1.0.0/16",
		"rightsubnet", "10.2.0.0/24", "leftnexthop", "192.0.2.254",
		"leftid", "@west", "rightid", "@east", NULL };
	GHashTable *t = env_of("c4", kv, UPDOWN_UP, false, NULL);
	check_nothing_inherited(t);
	check_var(t, "PLUTO_VERB", "up-client");
	check_var(t, "PLUTO_NEXT_HOP", "192.0.2.254");
	check_var(t, "PLUTO_MY_ID", "@west");
	check_var(t, "PLUTO_PEER_ID", "@east");
	check_var(t, "PLUTO_MY_CLIENT", "10.1.0.0/16");
	check_var(t, "PLUTO_MY_CLIENT_NET", "10.1.0.0");
	check_var(t, "PLUTO_MY_CLIENT_MASK", "255.255.0.0");
	check_var(t, "PLUTO_PEER_CLIENT", "10.2.0.0/24");
	check_var(t, "PLUTO_PEER_CLIENT_NET", "10.2.0.0");
	check_var(t, "PLUTO_PEER_CLIENT_MASK", "255.255.255.0");
	g_hash_table_unref(t);
	teardown();

	/* with a state: its serial, SPIs and the id the peer sent */
	struct connection *c;
	t = env_of("c4s", kv, UPDOWN_DOWN, true, &c);
	check_var(t, "PLUTO_VERB", "down-client");
	check_var(t, "PLUTO_PEER_ID", "@peer-from-payload");
	check_var(t, "PLUTO_SPI_IN", "0x11223344 0x00005566");
	check_var(t, "PLUTO_SPI_OUT", "0xaabbccdd");
	g_assert_cmpstr(g_hash_table_lookup(t, "PLUTO_SERIAL"), !=, NULL);
	g_assert_cmpint(atoi(g_hash_table_lookup(t, "PLUTO_SERIAL")), >, 0);
	g_hash_table_unref(t);
	teardown();

	/* the variant follows OUR end: a peer subnet alone is still -host */
	static const char *const kv2[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.2.0.0/24", NULL };
	t = env_of("c4h", kv2, UPDOWN_PREPARE, false, NULL);
	check_var(t, "PLUTO_VERB", "prepare-host");
	check_var(t, "PLUTO_PEER_CLIENT", "10.2.0.0/24");
	g_hash_table_unref(t);
	teardown();
}

static void test_env_v6(void)
{
	static const char *const kv[] = {
		"left", "2001:db8::1", "right", "2001:db8::2", "leftsubnet", "2001:db8:1::/48",
		"rightsubnet", "2001:db8:2::/64", NULL };
	GHashTable *t = env_of("c6", kv, UPDOWN_UNROUTE, false, NULL);
	check_nothing_inherited(t);
	check_var(t, "PLUTO_VERB", "unroute-client");
	check_var(t, "PLUTO_INTERFACE", "v0");
	check_var(t, "PLUTO_ME", "2001:db8::1");
	check_var(t, "PLUTO_PEER", "2001:db8::2");
	check_var(t, "PLUTO_NEXT_HOP", "2001:db8::2");
	check_var(t, "PLUTO_MY_CLIENT", "2001:db8:1::/48");
	check_var(t, "PLUTO_MY_CLIENT_NET", "2001:db8:1::");
	check_var(t, "PLUTO_MY_CLIENT_MASK", "ffff:ffff:ffff::");
	check_var(t, "PLUTO_PEER_CLIENT_NET", "2001:db8:2::");
	check_var(t, "PLUTO_PEER_CLIENT_MASK", "ffff:ffff:ffff:ffff::");
	g_hash_table_unref(t);
	teardown();

	static const char *const kv2[] = { "left", "2001:db8::1", "right", "2001:db8::2", NULL };
	t = env_of("h6", kv2, UPDOWN_UP, false, NULL);
	check_var(t, "PLUTO_VERB", "up-host");
	check_var(t, "PLUTO_MY_CLIENT", "2001:db8::1/128");
	check_var(t, "PLUTO_MY_CLIENT_MASK", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check_var(t, "PLUTO_PEER_CLIENT", "2001:db8::2/128");
	g_hash_table_unref(t);
	teardown();
}

static struct connection *with_updown(const char *name, const char *cmd)
{
	const char *kv[] = { "left", "192.0.2.1", "right", "192.0.2.2", "leftupdown", cmd, NULL };
	return add(name, kv);
}

static void test_output_logged(void)
{
	struct connection *c = with_updown("out",
		"echo one; echo two >&2; echo; printf 'three without newline'");
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, 0);
	g_assert_nonnull(logged("\"out\": route-host output: one", NULL));
	g_assert_nonnull(logged("\"out\": route-host output: two", NULL));
	g_assert_nonnull(logged("\"out\": route-host output: three without newline", NULL));
	g_ptr_array_set_size(lines, 0);

	/* with a state the prefix carries its serial */
	struct state *st = state_new(c, STATE_KIND_IPSEC, true);
	char *want = g_strdup_printf("\"out\" #%u: up-host output: one", st->serial);
	g_assert_cmpint(updown_run(UPDOWN_UP, c, st, &err), ==, 0);
	g_assert_nonnull(logged(want, NULL));
	g_free(want);
	teardown();
}

static void test_failures(void)
{
	struct ctl_error err = { 0 };
	struct connection *c = with_updown("bad", "echo going wrong; exit 3");
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_CANNOT_ROUTE);
	g_assert_nonnull(strstr(err.message, "exit status 3"));
	g_assert_nonnull(strstr(err.message, "route-host"));
	g_assert_nonnull(logged("\"bad\": route-host output: going wrong", NULL));
	g_assert_nonnull(logged("\"bad\": route-host: updown command", "failed: exit status 3"));

	memset(&err, 0, sizeof(err));
	g_assert_cmpint(updown_run(UPDOWN_UP, c, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INTERNAL);
	teardown();

	c = with_updown("sig", "kill -TERM $$");
	memset(&err, 0, sizeof(err));
	g_assert_cmpint(updown_run(UPDOWN_DOWN, c, NULL, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "killed by signal 15"));
	g_assert_nonnull(logged("\"sig\": down-host: updown command", "killed by signal 15"));
	teardown();

	c = with_updown("missing", "/nonexistent/updown-script");
	memset(&err, 0, sizeof(err));
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "exit status 127"));
	g_assert_nonnull(logged("route-host output:", "/nonexistent/updown-script"));
	teardown();
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_timeout(void)
{
	struct ctl_error err = { 0 };
	struct timespec t0;
	char *mark = g_build_filename(tmpdir, "after-timeout", NULL);
	char *cmd = g_strdup_printf("echo started; (sleep 1; touch %s) & sleep 20", mark);
	struct connection *c = with_updown("slow", cmd);
	updown_set_timeout(300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, -1);
	g_assert_cmpfloat(elapsed(&t0), <, 3.0);
	g_assert_nonnull(strstr(err.message, "timed out after 300 ms, killed"));
	g_assert_nonnull(logged("\"slow\": route-host output: started", NULL));
	g_assert_nonnull(logged("\"slow\": route-host: updown command", "killed"));
	/* the whole process group went: the background job never finished */
	g_usleep(1500 * 1000);
	g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
	g_free(cmd);
	teardown();

	/* a background job that keeps the output open does not hold us up
	 * once the script itself has exited */
	c = with_updown("bg", "(sleep 3) & echo done");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, 0);
	g_assert_cmpfloat(elapsed(&t0), <, 2.0);
	g_assert_nonnull(logged("\"bg\": route-host output: done", NULL));
	g_free(mark);
	teardown();
}

static void test_no_fd_leak(void)
{
	/* a descriptor the daemon opened without close-on-exec must still
	 * not reach the script; neither may the output pipe's read end */
	int fd = open("/dev/null", O_RDONLY);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(dup2(fd, 50), ==, 50);
	close(fd);
	struct connection *c = with_updown("fds",
		"for n in 3 4 5 6 7 8 9 10 11 12 50; do [ -e /proc/$$/fd/$n ] && echo leaked fd $n; done;"
		" [ -e /proc/$$/fd/1 ] && echo stdout ok; true");
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, 0);
	g_assert_nonnull(logged("\"fds\": route-host output: stdout ok", NULL));
	if (logged("leaked fd", NULL))
		g_error("%s", logged("leaked fd", NULL));
	close(50);
	teardown();
}

/* pluto raises its soft fd limit to the hard one; a script gets the soft
 * limit pluto was started with (a select() user would break above 1024) */
static void test_fd_limit_restored(void)
{
	struct rlimit rl;
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= 256) {
		g_test_skip("hard fd limit too low to lower the soft one below it");
		return;
	}
	rl.rlim_cur = 256;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	struct fd_limit l = fd_limit_raise();
	g_assert_cmpint(l.error, ==, 0);
	g_assert_cmpuint(l.before, ==, 256);
	g_assert_cmpuint(l.now, ==, (unsigned long)rl.rlim_max);
	g_assert_cmpuint(fd_limit_current(), ==, (unsigned long)rl.rlim_max);
	struct connection *c = with_updown("nofile", "echo soft limit $(ulimit -Sn)");
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, 0);
	if (!logged("\"nofile\": route-host output: soft limit 256", NULL)) {
		dump_log();
		g_error("the script did not get the soft limit pluto was started with");
	}
	teardown();
}

/* XAUTH / Mode Config results of the ISAKMP state reach the script by
 * libreswan's names, when up/down runs with the IPsec state; nothing of
 * them when there are none. */
static void fill_remote_access(struct state *isakmp)
{
	state_set_text(&isakmp->xauth_user, "%s", "alice");
	state_modecfg_mut(isakmp)->has_virtual_address = true;
	const char *why = NULL;
	g_assert_true(subnet_parse("10.8.0.10/32", &state_modecfg_mut(isakmp)->virtual_address, &why));
	state_modecfg_mut(isakmp)->n_dns = 2;
	g_assert_true(ip_parse("10.2.0.53", &state_modecfg_mut(isakmp)->dns[0]));
	g_assert_true(ip_parse("2001:db8::53", &state_modecfg_mut(isakmp)->dns[1]));
	state_set_text(&isakmp->domains, "%s", "corp.example,lab.example");
	state_set_text(&isakmp->banner, "%s", "Welcome, $USER `id`");
}

static void test_env_remote_access(void)
{
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.2.0.0/24", NULL };
	static const char *const names[] = {
		"PLUTO_MY_SOURCEIP", "PLUTO_PEER_DNS_INFO", "PLUTO_PEER_DOMAIN_INFO",
		"PLUTO_PEER_BANNER", "PLUTO_XAUTH_USERNAME" };
	struct connection *c = NULL;
	/* none: none of the variables */
	GHashTable *t = env_of("ra0", kv, UPDOWN_UP, true, &c);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_null(g_hash_table_lookup(t, names[i]));
	g_hash_table_unref(t);
	teardown();

	/* the connection's ISAKMP state has them; updown gets the IPsec state */
	char *out = g_build_filename(tmpdir, "env.out", NULL);
	char *cmd = g_strdup_printf("env > %s", out);
	const char *all[] = { "left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.2.0.0/24",
			      "leftmodecfgclient", "yes", "rightmodecfgserver", "yes",
			      "leftupdown", cmd, NULL };
	c = add("ra1", all);
	struct state *isakmp = state_new(c, STATE_KIND_ISAKMP, true);
	fill_remote_access(isakmp);
	c->newest_isakmp = isakmp->serial;
	struct state *ipsec = state_new(c, STATE_KIND_IPSEC, true);
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_UP, c, ipsec, &err), ==, 0);
	t = read_env(out);
	check_var(t, "PLUTO_MY_SOURCEIP", "10.8.0.10");
	check_var(t, "PLUTO_MY_CLIENT", "10.8.0.10/32");   /* the lent address is what we protect */
	check_var(t, "PLUTO_VERB", "up-client");
	check_var(t, "PLUTO_PEER_DNS_INFO", "10.2.0.53 2001:db8::53");
	check_var(t, "PLUTO_PEER_DOMAIN_INFO", "corp.example lab.example");
	check_var(t, "PLUTO_PEER_BANNER", "Welcome, $USER `id`");   /* as it is, never evaluated */
	check_var(t, "PLUTO_XAUTH_USERNAME", "alice");
	check_nothing_inherited(t);
	g_hash_table_unref(t);

	/* run with the ISAKMP state itself: the same */
	g_assert_cmpint(updown_run(UPDOWN_DOWN, c, isakmp, &err), ==, 0);
	t = read_env(out);
	check_var(t, "PLUTO_MY_SOURCEIP", "10.8.0.10");
	check_var(t, "PLUTO_XAUTH_USERNAME", "alice");
	g_hash_table_unref(t);

	/* the gateway's view of the same: the address it lent is the peer's
	 * client, never an address of ours (no PLUTO_MY_SOURCEIP) */
	const char *gw_opts[] = { "left", "192.0.2.1", "leftsubnet", "10.2.0.0/24", "right", "192.0.2.2",
				  "leftmodecfgserver", "yes", "rightmodecfgclient", "yes",
				  "leftupdown", cmd, NULL };
	struct connection *gw = add("ra-gw", gw_opts);
	struct state *gw_isakmp = state_new(gw, STATE_KIND_ISAKMP, false);
	fill_remote_access(gw_isakmp);
	gw->newest_isakmp = gw_isakmp->serial;
	g_assert_cmpint(updown_run(UPDOWN_UP, gw, gw_isakmp, &err), ==, 0);
	t = read_env(out);
	g_assert_null(g_hash_table_lookup(t, "PLUTO_MY_SOURCEIP"));
	check_var(t, "PLUTO_PEER_CLIENT", "10.8.0.10/32");
	check_var(t, "PLUTO_MY_CLIENT", "10.2.0.0/24");
	g_hash_table_unref(t);
	state_delete(gw_isakmp);

	/* only some known (a server's view: the user, no address) */
	state_set_text(&isakmp->banner, "%s", "");
	state_modecfg_mut(isakmp)->has_virtual_address = false;
	state_modecfg_mut(isakmp)->n_dns = 0;
	state_set_text(&isakmp->domains, "%s", "");
	g_assert_cmpint(updown_run(UPDOWN_UP, c, ipsec, &err), ==, 0);
	t = read_env(out);
	check_var(t, "PLUTO_XAUTH_USERNAME", "alice");
	for (size_t i = 0; i < 4; i++)
		g_assert_null(g_hash_table_lookup(t, names[i]));
	g_hash_table_unref(t);
	g_free(cmd);
	g_free(out);
	teardown();
}

static void check_subnet(const ip_subnet *sn, const char *want)
{
	char b[IP_STR_MAX];
	g_assert_cmpstr(subnet_str(sn, b), ==, want);
}

/* c's newest ISAKMP State, as INITIATOR, with one split include */
static void isakmp_with_split_include(struct connection *c, bool initiator, const ip_subnet *split)
{
	struct state *isakmp = state_new(c, STATE_KIND_ISAKMP, initiator);
	state_modecfg_mut(isakmp)->split_include[0] = *split;
	state_modecfg_mut(isakmp)->n_split_include = 1;
	c->newest_isakmp = isakmp->serial;
}

/* A Mode Config client without rightsubnet takes the gateway's first
 * Unity split include as the peer's client (connection_that_client, so
 * routing and PLUTO_PEER_CLIENT); a configured rightsubnet wins, and a
 * gateway's conn never looks at it. */
static void test_split_include(void)
{
	char *out = g_build_filename(tmpdir, "env.out", NULL);
	char *cmd = g_strdup_printf("env > %s", out);
	const char *opts[] = { "left", "192.0.2.1", "right", "192.0.2.2",
			       "leftmodecfgclient", "yes", "rightmodecfgserver", "yes",
			       "leftupdown", cmd, NULL };
	struct connection *c = add("ra-split", opts);
	struct state *isakmp = state_new(c, STATE_KIND_ISAKMP, true);
	fill_remote_access(isakmp);
	c->newest_isakmp = isakmp->serial;
	ip_subnet sn;
	/* no split include yet: the gateway's host, not a client subnet */
	g_assert_false(connection_that_client(c, &sn));
	check_subnet(&sn, "192.0.2.2/32");

	const char *why = NULL;
	g_assert_true(subnet_parse("10.2.0.0/16", &state_modecfg_mut(isakmp)->split_include[0], &why));
	g_assert_true(subnet_parse("10.3.0.0/24", &state_modecfg_mut(isakmp)->split_include[1], &why));
	state_modecfg_mut(isakmp)->n_split_include = 2;
	g_assert_true(connection_that_client(c, &sn));
	check_subnet(&sn, "10.2.0.0/16");
	g_assert_true(connection_this_client(c, &sn));
	check_subnet(&sn, "10.8.0.10/32");   /* ours is still the lent address */
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_UP, c, isakmp, &err), ==, 0);
	GHashTable *t = read_env(out);
	check_var(t, "PLUTO_PEER_CLIENT", "10.2.0.0/16");
	check_var(t, "PLUTO_MY_CLIENT", "10.8.0.10/32");
	g_hash_table_unref(t);

	/* a configured rightsubnet wins over what the gateway sent */
	const char *fixed[] = { "left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.4.0.0/16",
				"leftmodecfgclient", "yes", "rightmodecfgserver", "yes", NULL };
	struct connection *cf = add("ra-fixed", fixed);
	isakmp_with_split_include(cf, true, &state_modecfg_mut(isakmp)->split_include[0]);
	g_assert_true(connection_that_client(cf, &sn));
	check_subnet(&sn, "10.4.0.0/16");

	/* the gateway's conn (we are the server): the split include is not
	 * the peer's client, the peer's host is */
	const char *gw[] = { "left", "192.0.2.1", "right", "192.0.2.2",
			     "leftmodecfgserver", "yes", "rightmodecfgclient", "yes", NULL };
	struct connection *cg = add("ra-gw2", gw);
	isakmp_with_split_include(cg, false, &state_modecfg_mut(isakmp)->split_include[0]);
	g_assert_false(connection_that_client(cg, &sn));
	check_subnet(&sn, "192.0.2.2/32");
	g_free(cmd);
	g_free(out);
	teardown();
}

/* ---- the shipped default script ---- */

static char *routes(const char *family)
{
	char *cmd = g_strdup_printf("ip %s route show", family);
	char *out = NULL;
	g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
	g_free(cmd);
	return out;
}

static bool route_has(const char *family, const char *want)
{
	char *r = routes(family);
	bool yes = strstr(r, want) != NULL;
	if (!yes)
		g_test_message("ip %s route: %s", family, r);
	g_free(r);
	return yes;
}

static void use_default_script(void)
{
	char *path = g_build_filename(g_getenv("SRCDIR") ? g_getenv("SRCDIR") : ".", "data",
				      "updown", "pluto-updown", NULL);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_EXECUTABLE));
	updown_set_default(path);
	g_assert_cmpstr(updown_default(), ==, path);
	g_free(path);
}

static void run_ok(enum updown_verb verb, struct connection *c)
{
	struct ctl_error err = { 0 };
	if (updown_run(verb, c, NULL, &err) < 0) {
		dump_log();
		g_error("%s: %s", updown_verb_name(verb, connection_this_client(c, &(ip_subnet){ 0 })), err.message);
	}
}

static void test_default_v4(void)
{
	use_default_script();
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "leftsubnet", "10.1.0.0/16",
		"rightsubnet", "10.2.0.0/24", "leftnexthop", "192.0.2.254", NULL };
	struct connection *c = add("d4", kv);
	const char *want = "10.2.0.0/24 via 192.0.2.254 dev v0";

	/* prepare removes a stale route left by an earlier run */
	g_assert_cmpint(system("ip route add 10.2.0.0/24 via 192.0.2.254 dev v0"), ==, 0);
	run_ok(UPDOWN_PREPARE, c);
	g_assert_false(route_has("-4", "10.2.0.0/24"));
	g_assert_nonnull(logged("\"d4\": prepare-client output: pluto-updown", "removed route"));

	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(route_has("-4", want));
	g_assert_nonnull(logged("\"d4\": route-client output: pluto-updown: route-client: added route 10.2.0.0/24", NULL));
	run_ok(UPDOWN_ROUTE, c);          /* idempotent */
	g_assert_true(route_has("-4", want));
	run_ok(UPDOWN_UP, c);
	run_ok(UPDOWN_DOWN, c);
	g_assert_true(route_has("-4", want));

	run_ok(UPDOWN_UNROUTE, c);
	g_assert_false(route_has("-4", "10.2.0.0/24"));
	g_assert_nonnull(logged("unroute-client output:", "removed route 10.2.0.0/24"));
	run_ok(UPDOWN_UNROUTE, c);        /* idempotent */
	teardown();

	/* a next hop that is not on any link: the route cannot be added,
	 * the script says why and fails */
	use_default_script();
	static const char *const bad[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.3.0.0/24",
		"leftnexthop", "198.51.100.1", NULL };
	c = add("d4bad", bad);
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_CANNOT_ROUTE);
	g_assert_nonnull(strstr(err.message, "exit status 1"));
	g_assert_nonnull(logged("\"d4bad\": route-host output: pluto-updown: route-host: cannot add route 10.3.0.0/24", NULL));
	g_assert_false(route_has("-4", "10.3.0.0/24"));
	teardown();

	/* host to host: the peer is reached as IKE reaches it, no route */
	use_default_script();
	static const char *const h[] = { "left", "192.0.2.1", "right", "192.0.2.2", NULL };
	c = add("d4h", h);
	char *before = routes("-4");
	run_ok(UPDOWN_ROUTE, c);
	char *after = routes("-4");
	g_assert_cmpstr(before, ==, after);
	g_assert_nonnull(logged("\"d4h\": route-host output:", "no route needed"));
	run_ok(UPDOWN_UNROUTE, c);
	g_free(before);
	g_free(after);
	teardown();
}

static bool addr_on(const char *dev, const char *want)
{
	char *cmd = g_strdup_printf("ip -o addr show dev %s", dev);
	char *out = NULL;
	g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
	bool yes = strstr(out, want) != NULL;
	g_free(cmd);
	g_free(out);
	return yes;
}

static void run_state_ok(enum updown_verb verb, struct connection *c, struct state *st)
{
	struct ctl_error err = { 0 };
	if (updown_run(verb, c, st, &err) < 0) {
		dump_log();
		g_error("%s: %s", updown_verb_name(verb, connection_this_client(c, &(ip_subnet){ 0 })), err.message);
	}
}

/* A Mode Config client: up puts the virtual address on the route's
 * interface and makes the route to the peer's client leave from it; down
 * takes both back and leaves the route itself to unroute. */
static void test_default_source_ip(void)
{
	use_default_script();
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.2.0.0/24",
		"leftnexthop", "192.0.2.254", "leftmodecfgclient", "yes", "rightmodecfgserver", "yes", NULL };
	struct connection *c = add("vip", kv);
	struct state *isakmp = state_new(c, STATE_KIND_ISAKMP, true);
	fill_remote_access(isakmp);
	c->newest_isakmp = isakmp->serial;
	struct state *ipsec = state_new(c, STATE_KIND_IPSEC, true);

	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(route_has("-4", "10.2.0.0/24 via 192.0.2.254 dev v0"));
	g_assert_false(addr_on("v0", "10.8.0.10/32"));
	run_state_ok(UPDOWN_UP, c, ipsec);
	g_assert_true(addr_on("v0", "inet 10.8.0.10/32"));
	g_assert_true(route_has("-4", "10.2.0.0/24 via 192.0.2.254 dev v0 src 10.8.0.10"));
	g_assert_nonnull(logged("up-client output: pluto-updown: up-client: added address 10.8.0.10 to v0", NULL));
	g_assert_nonnull(logged("up-client output:", "now uses source 10.8.0.10"));
	run_state_ok(UPDOWN_UP, c, ipsec);       /* again: no change, no error */
	g_assert_nonnull(logged("up-client output:", "address 10.8.0.10 already present on v0"));

	run_state_ok(UPDOWN_DOWN, c, ipsec);
	g_assert_false(addr_on("v0", "10.8.0.10"));
	g_assert_false(route_has("-4", "src 10.8.0.10"));
	g_assert_true(route_has("-4", "10.2.0.0/24 via 192.0.2.254 dev v0"));
	g_assert_nonnull(logged("down-client output:", "removed address 10.8.0.10 from v0"));
	run_state_ok(UPDOWN_DOWN, c, ipsec);     /* again: nothing left to remove */
	g_assert_nonnull(logged("down-client output:", "no address 10.8.0.10 to remove"));
	run_ok(UPDOWN_UNROUTE, c);
	g_assert_false(route_has("-4", "10.2.0.0/24"));
	teardown();

	/* no route of ours (the peer itself): the address goes on lo */
	use_default_script();
	static const char *const h[] = { "left", "192.0.2.1", "right", "192.0.2.2",
					 "leftmodecfgclient", "yes", "rightmodecfgserver", "yes", NULL };
	c = add("viph", h);
	isakmp = state_new(c, STATE_KIND_ISAKMP, true);
	fill_remote_access(isakmp);
	c->newest_isakmp = isakmp->serial;
	run_state_ok(UPDOWN_UP, c, isakmp);
	g_assert_true(addr_on("lo", "inet 10.8.0.10/32"));
	run_state_ok(UPDOWN_DOWN, c, isakmp);
	g_assert_false(addr_on("lo", "10.8.0.10"));
	teardown();
}

static void test_default_v6(void)
{
	use_default_script();
	static const char *const kv[] = {
		"left", "2001:db8::1", "right", "2001:db8::2", "rightsubnet", "2001:db8:2::/64",
		NULL };
	struct connection *c = add("d6", kv);
	run_ok(UPDOWN_PREPARE, c);
	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(route_has("-6", "2001:db8:2::/64 via 2001:db8::2 dev v0"));
	g_assert_nonnull(logged("\"d6\": route-host output:", "added route 2001:db8:2::/64"));
	run_ok(UPDOWN_ROUTE, c);
	run_ok(UPDOWN_UNROUTE, c);
	g_assert_false(route_has("-6", "2001:db8:2::/64"));
	teardown();
}

/* Only inside a namespace of our own (tests/lib/in-netns.sh): we add a
 * veth pair and routes, which must never touch the host's network. */
static bool setup_netns(void)
{
	struct if_nameindex *ifs = if_nameindex();
	unsigned n = 0;
	bool only_lo = true;
	for (struct if_nameindex *i = ifs; i && i->if_index; i++, n++)
		if (strcmp(i->if_name, "lo"))
			only_lo = false;
	if_freenameindex(ifs);
	if (!only_lo)
		return false;
	return system("ip link add v0 type veth peer name v1 && ip link set v0 up && "
		      "ip link set v1 up && ip addr add 192.0.2.1/24 dev v0 && "
		      "ip -6 addr add 2001:db8::1/64 dev v0 nodad") == 0;
}

/* ---- the in-process default (no leftupdown, no --updown) ---- */

static void test_builtin_v4(void)
{
	updown_set_default(NULL);
	g_assert_null(updown_default());
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "leftsubnet", "10.1.0.0/16",
		"rightsubnet", "10.2.0.0/24", "leftnexthop", "192.0.2.254", NULL };
	struct connection *c = add("b4", kv);
	const char *want = "10.2.0.0/24 via 192.0.2.254 dev v0";

	/* prepare removes a stale route left by an earlier run */
	g_assert_cmpint(system("ip route add 10.2.0.0/24 via 192.0.2.254 dev v0"), ==, 0);
	run_ok(UPDOWN_PREPARE, c);
	g_assert_false(route_has("-4", "10.2.0.0/24"));
	g_assert_nonnull(logged("\"b4\": prepare-client: removed stale route 10.2.0.0/24", NULL));

	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(route_has("-4", want));
	g_assert_nonnull(logged("\"b4\": route-client: added route 10.2.0.0/24 via 192.0.2.254 dev v0", NULL));
	run_ok(UPDOWN_ROUTE, c);          /* idempotent */
	g_assert_true(route_has("-4", want));
	run_ok(UPDOWN_UP, c);             /* no lent address: nothing to do */
	run_ok(UPDOWN_DOWN, c);
	g_assert_true(route_has("-4", want));

	run_ok(UPDOWN_UNROUTE, c);
	g_assert_false(route_has("-4", "10.2.0.0/24"));
	g_assert_nonnull(logged("\"b4\": unroute-client: removed route 10.2.0.0/24", NULL));
	run_ok(UPDOWN_UNROUTE, c);        /* idempotent */
	g_assert_null(logged("output:", NULL));   /* no script ran */
	teardown();

	/* a next hop on no link: the kernel refuses, the run fails and says why */
	static const char *const bad[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.3.0.0/24",
		"leftnexthop", "198.51.100.1", NULL };
	c = add("b4bad", bad);
	struct ctl_error err = { 0 };
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, c, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_CANNOT_ROUTE);
	g_assert_nonnull(strstr(err.message, "route-host: in-process updown: cannot add route"));
	g_assert_nonnull(logged("\"b4bad\": route-host: in-process updown: cannot add route", NULL));
	g_assert_false(route_has("-4", "10.3.0.0/24"));
	teardown();

	/* host to host: nothing at all */
	static const char *const h[] = { "left", "192.0.2.1", "right", "192.0.2.2", NULL };
	c = add("b4h", h);
	char *before = routes("-4");
	run_ok(UPDOWN_PREPARE, c);
	run_ok(UPDOWN_ROUTE, c);
	run_ok(UPDOWN_UP, c);
	char *after = routes("-4");
	g_assert_cmpstr(before, ==, after);
	g_assert_null(logged("-host", NULL));   /* nothing done, nothing said */
	run_ok(UPDOWN_DOWN, c);
	run_ok(UPDOWN_UNROUTE, c);
	g_free(before);
	g_free(after);
	teardown();
}

static void test_builtin_v6(void)
{
	updown_set_default(NULL);
	static const char *const kv[] = {
		"left", "2001:db8::1", "right", "2001:db8::2", "rightsubnet", "2001:db8:2::/64", NULL };
	struct connection *c = add("b6", kv);
	run_ok(UPDOWN_PREPARE, c);
	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(route_has("-6", "2001:db8:2::/64 via 2001:db8::2 dev v0"));
	run_ok(UPDOWN_UNROUTE, c);
	g_assert_false(route_has("-6", "2001:db8:2::/64"));
	teardown();
}

/* The Mode Config client's lent address, as the script does it. */
static void test_builtin_source_ip(void)
{
	updown_set_default(NULL);
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.2.0.0/24",
		"leftnexthop", "192.0.2.254", "leftmodecfgclient", "yes", "rightmodecfgserver", "yes", NULL };
	struct connection *c = add("bvip", kv);
	struct state *isakmp = state_new(c, STATE_KIND_ISAKMP, true);
	fill_remote_access(isakmp);
	c->newest_isakmp = isakmp->serial;
	struct state *ipsec = state_new(c, STATE_KIND_IPSEC, true);

	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(route_has("-4", "10.2.0.0/24 via 192.0.2.254 dev v0"));
	run_state_ok(UPDOWN_UP, c, ipsec);
	g_assert_true(addr_on("v0", "inet 10.8.0.10/32"));
	g_assert_true(route_has("-4", "10.2.0.0/24 via 192.0.2.254 dev v0 src 10.8.0.10"));
	g_assert_nonnull(logged("up-client: added address 10.8.0.10 to v0", NULL));
	run_state_ok(UPDOWN_UP, c, ipsec);       /* again: no change, no error */

	run_state_ok(UPDOWN_DOWN, c, ipsec);
	g_assert_false(addr_on("v0", "10.8.0.10"));
	g_assert_false(route_has("-4", "src 10.8.0.10"));
	g_assert_true(route_has("-4", "10.2.0.0/24 via 192.0.2.254 dev v0"));
	g_assert_nonnull(logged("down-client: removed address 10.8.0.10 from v0", NULL));
	run_state_ok(UPDOWN_DOWN, c, ipsec);     /* again: nothing left to remove */
	run_ok(UPDOWN_UNROUTE, c);
	g_assert_false(route_has("-4", "10.2.0.0/24"));
	teardown();

	/* no route of ours: the address goes on lo */
	updown_set_default(NULL);
	static const char *const h[] = { "left", "192.0.2.1", "right", "192.0.2.2",
					 "leftmodecfgclient", "yes", "rightmodecfgserver", "yes", NULL };
	c = add("bviph", h);
	isakmp = state_new(c, STATE_KIND_ISAKMP, true);
	fill_remote_access(isakmp);
	c->newest_isakmp = isakmp->serial;
	run_state_ok(UPDOWN_UP, c, isakmp);
	g_assert_true(addr_on("lo", "inet 10.8.0.10/32"));
	run_state_ok(UPDOWN_DOWN, c, isakmp);
	g_assert_false(addr_on("lo", "10.8.0.10"));
	teardown();
}

/* %disabled: nothing runs, neither a script (even with --updown) nor the
 * in-process routes; another %word is refused when the conn is added. */
static void test_disabled(void)
{
	char *mark = g_build_filename(tmpdir, "disabled-ran", NULL);
	char *cmd = g_strdup_printf("touch %s", mark);
	updown_set_default(cmd);
	static const char *const kv[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.5.0.0/24",
		"leftupdown", "%disabled", NULL };
	struct connection *c = add("off", kv);
	char *before = routes("-4");
	for (enum updown_verb v = UPDOWN_PREPARE; v <= UPDOWN_DOWN; v++)
		run_ok(v, c);
	g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
	g_assert_null(logged("-host", NULL));
	teardown();
	updown_set_default(NULL);
	c = add("off2", kv);
	run_ok(UPDOWN_ROUTE, c);
	char *after = routes("-4");
	g_assert_cmpstr(before, ==, after);
	g_assert_false(route_has("-4", "10.5.0.0/24"));
	teardown();

	/* the other end's %disabled is not ours: ours (the default) runs */
	static const char *const theirs[] = {
		"left", "192.0.2.1", "right", "192.0.2.2", "rightsubnet", "10.5.0.0/24",
		"rightupdown", "%disabled", NULL };
	updown_set_default(cmd);
	c = add("off3", theirs);
	run_ok(UPDOWN_ROUTE, c);
	g_assert_true(g_file_test(mark, G_FILE_TEST_EXISTS));
	g_unlink(mark);
	teardown();

	const char *keys[] = { "left", "right", "leftupdown" };
	const char *values[] = { "192.0.2.1", "192.0.2.2", "%disable" };
	struct ctl_error err = { 0 };
	struct connection *none = NULL;
	g_assert_cmpint(ctl_add_connection("typo", keys, values, 3, &none, &err), <, 0);
	g_assert_nonnull(strstr(err.message, "leftupdown"));
	g_assert_nonnull(strstr(err.message, "%disabled"));
	g_free(before);
	g_free(after);
	g_free(cmd);
	g_free(mark);
	teardown();
}

/* With an event loop, an external command is queued and updown_run
 * returns at once; the child is reaped by sd-event. The commands of one
 * connection run in the order asked, another connection's run beside
 * them, each with its own PLUTO_* environment; output and failures are
 * logged when the child ends. */
static void run_until_idle(sd_event *e)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (updown_pending()) {
		g_assert_cmpint(sd_event_run(e, 100 * 1000), >=, 0);
		g_assert_cmpfloat(elapsed(&t0), <, 10.0);
	}
}

static void test_async(void)
{
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	g_assert_cmpint(sigprocmask(SIG_BLOCK, &chld, &old), ==, 0);
	sd_event *e = NULL;
	g_assert_cmpint(sd_event_new(&e), >=, 0);
	updown_set_event(e);

	char *file = g_build_filename(tmpdir, "order", NULL);
	char *slow = g_strdup_printf("sleep 0.3; echo \"$PLUTO_VERB $PLUTO_CONNECTION $PLUTO_PEER $PLUTO_SERIAL\" >> %s; echo said $PLUTO_VERB", file);
	char *fast = g_strdup_printf("echo \"$PLUTO_VERB $PLUTO_CONNECTION $PLUTO_PEER\" >> %s; exit 4", file);
	struct connection *a = with_updown("qa", slow);
	const char *kvb[] = { "left", "192.0.2.1", "right", "192.0.2.3", "leftupdown", fast, NULL };
	struct connection *b = add("qb", kvb);
	struct state *st = state_new(a, STATE_KIND_IPSEC, true);
	char *up_line = g_strdup_printf("up-host qa 192.0.2.2 %u", st->serial);
	struct ctl_error err = { 0 };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, a, NULL, &err), ==, 0);
	g_assert_cmpint(updown_run(UPDOWN_UP, a, st, &err), ==, 0);
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, b, NULL, &err), ==, 0);   /* fails, later */
	g_assert_cmpint(updown_run(UPDOWN_DOWN, a, st, &err), ==, 0);
	g_assert_cmpfloat(elapsed(&t0), <, 0.25);     /* nothing waited for a child */
	g_assert_cmpuint(updown_pending(), ==, 4);
	/* the state goes before its down ran: the line keeps its prefix */
	unsigned serial = st->serial;
	state_delete(st);
	run_until_idle(e);

	char *text = NULL;
	g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
	char *want = g_strdup_printf("route-host qb 192.0.2.3\nroute-host qa 192.0.2.2 \n%s\ndown-host qa 192.0.2.2 %u\n",
				     up_line, serial);
	g_assert_cmpstr(text, ==, want);
	g_assert_nonnull(logged("\"qa\": route-host output: said route-host", NULL));
	char *down = g_strdup_printf("\"qa\" #%u: down-host output: said down-host", serial);
	g_assert_nonnull(logged(down, NULL));
	g_assert_nonnull(logged("\"qb\": route-host: updown command", "failed: exit status 4"));

	/* the connection gone before its command ran: logged by name */
	g_assert_cmpint(updown_run(UPDOWN_UNROUTE, a, NULL, &err), ==, 0);
	teardown();
	g_ptr_array_set_size(lines, 0);
	run_until_idle(e);
	g_assert_nonnull(logged("\"qa\": unroute-host output: said unroute-host", NULL));

	/* the time limit kills it without blocking */
	updown_set_timeout(200);
	struct connection *z = with_updown("qz", "echo started; sleep 20");
	g_assert_cmpint(updown_run(UPDOWN_ROUTE, z, NULL, &err), ==, 0);
	run_until_idle(e);
	g_assert_nonnull(logged("\"qz\": route-host: updown command", "timed out after 200 ms, killed"));
	g_assert_nonnull(logged("\"qz\": route-host output: started", NULL));
	teardown();

	/* shutdown: the queue runs to its end without the loop */
	struct connection *s = with_updown("qs", slow);
	g_assert_cmpint(updown_run(UPDOWN_DOWN, s, NULL, &err), ==, 0);
	g_assert_cmpint(updown_run(UPDOWN_UNROUTE, s, NULL, &err), ==, 0);
	updown_set_event(NULL);
	g_assert_cmpuint(updown_pending(), ==, 0);
	g_free(text);
	g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "down-host qs 192.0.2.2 \nunroute-host qs 192.0.2.2 \n"));
	teardown();

	sd_event_unref(e);
	sigprocmask(SIG_SETMASK, &old, NULL);
	g_free(text);
	g_free(want);
	g_free(down);
	g_free(up_line);
	g_free(slow);
	g_free(fast);
	g_free(file);
}

/* The interface table follows the kernel's announcements. */
static void test_rtnl_watch(void)
{
	sd_event *e = NULL;
	g_assert_cmpint(sd_event_new(&e), >=, 0);
	g_assert_cmpint(rtnl_watch_start(e), ==, 0);
	g_assert_true(ifaddr_tracked());
	ip_address a, b;
	g_assert_true(ip_parse("192.0.2.1", &a));
	g_assert_true(ip_parse("192.0.2.77", &b));
	g_assert_true(local_address(&a));
	g_assert_false(local_address(&b));
	char name[IF_NAMESIZE];
	int ifindex = 0;
	g_assert_true(local_address_interface(&a, name, sizeof(name), &ifindex));
	g_assert_cmpstr(name, ==, "v0");
	g_assert_cmpint(ifindex, ==, (int)if_nametoindex("v0"));

	g_assert_cmpint(system("ip addr add 192.0.2.77/24 dev v0"), ==, 0);
	for (int i = 0; i < 50 && !local_address(&b); i++)
		sd_event_run(e, 20 * 1000);
	g_assert_true(local_address(&b));
	g_assert_cmpint(system("ip addr del 192.0.2.77/24 dev v0"), ==, 0);
	for (int i = 0; i < 50 && local_address(&b); i++)
		sd_event_run(e, 20 * 1000);
	g_assert_false(local_address(&b));
	/* a link that goes down takes its addresses out of use */
	g_assert_cmpint(system("ip link set v0 down"), ==, 0);
	for (int i = 0; i < 50 && local_address(&a); i++)
		sd_event_run(e, 20 * 1000);
	g_assert_false(local_address(&a));
	g_assert_cmpint(system("ip link set v0 up"), ==, 0);
	for (int i = 0; i < 50 && !local_address(&a); i++)
		sd_event_run(e, 20 * 1000);
	g_assert_true(local_address(&a));
	rtnl_watch_stop();
	g_assert_false(ifaddr_tracked());
	sd_event_unref(e);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!setup_netns()) {
		g_test_message("not in a fresh network namespace (run through tests/lib/in-netns.sh)");
		return 77;
	}
	/* must never reach the script */
	g_setenv("UPDOWN_TEST_SECRET", "hunter2", TRUE);
	tmpdir = g_dir_make_tmp("test-updown-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	lines = g_ptr_array_new_with_free_func(g_free);
	log_init(LOG_TO_STDERR, "pluto");
	log_set_hook(capture, NULL);

	g_test_add_func("/updown/env-v4-host", test_env_v4_host);
	g_test_add_func("/updown/env-v4-client", test_env_v4_client);
	g_test_add_func("/updown/env-remote-access", test_env_remote_access);
	g_test_add_func("/updown/split-include", test_split_include);
	g_test_add_func("/updown/default-source-ip", test_default_source_ip);
	g_test_add_func("/updown/env-v6", test_env_v6);
	g_test_add_func("/updown/output-logged", test_output_logged);
	g_test_add_func("/updown/failures", test_failures);
	g_test_add_func("/updown/timeout", test_timeout);
	g_test_add_func("/updown/no-fd-leak", test_no_fd_leak);
	g_test_add_func("/updown/fd-limit-restored", test_fd_limit_restored);
	g_test_add_func("/updown/default-script-v4", test_default_v4);
	g_test_add_func("/updown/default-script-v6", test_default_v6);
	g_test_add_func("/updown/builtin-v4", test_builtin_v4);
	g_test_add_func("/updown/builtin-v6", test_builtin_v6);
	g_test_add_func("/updown/builtin-source-ip", test_builtin_source_ip);
	g_test_add_func("/updown/disabled", test_disabled);
	g_test_add_func("/updown/async", test_async);
	g_test_add_func("/updown/rtnl-watch", test_rtnl_watch);
	int r = g_test_run();

	log_set_hook(NULL, NULL);
	g_ptr_array_unref(lines);
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
