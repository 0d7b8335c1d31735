/* The remote-access keywords of the option vocabulary (API.md section 1):
 * XAUTH and Mode Config roles, user name, address pool, what a server
 * sends, xauthby; each value, each refusal with its message, and the
 * normalised map (only what is set). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/ip.h"
#include "common/util.h"
#include "daemon/conn_options.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int parse(struct connection_config *cfg, const char *const *kv, size_t n_pairs,
		 struct ctl_error *err)
{
	const char *keys[40], *values[40];
	g_assert_cmpuint(n_pairs, <=, 40);
	for (size_t i = 0; i < n_pairs; i++) {
		keys[i] = kv[2 * i];
		values[i] = kv[2 * i + 1];
	}
	return connection_config_parse(cfg, keys, values, n_pairs, err);
}

/* the value of key in the normalised map, or NULL (copied into buf) */
static const char *normalised(const struct connection_config *cfg, const char *key, char *buf,
			      size_t len)
{
	size_t n;
	char **keys, **values;
	const char *found = NULL;
	connection_config_normalise(cfg, &n, &keys, &values);
	for (size_t i = 0; i < n; i++) {
		if (streq(keys[i], key)) {
			g_strlcpy(buf, values[i], len);
			found = buf;
		}
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
	return found;
}

static const char *ip(const ip_address *a, char buf[IP_STR_MAX])
{
	return ip_str(a, buf);
}

/* A gateway: left hands out addresses from a pool and checks XAUTH. */
static void test_gateway(void)
{
	const char *kv[] = {
		"left", "192.0.2.1", "right", "%any",
		"leftsubnet", "10.1.0.0/16",
		"leftxauthserver", "yes", "rightxauthclient", "yes",
		"leftmodecfgserver", "yes", "rightmodecfgclient", "yes",
		"rightaddresspool", "10.8.0.10-10.8.0.20",
		"modecfgpull", "no",
		"modecfgdns", "10.1.0.53, 10.1.0.54",
		"modecfgdomains", "corp.example, lab.example",
		"modecfgbanner", "Authorised users only",
		"xauthby", "alwaysok",
	};
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	char a[IP_STR_MAX], buf[600];
	int r = parse(&cfg, kv, N(kv) / 2, &err);
	if (r < 0)
		g_printerr("%s\n", err.message);
	g_assert_cmpint(r, ==, 0);
	g_assert_true(cfg.end[0].xauthserver);
	g_assert_false(cfg.end[0].xauthclient);
	g_assert_true(cfg.end[1].xauthclient);
	g_assert_true(cfg.end[0].modecfgserver);
	g_assert_true(cfg.end[1].modecfgclient);
	g_assert_true(cfg.end[1].has_addresspool);
	g_assert_false(cfg.end[0].has_addresspool);
	g_assert_cmpstr(ip(&cfg.end[1].pool_first, a), ==, "10.8.0.10");
	g_assert_cmpstr(ip(&cfg.end[1].pool_last, a), ==, "10.8.0.20");
	g_assert_false(cfg.modecfgpull);
	g_assert_cmpuint(cfg.n_modecfgdns, ==, 2);
	g_assert_cmpstr(ip(&cfg.modecfgdns[1], a), ==, "10.1.0.54");
	g_assert_cmpstr(cfg.modecfgdomains, ==, "corp.example,lab.example");
	g_assert_cmpstr(cfg.modecfgbanner, ==, "Authorised users only");
	g_assert_cmpint(cfg.xauthby, ==, XAUTHBY_ALWAYSOK);

	g_assert_cmpstr(normalised(&cfg, "leftxauthserver", buf, sizeof(buf)), ==, "yes");
	g_assert_cmpstr(normalised(&cfg, "rightxauthclient", buf, sizeof(buf)), ==, "yes");
	g_assert_cmpstr(normalised(&cfg, "leftmodecfgserver", buf, sizeof(buf)), ==, "yes");
	g_assert_cmpstr(normalised(&cfg, "rightmodecfgclient", buf, sizeof(buf)), ==, "yes");
	g_assert_null(normalised(&cfg, "leftxauthclient", buf, sizeof(buf)));
	g_assert_cmpstr(normalised(&cfg, "rightaddresspool", buf, sizeof(buf)), ==, "10.8.0.10-10.8.0.20");
	g_assert_cmpstr(normalised(&cfg, "modecfgpull", buf, sizeof(buf)), ==, "no");
	g_assert_cmpstr(normalised(&cfg, "modecfgdns", buf, sizeof(buf)), ==, "10.1.0.53,10.1.0.54");
	g_assert_cmpstr(normalised(&cfg, "modecfgdomains", buf, sizeof(buf)), ==, "corp.example,lab.example");
	g_assert_cmpstr(normalised(&cfg, "modecfgbanner", buf, sizeof(buf)), ==, "Authorised users only");
	g_assert_cmpstr(normalised(&cfg, "xauthby", buf, sizeof(buf)), ==, "alwaysok");
	connection_config_free(&cfg);
}

/* A client: right is the gateway; the user name through the alias. */
static void test_client(void)
{
	const char *kv[] = {
		"left", "%defaultroute", "right", "198.51.100.1", "rightsubnet", "10.1.0.0/16",
		"leftxauthclient", "yes", "rightxauthserver", "yes",
		"leftxauthusername", "alice",
		"leftmodecfgclient", "yes", "rightmodecfgserver", "yes",
	};
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	char buf[200];
	g_assert_cmpint(parse(&cfg, kv, N(kv) / 2, &err), ==, 0);
	g_assert_cmpstr(cfg.end[0].username, ==, "alice");
	g_assert_null(cfg.end[1].username);
	g_assert_true(cfg.modecfgpull);                 /* default */
	g_assert_cmpint(cfg.xauthby, ==, XAUTHBY_FILE);  /* default */
	g_assert_cmpstr(normalised(&cfg, "leftusername", buf, sizeof(buf)), ==, "alice");
	g_assert_null(normalised(&cfg, "leftxauthusername", buf, sizeof(buf)));
	g_assert_cmpstr(normalised(&cfg, "modecfgpull", buf, sizeof(buf)), ==, "yes");
	g_assert_cmpstr(normalised(&cfg, "xauthby", buf, sizeof(buf)), ==, "file");
	g_assert_null(normalised(&cfg, "modecfgdns", buf, sizeof(buf)));
	g_assert_null(normalised(&cfg, "modecfgbanner", buf, sizeof(buf)));
	connection_config_free(&cfg);

	/* the keyword itself, on the right end */
	const char *kv2[] = {
		"left", "198.51.100.1", "right", "%defaultroute",
		"leftxauthserver", "yes", "rightxauthclient", "yes", "rightusername", "bob@example.org",
	};
	g_assert_cmpint(parse(&cfg, kv2, N(kv2) / 2, &err), ==, 0);
	g_assert_cmpstr(cfg.end[1].username, ==, "bob@example.org");
	connection_config_free(&cfg);
}

/* No remote-access keyword: none appears in the normalised map. */
static void test_plain_map_unchanged(void)
{
	static const char *const ra_keys[] = {
		"leftxauthclient", "rightxauthclient", "leftxauthserver", "rightxauthserver",
		"leftusername", "rightusername", "leftmodecfgclient", "rightmodecfgclient",
		"leftmodecfgserver", "rightmodecfgserver", "leftaddresspool", "rightaddresspool",
		"modecfgpull", "modecfgdns", "modecfgdomains", "modecfgbanner", "xauthby",
	};
	/* explicit defaults and "no" are not "set" either */
	const char *kv[] = { "left", "192.0.2.1", "right", "192.0.2.2", "modecfgpull", "yes",
			     "xauthby", "file", "leftxauthclient", "no" };
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	char buf[200];
	g_assert_cmpint(parse(&cfg, kv, N(kv) / 2, &err), ==, 0);
	for (size_t i = 0; i < N(ra_keys); i++)
		g_assert_null(normalised(&cfg, ra_keys[i], buf, sizeof(buf)));
	connection_config_free(&cfg);
}

/* Pools: A-B and CIDR, IPv4 and IPv6; a CIDR lends its host addresses. */
static void test_pools(void)
{
	static const struct { const char *pool, *first, *last, *subnet; } cases[] = {
		{ "10.8.0.1-10.8.0.1", "10.8.0.1", "10.8.0.1", "10.1.0.0/16" },
		{ "10.8.0.0/24", "10.8.0.1", "10.8.0.254", "10.1.0.0/16" },   /* no network/broadcast */
		{ "10.8.0.0/30", "10.8.0.1", "10.8.0.2", "10.1.0.0/16" },
		{ "10.8.0.0/31", "10.8.0.0", "10.8.0.1", "10.1.0.0/16" },     /* point-to-point: both */
		{ "10.8.0.7/32", "10.8.0.7", "10.8.0.7", "10.1.0.0/16" },
		{ "10.0.0.0/12", "10.0.0.1", "10.15.255.254", "10.16.0.0/16" },   /* 2^20: the limit */
		{ "2001:db8:8::/120", "2001:db8:8::1", "2001:db8:8::ff", "2001:db8:1::/64" },
		{ "2001:db8:8::/128", "2001:db8:8::", "2001:db8:8::", "2001:db8:1::/64" },
		{ "2001:db8:8::10-2001:db8:8::20", "2001:db8:8::10", "2001:db8:8::20", "2001:db8:1::/64" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *kv[] = {
			"left", "192.0.2.1", "right", "%any", "leftsubnet", cases[i].subnet,
			"leftmodecfgserver", "yes", "rightmodecfgclient", "yes",
			"rightaddresspool", cases[i].pool,
		};
		struct connection_config cfg;
		struct ctl_error err = { 0 };
		char a[IP_STR_MAX];
		int r = parse(&cfg, kv, N(kv) / 2, &err);
		if (r < 0)
			g_printerr("%s: %s\n", cases[i].pool, err.message);
		g_assert_cmpint(r, ==, 0);
		g_assert_cmpstr(ip(&cfg.end[1].pool_first, a), ==, cases[i].first);
		g_assert_cmpstr(ip(&cfg.end[1].pool_last, a), ==, cases[i].last);
		connection_config_free(&cfg);
	}
}

/* Each bad value names keyword, value and what is accepted. */
static void test_bad_values(void)
{
	static const struct { const char *key, *value, *expect; } cases[] = {
		{ "leftxauthclient", "maybe", "yes or no" },
		{ "rightxauthserver", "1", "yes or no" },
		{ "leftmodecfgclient", "on", "yes or no" },
		{ "rightmodecfgserver", "", "yes or no" },
		{ "modecfgpull", "push", "yes or no" },
		{ "leftusername", "", "1 to 127 characters" },
		{ "leftusername", "al ice", "without blanks or quotes" },
		{ "leftxauthusername", "a\"b", "without blanks or quotes" },
		{ "leftusername", "x\ty", "without blanks or quotes" },
		{ "rightaddresspool", "10.8.0.1/24", "host bits" },
		{ "rightaddresspool", "10.8.0.0/8", "host bits" },
		{ "rightaddresspool", "pool", "A-B" },
		{ "rightaddresspool", "10.8.0.9-10.8.0.1", "first address is above its last" },
		{ "rightaddresspool", "10.8.0.1-2001:db8::1", "different address families" },
		{ "rightaddresspool", "10.0.0.0/11", "at most 1048576" },
		{ "rightaddresspool", "10.0.0.0-10.16.0.0", "at most 1048576" },
		{ "rightaddresspool", "2001:db8::/64", "at most 1048576" },
		{ "rightaddresspool", "-10.0.0.1", "A-B" },
		{ "modecfgdns", "ns1.example", "comma list of IP addresses" },
		{ "modecfgdns", "10.0.0.1,,10.0.0.2", "comma list of IP addresses" },
		{ "modecfgdns", "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5", "at most 4" },
		{ "modecfgdomains", "corp example", "domain names" },
		{ "modecfgdomains", "corp.example,", "domain names" },
		{ "modecfgbanner", "line one\nline two", "one line" },
		{ "xauthby", "pam", "file or alwaysok" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *kv[] = { "left", "192.0.2.1", "right", "%any", cases[i].key, cases[i].value };
		struct connection_config cfg;
		struct ctl_error err = { 0 };
		g_assert_cmpint(parse(&cfg, kv, N(kv) / 2, &err), ==, -1);
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		if (!strstr(err.message, cases[i].expect) || !strstr(err.message, cases[i].key))
			g_error("%s=%s: message '%s' lacks '%s'", cases[i].key, cases[i].value,
				err.message, cases[i].expect);
	}
	/* an alias and its keyword on one end fill one field: given twice */
	const char *kv[] = { "left", "192.0.2.1", "right", "%any", "leftusername", "a",
			     "leftxauthusername", "b" };
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	g_assert_cmpint(parse(&cfg, kv, N(kv) / 2, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "'leftxauthusername' given twice (also as 'leftusername')"));
}

/* Roles that do not fit together: refused, the message naming them. */
static void test_inconsistent(void)
{
	static const struct { const char *kv[8]; const char *expect; } cases[] = {
		{ { "leftxauthclient", "yes", "leftxauthserver", "yes", "rightxauthclient", "yes" },
		  "leftxauthclient and leftxauthserver: one end cannot be both XAUTH client and server" },
		{ { "rightmodecfgclient", "yes", "rightmodecfgserver", "yes", "leftmodecfgclient", "yes" },
		  "rightmodecfgclient and rightmodecfgserver: one end cannot be both" },
		{ { "leftxauthclient", "yes" },
		  "leftxauthclient=yes needs rightxauthserver=yes" },
		{ { "rightxauthserver", "yes" },
		  "rightxauthserver=yes needs leftxauthclient=yes" },
		{ { "leftmodecfgclient", "yes" },
		  "leftmodecfgclient=yes needs rightmodecfgserver=yes" },
		{ { "leftmodecfgserver", "yes" },
		  "leftmodecfgserver=yes needs rightmodecfgclient=yes" },
		{ { "leftusername", "alice" },
		  "leftusername is the XAUTH user of a client end: it needs leftxauthclient=yes" },
		{ { "leftxauthserver", "yes", "rightxauthclient", "yes", "leftusername", "alice" },
		  "leftusername is the XAUTH user of a client end" },
		{ { "rightaddresspool", "10.8.0.0/24" },
		  "rightaddresspool needs rightmodecfgclient=yes and leftmodecfgserver=yes" },
		{ { "leftaddresspool", "10.8.0.0/24", "leftmodecfgserver", "yes", "rightmodecfgclient", "yes" },
		  "leftaddresspool needs leftmodecfgclient=yes and rightmodecfgserver=yes" },
		{ { "leftmodecfgserver", "yes", "rightmodecfgclient", "yes", "rightaddresspool", "2001:db8:8::/120" },
		  "rightaddresspool is of another address family than rightsubnet or leftsubnet" },
		{ { "modecfgdns", "10.0.0.53" },
		  "modecfgdns, modecfgdomains and modecfgbanner are what a Mode Config server sends" },
		{ { "modecfgbanner", "hello" },
		  "they need leftmodecfgserver=yes or rightmodecfgserver=yes" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *kv[14] = { "left", "192.0.2.1", "right", "%any", "leftsubnet", "10.1.0.0/16" };
		size_t n = 6;
		for (size_t k = 0; k < 8 && cases[i].kv[k]; k++)
			kv[n++] = cases[i].kv[k];
		struct connection_config cfg;
		struct ctl_error err = { 0 };
		g_assert_cmpint(parse(&cfg, kv, n / 2, &err), ==, -1);
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		if (!strstr(err.message, "inconsistent options: ") || !strstr(err.message, cases[i].expect))
			g_error("case %zu: message '%s' lacks '%s'", i, err.message, cases[i].expect);
	}
}

/* Every keyword is in the list ipsecctl list-keywords shows. */
static void collect(const char *keyword, void *ctx)
{
	GString *all = ctx;
	g_string_append_printf(all, " %s ", keyword);
}

static void test_keywords_listed(void)
{
	static const char *const words[] = {
		"leftxauthclient", "rightxauthclient", "leftxauthserver", "rightxauthserver",
		"leftusername", "rightusername", "leftxauthusername", "rightxauthusername",
		"leftmodecfgclient", "rightmodecfgclient", "leftmodecfgserver", "rightmodecfgserver",
		"leftaddresspool", "rightaddresspool",
		"modecfgpull", "modecfgdns", "modecfgdomains", "modecfgbanner", "xauthby",
	};
	GString *all = g_string_new("");
	conn_option_keywords(collect, all);
	for (size_t i = 0; i < N(words); i++) {
		char needle[64];
		snprintf(needle, sizeof(needle), " %s ", words[i]);
		if (!strstr(all->str, needle))
			g_error("%s missing from conn_option_keywords()", words[i]);
		g_assert_true(connection_option_known(words[i]));
	}
	g_string_free(all, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/options-ra/gateway", test_gateway);
	g_test_add_func("/options-ra/client", test_client);
	g_test_add_func("/options-ra/plain-map-unchanged", test_plain_map_unchanged);
	g_test_add_func("/options-ra/pools", test_pools);
	g_test_add_func("/options-ra/bad-values", test_bad_values);
	g_test_add_func("/options-ra/inconsistent", test_inconsistent);
	g_test_add_func("/options-ra/keywords-listed", test_keywords_listed);
	return g_test_run();
}
