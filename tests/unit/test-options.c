/* The connection option vocabulary (API.md section 1): one parser, every
 * keyword validated, errors naming keyword and value, nothing half-added. */
#include <glib.h>
#include <string.h>

#include "common/id.h"
#include "common/intern.h"
#include "common/ip.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/state.h"
#include "policy/algs.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int parse(struct connection_config *cfg, const char *const *kv, size_t n_pairs,
		 struct ctl_error *err)
{
	const char *keys[32], *values[32];
	g_assert_cmpuint(n_pairs, <=, 32);
	for (size_t i = 0; i < n_pairs; i++) {
		keys[i] = kv[2 * i];
		values[i] = kv[2 * i + 1];
	}
	return connection_config_parse(cfg, keys, values, n_pairs, err);
}

static void test_defaults(void)
{
	const char *kv[] = { "left", "192.0.2.1", "right", "192.0.2.2" };
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	g_assert_cmpint(parse(&cfg, kv, N(kv) / 2, &err), ==, 0);
	g_assert_cmpuint(cfg.ikelifetime, ==, 3600);
	g_assert_cmpuint(cfg.salifetime, ==, 28800);
	g_assert_cmpuint(cfg.rekeymargin, ==, 540);
	g_assert_cmpuint(cfg.rekeyfuzz, ==, 100);
	g_assert_cmpuint(cfg.keyingtries, ==, 3);
	g_assert_true(cfg.policy & POLICY_PSK);
	g_assert_true(cfg.policy & POLICY_RSASIG);
	g_assert_true(cfg.policy & POLICY_ENCRYPT);
	g_assert_true(cfg.policy & POLICY_TUNNEL);
	g_assert_cmpuint(cfg.end[0].ikeport, ==, 500);
	g_assert_cmpstr(cfg.ike, ==, default_ike_proposals);
	g_assert_cmpuint(cfg.ike_proposals->n, ==, 3);
	connection_config_free(&cfg);
}

static void test_every_keyword(void)
{
	const char *kv[] = {
		"left", "192.0.2.1", "right", "%any",
		"leftid", "@gw.example.org", "rightid", "road@example.org",
		"leftsubnet", "10.1.0.0/16", "rightsubnet", "10.2.0.0/24",
		"leftnexthop", "192.0.2.254", "rightnexthop", "%direct",
		"leftikeport", "4500", "rightikeport", "500",
		"leftupdown", "/usr/libexec/pluto/updown --verbose",
		"authby", "secret", "phase2", "esp", "type", "transport",
		"compress", "yes", "pfs", "yes",
		"ike", "aes128-sha1-modp2048,3des-md5-modp1024",
		"esp", "aes128-sha1,3des-md5", "ah", "sha1,md5", "pfsgroup", "modp1536",
		"ikelifetime", "2h", "salifetime", "30m", "rekeymargin", "5m",
		"rekeyfuzz", "50%", "keyingtries", "%forever", "rekey", "no", "auto", "route",
	};
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	int r = parse(&cfg, kv, N(kv) / 2, &err);
	if (r < 0)
		g_printerr("%s\n", err.message);
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpint(cfg.end[1].host_kind, ==, HOST_ANY);
	g_assert_cmpint(cfg.end[0].id.kind, ==, ID_FQDN);
	g_assert_cmpint(cfg.end[1].id.kind, ==, ID_USER_FQDN);
	g_assert_true(cfg.end[0].has_client);
	g_assert_cmpuint(cfg.end[0].client.prefix, ==, 16);
	g_assert_true(cfg.end[1].nexthop_direct);
	g_assert_cmpuint(cfg.end[0].ikeport, ==, 4500);
	g_assert_cmpuint(cfg.policy & (POLICY_PSK | POLICY_RSASIG), ==, POLICY_PSK);
	g_assert_false(cfg.policy & POLICY_TUNNEL);
	g_assert_true(cfg.policy & POLICY_COMPRESS);
	g_assert_true(cfg.policy & POLICY_PFS);
	g_assert_true(cfg.policy & POLICY_DONT_REKEY);
	g_assert_cmpuint(cfg.ike_proposals->n, ==, 2);
	g_assert_cmpstr(cfg.ike_proposals->p[1].dh->name, ==, "modp1024");
	g_assert_cmpuint(cfg.esp_proposals->n, ==, 2);
	g_assert_cmpuint(cfg.ah_proposals->n, ==, 2);
	g_assert_cmpstr(cfg.pfs_group->name, ==, "modp1536");
	g_assert_cmpuint(cfg.ikelifetime, ==, 7200);
	g_assert_cmpuint(cfg.salifetime, ==, 1800);
	g_assert_cmpuint(cfg.rekeymargin, ==, 300);
	g_assert_cmpuint(cfg.rekeyfuzz, ==, 50);
	g_assert_cmpuint(cfg.keyingtries, ==, 0);
	g_assert_cmpint(cfg.auto_action, ==, AUTO_ROUTE);

	size_t n;
	char **keys, **values;
	connection_config_normalise(&cfg, &n, &keys, &values);
	gboolean saw_ikelifetime = FALSE;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_assert_cmpint(strcmp(keys[i - 1], keys[i]), <, 0);   /* sorted */
		if (streq(keys[i], "ikelifetime")) {
			g_assert_cmpstr(values[i], ==, "7200s");
			saw_ikelifetime = TRUE;
		}
		if (streq(keys[i], "right"))
			g_assert_cmpstr(values[i], ==, "%any");
	}
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	g_assert_true(saw_ikelifetime);
	free(keys);
	free(values);
	connection_config_free(&cfg);
}

/* Each bad input names the keyword and the value in the error. */
static void test_bad_values(void)
{
	static const struct { const char *key, *value, *expect; } cases[] = {
		{ "left", "300.1.1.1", "not an IP address" },
		{ "leftid", "@", "DNS name" },
		{ "leftsubnet", "10.0.0.1/8", "host bits" },
		{ "leftsubnet", "10.0.0.0/33", "prefix length" },
		{ "leftnexthop", "gateway", "%direct" },
		{ "leftikeport", "0", "UDP port" },
		{ "leftikeport", "65536", "UDP port" },
		{ "leftupdown", "", "command" },
		{ "leftrsasigkey", "AQOabc", "0s" },
		{ "authby", "cert", "secret" },
		{ "phase2", "gre", "esp" },
		{ "type", "passthrough", "tunnel" },
		{ "compress", "maybe", "yes or no" },
		{ "pfs", "1", "yes or no" },
		{ "ike", "aes128-sha1", "cipher-hash-group" },
		{ "ike", "blowfish-sha1-modp2048", "unknown cipher 'blowfish'" },
		{ "ike", "aes128-sha1-modp768", "unknown DH group 'modp768'" },
		{ "esp", "aes128-crc32", "unknown integrity algorithm 'crc32'" },
		{ "ah", "aes128-sha1", "one integrity algorithm" },
		{ "pfsgroup", "modp512", "unknown DH group" },
		{ "ikelifetime", "1y", "duration" },
		{ "salifetime", "-5", "duration" },
		{ "rekeyfuzz", "abc%", "percentage" },
		{ "keyingtries", "lots", "count" },
		{ "rekey", "sometimes", "yes or no" },
		{ "auto", "sometimes", "ignore, add, route or start" },   /* ignore: ipsec.conf(5) */
		{ "bogus", "1", "unknown option keyword 'bogus'" },
		{ "leftbogus", "1", "unknown option keyword 'leftbogus'" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *kv[] = { "left", "192.0.2.1", "right", "192.0.2.2", cases[i].key, cases[i].value };
		/* "left" twice would be a duplicate: replace the default pair instead */
		size_t pairs = 3;
		if (streq(cases[i].key, "left")) {
			kv[1] = cases[i].value;
			pairs = 2;
		}
		struct connection_config cfg;
		struct ctl_error err = { 0 };
		g_assert_cmpint(parse(&cfg, kv, pairs, &err), ==, -1);
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		if (!strstr(err.message, cases[i].expect) ||
		    (!streq(cases[i].key, "bogus") && !streq(cases[i].key, "leftbogus") &&
		     (!strstr(err.message, cases[i].key) || !strstr(err.message, cases[i].value))))
			g_error("case %s=%s: message \"%s\" lacks \"%s\", the keyword or the value",
				cases[i].key, cases[i].value, err.message, cases[i].expect);
		/* nothing half-parsed remains */
		g_assert_null(cfg.ike);
		g_assert_null(cfg.end[0].updown);
	}
}

static void test_inconsistent(void)
{
	struct { const char *kv[8]; size_t pairs; const char *expect; } cases[] = {
		{ { "left", "%any", "right", "%any" }, 2, "both be %any" },
		{ { "left", "192.0.2.1", "right", "2001:db8::1" }, 2, "address families" },
		{ { "left", "192.0.2.1", "right", "192.0.2.2", "phase2", "none", "leftsubnet", "10.0.0.0/8" }, 4, "client subnets" },
		{ { "left", "192.0.2.1", "right", "192.0.2.2", "rekeymargin", "2h" }, 3, "rekeymargin" },
		{ { "left", "192.0.2.1" }, 1, "'right' is required" },
		{ { "left", "192.0.2.1", "right", "192.0.2.2", "left", "192.0.2.3" }, 3, "given twice" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct connection_config cfg;
		struct ctl_error err = { 0 };
		g_assert_cmpint(parse(&cfg, cases[i].kv, cases[i].pairs, &err), ==, -1);
		if (!strstr(err.message, cases[i].expect))
			g_error("case %zu: \"%s\" lacks \"%s\"", i, err.message, cases[i].expect);
	}
}

/* Through the control core: orientation, duplicates, nothing half-added. */
static void test_control_add(void)
{
	const char *keys[] = { "left", "right", "rightsubnet" };
	const char *values[] = { "127.0.0.1", "192.0.2.2", "10.9.0.0/16" };
	struct ctl_error err = { 0 };
	struct connection *c = NULL;
	int r = ctl_add_connection("t1", keys, values, 3, &c, &err);
	if (r < 0)
		g_printerr("%s\n", err.message);
	g_assert_cmpint(r, ==, 0);
	g_assert_nonnull(c);
	g_assert_cmpint(c->this, ==, 0);             /* 127.0.0.1 is ours */
	g_assert_cmpint(ctl_add_connection("t1", keys, values, 3, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_DUPLICATE_NAME);

	/* swapped: we are right */
	const char *values2[] = { "192.0.2.2", "127.0.0.1", "10.9.0.0/16" };
	const char *keys2[] = { "left", "right", "leftsubnet" };
	g_assert_cmpint(ctl_add_connection("t2", keys2, values2, 3, &c, &err), ==, 0);
	g_assert_cmpint(c->this, ==, 1);

	/* neither end is ours */
	const char *values3[] = { "192.0.2.2", "192.0.2.3" };
	g_assert_cmpint(ctl_add_connection("t3", keys, values3, 2, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_CANNOT_ORIENT);
	g_assert_null(connection_by_name("t3"));

	/* bad option: not added */
	const char *keys4[] = { "left", "right", "pfs" };
	const char *values4[] = { "127.0.0.1", "192.0.2.2", "perhaps" };
	g_assert_cmpint(ctl_add_connection("t4", keys4, values4, 3, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	g_assert_null(connection_by_name("t4"));

	/* bad name */
	g_assert_cmpint(ctl_add_connection("a b", keys, values, 3, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);

	/* template */
	const char *values5[] = { "127.0.0.1", "%any" };
	g_assert_cmpint(ctl_add_connection("rw", keys, values5, 2, &c, &err), ==, 0);
	g_assert_true(c->is_template);
	g_assert_cmpint(ctl_route("rw", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_CANNOT_ROUTE);

	g_assert_cmpuint(connections_count(), ==, 3);
	g_assert_cmpint(ctl_route("t1", &err), ==, 0);
	g_assert_cmpint(connection_by_name("t1")->routing, ==, RT_PROSPECTIVE);
	g_assert_cmpint(ctl_unroute("t1", &err), ==, 0);
	g_assert_cmpint(ctl_initiate("t1", NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_NOT_LISTENING);
	g_assert_cmpint(ctl_delete_connection("t1", &err), ==, 0);
	g_assert_cmpint(ctl_delete_connection("t1", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_UNKNOWN_NAME);

	char *text = ctl_status_text();
	g_assert_nonnull(strstr(text, "\"t2\": 10.9.0.0/16===192.0.2.2:500...127.0.0.1:500"));
	g_assert_nonnull(strstr(text, "\"rw\""));
	free(text);
	connections_delete_all();
	g_assert_cmpuint(connections_count(), ==, 0);
}

static void test_ip_and_ids(void)
{
	ip_address a;
	ip_subnet s;
	char buf[IP_STR_MAX], ib[ID_STR_MAX];
	const char *why;
	g_assert_true(ip_parse("2001:db8::1", &a));
	g_assert_cmpstr(ip_str(&a, buf), ==, "2001:db8::1");
	g_assert_false(ip_parse("1.2.3", &a));
	g_assert_true(subnet_parse("2001:db8::/32", &s, &why));
	g_assert_cmpstr(subnet_str(&s, buf), ==, "2001:db8::/32");
	g_assert_false(subnet_parse("2001:db8::1/32", &s, &why));
	g_assert_true(subnet_parse("192.0.2.7", &s, &why));
	g_assert_cmpuint(s.prefix, ==, 32);

	struct pluto_id id;
	g_assert_true(id_parse("@vpn.example.com", &id, &why));
	g_assert_cmpstr(id_str(&id, ib), ==, "@vpn.example.com");
	g_assert_true(id_parse("alice@example.com", &id, &why));
	g_assert_cmpint(id.kind, ==, ID_USER_FQDN);
	g_assert_true(id_parse("2001:db8::5", &id, &why));
	g_assert_cmpint(id.kind, ==, ID_IPV6_ADDR);
	g_assert_true(id_parse("%any", &id, &why));
	g_assert_false(id_parse("a@b@c", &id, &why));
	g_assert_false(id_parse("not an id", &id, &why));
	struct pluto_id x, y;
	id_parse("@A.example", &x, NULL);
	id_parse("@a.EXAMPLE", &y, NULL);
	g_assert_true(id_equal(&x, &y));
}

static void test_durations(void)
{
	unsigned long long v;
	g_assert_true(parse_duration("90", &v));
	g_assert_cmpuint(v, ==, 90);
	g_assert_true(parse_duration("1d", &v));
	g_assert_cmpuint(v, ==, 86400);
	g_assert_false(parse_duration("", &v));
	g_assert_false(parse_duration("5x", &v));
	g_assert_false(parse_duration("99999999999d", &v));
}

/* Equal proposals are one interned table: a copy (a road-warrior
 * instance) and a second config with the same ike= share it; the last
 * release frees it (ASan sees a leak or a double free otherwise). */
static void test_interned_proposals(void)
{
	const char *k1[] = { "left", "right", "ike" }, *v1[] = { "10.0.0.1", "%any", "aes128-sha1-modp2048" };
	const char *v2[] = { "10.0.0.1", "10.0.0.2", "aes128-sha1-modp2048" };
	const char *v3[] = { "10.0.0.1", "10.0.0.2", "aes256-sha2_256-modp2048" };
	struct connection_config a, b, c, copy;
	struct ctl_error err;
	size_t before = intern_count();
	g_assert_cmpint(connection_config_parse(&a, k1, v1, 3, &err), ==, 0);
	g_assert_cmpint(connection_config_parse(&b, k1, v2, 3, &err), ==, 0);
	g_assert_cmpint(connection_config_parse(&c, k1, v3, 3, &err), ==, 0);
	g_assert_true(a.ike_proposals == b.ike_proposals);
	g_assert_true(a.esp_proposals == c.esp_proposals);   /* both the default esp= */
	g_assert_true(a.ike_proposals != c.ike_proposals);
	/* 2 ike, esp, ah: the tables and their texts */
	g_assert_cmpuint(intern_count(), ==, before + 8);
	connection_config_copy(&copy, &a);
	g_assert_true(copy.ike_proposals == a.ike_proposals);
	g_assert_true(copy.ike == a.ike);
	connection_config_free(&a);
	connection_config_free(&b);
	g_assert_cmpuint(copy.ike_proposals->n, ==, 1);      /* still held by the copy */
	connection_config_free(&copy);
	g_assert_cmpuint(intern_count(), ==, before + 6);
	connection_config_free(&c);
	g_assert_cmpuint(intern_count(), ==, before);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/options/defaults", test_defaults);
	g_test_add_func("/options/every-keyword", test_every_keyword);
	g_test_add_func("/options/bad-values", test_bad_values);
	g_test_add_func("/options/inconsistent", test_inconsistent);
	g_test_add_func("/options/control-add", test_control_add);
	g_test_add_func("/options/ip-and-ids", test_ip_and_ids);
	g_test_add_func("/options/durations", test_durations);
	g_test_add_func("/options/interned-proposals", test_interned_proposals);
	return g_test_run();
}
