/* ipsec.conf(5): the loader's syntax, %default and also=, include globs,
 * every error with its FILE:LINE (all of them, in file order), validation
 * through the one option parser, and real-world files loading unchanged. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/conn_options.h"
#include "daemon/ipsec_conf.h"

/* Parse text named "t.conf"; returns the messages joined by '\n', or NULL
 * when it loaded (then *conf holds it, for the caller to free). */
static char *parse_flags(const char *text, size_t len, unsigned flags, struct ipsec_conf *conf)
{
	struct conf_diag diag;
	int r = ipsec_conf_parse_text(text, len, "t.conf", flags, conf, &diag);
	if (r == 0) {
		g_assert_cmpuint(diag.n, ==, 0);
		return NULL;
	}
	g_assert_cmpint(r, ==, -1);
	g_assert_cmpuint(diag.n, >, 0);
	g_assert_cmpuint(conf->n_conns, ==, 0);
	g_assert_null(conf->conns);
	char *joined = g_strjoinv("\n", diag.lines);
	g_assert_null(diag.lines[diag.n]);
	conf_diag_free(&diag);
	return joined;
}

static char *parse(const char *text, struct ipsec_conf *conf)
{
	return parse_flags(text, strlen(text), IPSEC_CONF_NO_FILES, conf);
}

/* text must fail with exactly these messages */
static void assert_errors(const char *text, const char *expected)
{
	struct ipsec_conf conf;
	g_autofree char *got = parse(text, &conf);
	if (!got)
		ipsec_conf_free(&conf);
	g_assert_cmpstr(got, ==, expected);
}

static struct ipsec_conf load_ok(const char *text)
{
	struct ipsec_conf conf;
	g_autofree char *got = parse(text, &conf);
	g_assert_cmpstr(got, ==, NULL);
	return conf;
}

static const char *setting(const struct conf_conn *c, const char *key)
{
	for (size_t i = 0; i < c->n_settings; i++)
		if (strcmp(c->settings[i].key, key) == 0)
			return c->settings[i].value;
	return NULL;
}

static unsigned setting_line(const struct conf_conn *c, const char *key)
{
	for (size_t i = 0; i < c->n_settings; i++)
		if (strcmp(c->settings[i].key, key) == 0)
			return c->settings[i].line;
	return 0;
}

#define TWO_ENDS "\tleft=192.0.2.1\n\tright=192.0.2.2\n"

static void test_minimal(void)
{
	struct ipsec_conf conf = load_ok("conn a\n" TWO_ENDS "\tauto=start\n");
	g_assert_cmpuint(conf.n_conns, ==, 1);
	const struct conf_conn *a = &conf.conns[0];
	g_assert_cmpstr(a->name, ==, "a");
	g_assert_cmpstr(a->file, ==, "t.conf");
	g_assert_cmpuint(a->line, ==, 1);
	g_assert_cmpuint(a->n_settings, ==, 3);
	g_assert_cmpstr(a->settings[0].key, ==, "left");
	g_assert_cmpstr(a->settings[1].key, ==, "right");
	g_assert_cmpstr(a->settings[2].key, ==, "auto");
	g_assert_cmpstr(a->settings[2].value, ==, "start");
	g_assert_cmpuint(a->settings[2].line, ==, 4);
	g_assert_cmpstr(a->settings[2].file, ==, "t.conf");
	g_assert_false(a->ignore);
	g_assert_true(ipsec_conf_conn(&conf, "a") == a);
	g_assert_null(ipsec_conf_conn(&conf, "b"));
	g_assert_cmpstr(conf.files[0], ==, "t.conf");
	g_assert_null(conf.files[1]);
	g_assert_cmpint(conf.setup.uniqueids, ==, -1);
	g_assert_cmpint(conf.setup.listen, ==, -1);
	g_assert_null(conf.setup.interfaces);
	g_assert_null(conf.setup.plutodebug);
	ipsec_conf_free(&conf);

	/* an empty file and one of comments only: no conns, no error */
	conf = load_ok("");
	g_assert_cmpuint(conf.n_conns, ==, 0);
	ipsec_conf_free(&conf);
	conf = load_ok("# nothing\n\n   \n\t# indented comment\n");
	g_assert_cmpuint(conf.n_conns, ==, 0);
	ipsec_conf_free(&conf);
}

static void test_version(void)
{
	struct ipsec_conf conf = load_ok("version 2\n");
	ipsec_conf_free(&conf);
	conf = load_ok("version 2.0 # the second version\nconn a\n" TWO_ENDS);
	ipsec_conf_free(&conf);
	assert_errors("version 3\n", "t.conf:1: only version 2 (or 2.0) of the format exists");
	assert_errors("version 2\nversion 2\n", "t.conf:2: version given twice (first at line 1)");
}

static void test_setup(void)
{
	struct ipsec_conf conf = load_ok("config setup\n"
					 "\tinterfaces=\"eth0 eth1\"\n"
					 "\tuniqueids=no\n"
					 "\tplutodebug=\"control crypt\"\n"
					 "\tlisten=no\n");
	g_assert_nonnull(conf.setup.interfaces);
	g_assert_cmpstr(conf.setup.interfaces[0], ==, "eth0");
	g_assert_cmpstr(conf.setup.interfaces[1], ==, "eth1");
	g_assert_null(conf.setup.interfaces[2]);
	g_assert_cmpint(conf.setup.uniqueids, ==, 0);
	g_assert_cmpstr(conf.setup.plutodebug, ==, "control crypt");
	g_assert_cmpint(conf.setup.listen, ==, 0);
	ipsec_conf_free(&conf);

	conf = load_ok("config setup\n\tinterfaces=%defaultroute\n\tuniqueids=yes\n\tlisten=yes\n\tplutodebug=all\n");
	g_assert_null(conf.setup.interfaces);
	g_assert_cmpint(conf.setup.uniqueids, ==, 1);
	g_assert_cmpint(conf.setup.listen, ==, 1);
	ipsec_conf_free(&conf);

	assert_errors("config setup\n"
		      "\tnat_traversal=yes\n"
		      "\tuniqueids=maybe\n"
		      "\tplutodebug=\"control bogus\"\n"
		      "\tinterfaces=\"eth0 et/h1\"\n"
		      "\tlisten=yes\n"
		      "\tlisten=no\n"
		      "config setup\n"
		      "\tuniqueids=yes\n"
		      "config other\n",
		      "t.conf:2: unknown keyword 'nat_traversal'\n"
		      "t.conf:3: invalid value 'maybe' for 'uniqueids': must be yes or no\n"
		      "t.conf:4: invalid value 'control bogus' for 'plutodebug': unknown debug class 'bogus' (see pluto(8) --debug-CLASS)\n"
		      "t.conf:5: invalid value 'eth0 et/h1' for 'interfaces': 'et/h1' is not an interface name (or %defaultroute alone)\n"
		      "t.conf:7: 'listen' given twice in config setup (first at t.conf:6)\n"
		      "t.conf:8: config setup given twice (first at t.conf:1)\n"
		      "t.conf:9: 'uniqueids' given twice in config setup (first at t.conf:3)\n"
		      "t.conf:10: only 'config setup' exists");
	/* conn keywords are not setup keywords */
	assert_errors("config setup\n\tleft=192.0.2.1\n", "t.conf:2: unknown keyword 'left'");
}

static void test_comments_and_quotes(void)
{
	struct ipsec_conf conf = load_ok("# a comment\n"
					 "conn a # trailing comment on the header\n"
					 "\tleft=192.0.2.1 # after a value\n"
					 "# an unindented comment does not end the section\n"
					 "\tright = 192.0.2.2\n"
					 "\tleftupdown=\"/bin/updown --arg 'x' # not a comment\"   # but this is\n"
					 "\trightid=\"@peer.example\"\n"
					 "\r\n"
					 "\tauto=add\r\n");
	const struct conf_conn *a = &conf.conns[0];
	g_assert_cmpstr(setting(a, "left"), ==, "192.0.2.1");
	g_assert_cmpstr(setting(a, "right"), ==, "192.0.2.2");
	g_assert_cmpstr(setting(a, "leftupdown"), ==, "/bin/updown --arg 'x' # not a comment");
	g_assert_cmpstr(setting(a, "rightid"), ==, "@peer.example");
	g_assert_cmpstr(setting(a, "auto"), ==, "add");
	g_assert_cmpuint(setting_line(a, "auto"), ==, 9);
	ipsec_conf_free(&conf);

	/* a section ends at the next unindented line */
	assert_errors("conn a\n" TWO_ENDS "include\n\tauto=add\n",
		      "t.conf:4: include needs one file name or pattern\n"
		      "t.conf:5: indented line outside a section: put it under a conn or config setup line");
}

static void test_default(void)
{
	/* %default applies to every conn, before or after it; a conn's own
	 * setting wins; the setting keeps the line it came from */
	struct ipsec_conf conf = load_ok("conn first\n" TWO_ENDS
					 "\tikelifetime=2h\n"
					 "conn %default\n"
					 "\tikelifetime=4h\n"
					 "\tkeyingtries=%forever\n"
					 "conn second\n" TWO_ENDS);
	g_assert_cmpuint(conf.n_conns, ==, 2);
	const struct conf_conn *first = ipsec_conf_conn(&conf, "first");
	const struct conf_conn *second = ipsec_conf_conn(&conf, "second");
	g_assert_cmpstr(setting(first, "ikelifetime"), ==, "2h");
	g_assert_cmpuint(setting_line(first, "ikelifetime"), ==, 4);
	g_assert_cmpstr(setting(first, "keyingtries"), ==, "%forever");
	g_assert_cmpuint(setting_line(first, "keyingtries"), ==, 7);
	g_assert_cmpstr(setting(second, "ikelifetime"), ==, "4h");
	g_assert_cmpuint(setting_line(second, "ikelifetime"), ==, 6);
	g_assert_null(ipsec_conf_conn(&conf, "%default"));
	ipsec_conf_free(&conf);

	/* several %default sections add up; a keyword twice across them is an error */
	assert_errors("conn %default\n\tpfs=yes\nconn %default\n\tpfs=no\n",
		      "t.conf:4: 'pfs' given twice in conn %default (first at line 2)");
	/* a bad %default value is reported once, at its line, not per conn */
	assert_errors("conn %default\n\tpfs=maybe\nconn a\n" TWO_ENDS "conn b\n" TWO_ENDS,
		      "t.conf:2: invalid value 'maybe' for option 'pfs': must be yes or no");
	assert_errors("conn %default\n\talso=a\nconn a\n" TWO_ENDS,
		      "t.conf:2: also= cannot be used in conn %default");
}

static void test_also(void)
{
	/* nested; the nearest section wins (a conn's own line over what also=
	 * pulls in, a section over what it pulls in itself, the first named
	 * among equals), wherever the also= line stands, as libreswan does */
	struct ipsec_conf conf = load_ok("conn c\n"
					 "\talso=base\n"           /* 2 */
					 "\tpfs=no\n"              /* 3: overrides base's */
					 "\tauto=route\n"
					 "conn base\n"             /* 5 */
					 "\tauto=ignore\n"
					 "\talso=ends\n"
					 "\tpfs=yes\n"
					 "\tikelifetime=2h\n"
					 "conn ends\n"             /* 10 */
					 TWO_ENDS
					 "\tikelifetime=3h\n"      /* 13: base's own line (9) wins */
					 "\tauto=ignore\n"
					 "conn d\n"                /* 15 */
					 "\tsalifetime=1h\n"       /* its own: not overridden by the also= below it */
					 "\talso=ends extra\n"
					 "\talso=late\n"
					 "\tauto=add\n"
					 "conn extra\n\tsalifetime=2h\n\tpfs=yes\n\tauto=ignore\n"
					 "conn late\n\tsalifetime=4h\n\tauto=ignore\n");
	g_assert_cmpuint(conf.n_conns, ==, 6);
	const struct conf_conn *c = ipsec_conf_conn(&conf, "c");
	g_assert_cmpstr(setting(c, "pfs"), ==, "no");
	g_assert_cmpuint(setting_line(c, "pfs"), ==, 3);
	g_assert_cmpstr(setting(c, "ikelifetime"), ==, "2h");
	g_assert_cmpstr(setting(c, "left"), ==, "192.0.2.1");
	g_assert_cmpstr(setting(c, "auto"), ==, "route");
	g_assert_null(setting(c, "also"));
	g_assert_false(c->ignore);
	/* base and ends: auto=ignore fragments, validated but never loaded */
	g_assert_true(ipsec_conf_conn(&conf, "base")->ignore);
	g_assert_true(ipsec_conf_conn(&conf, "ends")->ignore);
	const struct conf_conn *d = ipsec_conf_conn(&conf, "d");
	g_assert_cmpstr(setting(d, "salifetime"), ==, "1h");
	g_assert_cmpstr(setting(d, "pfs"), ==, "yes");
	g_assert_cmpstr(setting(d, "ikelifetime"), ==, "3h");
	g_assert_cmpstr(setting(d, "auto"), ==, "add");
	/* the settings' order is the order the keywords first appeared */
	g_assert_cmpstr(d->settings[0].key, ==, "salifetime");
	g_assert_cmpstr(d->settings[1].key, ==, "left");
	ipsec_conf_free(&conf);

	/* two conns pulled in at the same distance: the first named wins,
	 * even when the second comes from a later also= line; %default loses
	 * to both */
	conf = load_ok("conn %default\n\tsalifetime=8h\n"
		       "conn e\n" TWO_ENDS "\talso=first\n\talso=second\n"
		       "conn first\n\tsalifetime=2h\n\tauto=ignore\n"
		       "conn second\n\tsalifetime=4h\n\tpfs=no\n\tauto=ignore\n");
	const struct conf_conn *e = ipsec_conf_conn(&conf, "e");
	g_assert_cmpstr(setting(e, "salifetime"), ==, "2h");
	g_assert_cmpstr(setting(e, "pfs"), ==, "no");
	/* auto= is not pulled in: the fragments' auto=ignore stays theirs */
	g_assert_null(setting(e, "auto"));
	g_assert_false(e->ignore);
	ipsec_conf_free(&conf);

	assert_errors("conn a\n" TWO_ENDS "\talso=nope\n",
		      "t.conf:4: also=nope: no conn 'nope'");
	assert_errors("conn a\n" TWO_ENDS "\talso=%default\n",
		      "t.conf:4: also=%default: no conn '%default' (%default applies to every conn already)");
	/* a loop is refused once, with its chain */
	assert_errors("conn a\n" TWO_ENDS "\talso=b\n"
		      "conn b\n\talso=c\n"
		      "conn c\n\talso=a\n",
		      "t.conf:8: also=a: loop a -> b -> c -> a");
	assert_errors("conn a\n" TWO_ENDS "\talso=a\n", "t.conf:4: also=a: loop a -> a");
}

static void test_auto(void)
{
	struct ipsec_conf conf = load_ok("conn a\n" TWO_ENDS "\tauto=ignore\n"
					 "conn frag\n\tpfs=yes\n\tauto=ignore\n");
	g_assert_true(conf.conns[0].ignore);
	g_assert_cmpstr(setting(&conf.conns[0], "auto"), ==, "ignore");
	g_assert_true(conf.conns[1].ignore);
	ipsec_conf_free(&conf);
	/* an ignored conn's values are still checked */
	assert_errors("conn frag\n\tpfs=perhaps\n\tauto=ignore\n",
		      "t.conf:2: invalid value 'perhaps' for option 'pfs': must be yes or no");
	assert_errors("conn a\n" TWO_ENDS "\tauto=sometimes\n",
		      "t.conf:4: invalid value 'sometimes' for option 'auto': must be ignore, add, route or start");

	/* the option parser knows auto=ignore; also= belongs to the file */
	const char *keys[] = { "left", "right", "auto", "also" };
	const char *values[] = { "192.0.2.1", "192.0.2.2", "ignore", "x" };
	struct connection_config cfg;
	struct ctl_error err;
	size_t bad = 0;
	g_assert_cmpint(connection_config_parse(&cfg, keys, values, 3, &err), ==, 0);
	g_assert_cmpint(cfg.auto_action, ==, AUTO_IGNORE);
	connection_config_free(&cfg);
	g_assert_cmpint(connection_config_parse_at(&cfg, keys, values, 4, &bad, &err), ==, -1);
	g_assert_cmpuint(bad, ==, 3);
	g_assert_nonnull(strstr(err.message, "'also' is only for ipsec.conf(5)"));
	g_assert_cmpint(connection_config_parse_at(&cfg, keys, values, 1, &bad, &err), ==, -1);
	g_assert_cmpuint(bad, ==, SIZE_MAX);
	g_assert_true(connection_option_known("leftsubnet"));
	g_assert_false(connection_option_known("also"));
	g_assert_false(connection_option_known("ikev2"));
}

static void test_syntax_errors(void)
{
	/* every error at once, in file order, each with its line */
	assert_errors("left=192.0.2.1\n"                 /* 1 */
		      "\tright=192.0.2.2\n"              /* 2 */
		      "conn a\n"                         /* 3 */
		      TWO_ENDS                           /* 4, 5 */
		      "\tjust words here\n"              /* 6 */
		      "\tpfs=yes\n"                      /* 7 */
		      "\tpfs=no\n"                       /* 8 */
		      "\tcompress=\n"                    /* 9 */
		      "\tcompress=\"\"\n"                /* 10 */
		      "\tikev2=insist\n"                 /* 11 */
		      "\t=yes\n"                         /* 12 */
		      "\tleftid=\"@a\" junk\n"           /* 13 */
		      "\tleftid=@a\"b\n"                 /* 14 */
		      "\trightid=\"@open\n"              /* 15 */
		      "conn a\n"                         /* 16 */
		      "conn bad/name\n"                  /* 17 */
		      "conn\n"                           /* 18 */
		      "setup\n"                          /* 19 */
		      "conn b\n"                         /* 20 */
		      "\tleft=192.0.2.1\n",              /* 21: right missing */
		      "t.conf:1: 'left=...' is not indented: settings go under a conn or config setup line\n"
		      "t.conf:2: indented line outside a section: put it under a conn or config setup line\n"
		      "t.conf:6: 'just words here' is not key=value: no '='\n"
		      "t.conf:8: 'pfs' given twice in conn a (first at line 7)\n"
		      "t.conf:9: 'compress' needs a value\n"
		      "t.conf:10: 'compress' needs a value\n"
		      "t.conf:11: unknown keyword 'ikev2'\n"
		      "t.conf:12: missing keyword before '='\n"
		      "t.conf:13: text after the closing quote of 'leftid'\n"
		      "t.conf:14: a quote inside the value of 'leftid': quote the whole value\n"
		      "t.conf:15: unterminated quoted value (a quote cannot span lines)\n"
		      "t.conf:16: conn a defined twice (first at t.conf:3)\n"
		      "t.conf:17: invalid conn name 'bad/name': use 1-64 letters, digits, '-', '_', '.', '+'\n"
		      "t.conf:18: conn needs one name: conn NAME\n"
		      "t.conf:19: unknown keyword 'setup': expected conn, config setup, include or version\n"
		      "t.conf:20: conn b: option 'right' is required (IP address, %any or %defaultroute)");
	/* the exact unknown-keyword message */
	assert_errors("conn a\n" TWO_ENDS "\tkeyexchange=ike\n", "t.conf:4: unknown keyword 'keyexchange'");
}

static void test_validation_lines(void)
{
	/* a bad value: at its own line, the %default line or the also= target's line */
	assert_errors("conn %default\n"               /* 1 */
		      "\tike=aes128-sha1-modp2048\n"
		      "conn a\n"                      /* 3 */
		      TWO_ENDS
		      "\tesp=rot13-crc\n"             /* 6 */
		      "\tauto=add\n"
		      "conn b\n"                      /* 8 */
		      "\talso=c\n"
		      "conn c\n"                      /* 10 */
		      TWO_ENDS
		      "\tleftsubnet=10.0.0.0/33\n"    /* 13 */
		      "conn d\n"                      /* 14 */
		      "\tleft=%any\n\tright=%any\n",  /* spans keywords: the conn line */
		      "t.conf:6: invalid value 'rot13-crc' for option 'esp': unknown cipher 'rot13'\n"
		      "t.conf:13: invalid value '10.0.0.0/33' for option 'leftsubnet': prefix length out of range\n"
		      "t.conf:14: conn d: inconsistent options: left and right cannot both be %any");
	/* a public key is decoded as AddConnection does, the error at its line */
	assert_errors("conn a\n" TWO_ENDS "\trightrsasigkey=0sAAAA\n",
		      "t.conf:4: invalid value for option 'rightrsasigkey': invalid 0s base64 RFC 3110 key: "
		      "key blob gives an exponent length of 0");
}

/* The remote-access keywords (issue 11) load from a file like any other:
 * a gateway and a client conn, a quoted banner, a bad pool at its line. */
static void test_remote_access(void)
{
	struct ipsec_conf conf = load_ok(
		"conn %default\n"
		"\txauthby=alwaysok\n"
		"conn gateway\n"
		"\tleft=192.0.2.1\n\tleftsubnet=10.1.0.0/16\n\tright=%any\n"
		"\tleftxauthserver=yes\n\trightxauthclient=yes\n"
		"\tleftmodecfgserver=yes\n\trightmodecfgclient=yes\n"
		"\trightaddresspool=10.8.0.0/24\n"
		"\tmodecfgdns=10.1.0.53,10.1.0.54\n\tmodecfgdomains=corp.example\n"
		"\tmodecfgbanner=\"Authorised users only\"\n\tmodecfgpull=no\n"
		"conn client\n"
		"\tleft=%defaultroute\n\tright=198.51.100.1\n\trightsubnet=10.1.0.0/16\n"
		"\tleftxauthclient=yes\n\trightxauthserver=yes\n\tleftxauthusername=alice\n"
		"\tleftmodecfgclient=yes\n\trightmodecfgserver=yes\n");
	g_assert_cmpuint(conf.n_conns, ==, 2);
	const struct conf_conn *gw = &conf.conns[0], *client = &conf.conns[1];
	g_assert_cmpstr(setting(gw, "modecfgbanner"), ==, "Authorised users only");
	g_assert_cmpstr(setting(gw, "rightaddresspool"), ==, "10.8.0.0/24");
	g_assert_cmpstr(setting(gw, "xauthby"), ==, "alwaysok");
	g_assert_cmpstr(setting(client, "leftxauthusername"), ==, "alice");
	ipsec_conf_free(&conf);
	assert_errors("conn a\n" TWO_ENDS
		      "\tleftmodecfgserver=yes\n\trightmodecfgclient=yes\n"
		      "\trightaddresspool=10.8.0.9-10.8.0.1\n",
		      "t.conf:6: invalid value '10.8.0.9-10.8.0.1' for option 'rightaddresspool': "
		      "the range's first address is above its last");
}

static void test_binary_and_truncated(void)
{
	struct ipsec_conf conf;
	static const char nul[] = "conn a\n\tleft=192.0.2.1\n\tri\0ght=192.0.2.2\n";
	g_autofree char *got = parse_flags(nul, sizeof(nul) - 1, 0, &conf);
	g_assert_cmpstr(got, ==, "t.conf:3: binary data (byte 0x00): not a text file");
	static const char bin[] = "conn a\n\x7f" "ELF\x02\x01\x01\n\x01\x02";
	g_autofree char *got2 = parse_flags(bin, sizeof(bin) - 1, 0, &conf);
	g_assert_cmpstr(got2, ==, "t.conf:2: binary data (byte 0x7f): not a text file");
	/* the file ends inside a quote (no newline at its end) */
	assert_errors("conn a\n" TWO_ENDS "\tleftupdown=\"/bin/up", "t.conf:4: the file ends inside a quoted value");
	assert_errors("conn a\n" TWO_ENDS "\tleftupdown=\"/bin/up\n", "t.conf:4: the file ends inside a quoted value");
}

/* --- files and include --- */

static char *tmpdir;

static char *write_file(const char *rel, const char *text)
{
	char *path = g_build_filename(tmpdir, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(path);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static char *load_path(const char *path, struct ipsec_conf *conf)
{
	struct conf_diag diag;
	if (ipsec_conf_load(path, conf, &diag) == 0)
		return NULL;
	char *joined = g_strjoinv("\n", diag.lines);
	conf_diag_free(&diag);
	return joined;
}

static void test_include(void)
{
	g_autofree char *main_conf = write_file("inc/ipsec.conf", "config setup\n\tuniqueids=yes\n"
							     "include ipsec.d/*.conf\n"
							     "include none.d/*.conf   # no match: fine\n"
							     "conn main\n" TWO_ENDS "\talso=from-b\n");
	g_autofree char *a = write_file("inc/ipsec.d/a.conf", "conn from-a\n" TWO_ENDS "include sub/*.conf\n");
	g_autofree char *b = write_file("inc/ipsec.d/b.conf", "conn from-b\n\tpfs=yes\n\tauto=ignore\n");
	/* relative to a.conf's directory, not to the main file's */
	g_autofree char *sub = write_file("inc/ipsec.d/sub/c.conf", "conn from-c\n" TWO_ENDS);
	g_autofree char *notconf = write_file("inc/ipsec.d/skip.txt", "garbage\n");
	g_autofree char *dir = g_build_filename(tmpdir, "inc/ipsec.d/dir.conf", NULL);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);   /* a matched directory is skipped */

	struct ipsec_conf conf;
	g_autofree char *got = load_path(main_conf, &conf);
	g_assert_cmpstr(got, ==, NULL);
	g_assert_cmpuint(conf.n_conns, ==, 4);
	g_assert_cmpstr(conf.conns[0].name, ==, "from-a");
	g_assert_cmpstr(conf.conns[0].file, ==, a);
	g_assert_cmpstr(conf.conns[1].name, ==, "from-c");
	g_assert_cmpstr(conf.conns[1].file, ==, sub);
	g_assert_cmpstr(conf.conns[2].name, ==, "from-b");
	g_assert_cmpstr(conf.conns[3].name, ==, "main");
	g_assert_cmpstr(setting(&conf.conns[3], "pfs"), ==, "yes");
	/* the setting pulled in keeps its file */
	for (size_t i = 0; i < conf.conns[3].n_settings; i++)
		if (strcmp(conf.conns[3].settings[i].key, "pfs") == 0)
			g_assert_cmpstr(conf.conns[3].settings[i].file, ==, b);
	g_assert_cmpstr(conf.files[0], ==, main_conf);
	g_assert_cmpstr(conf.files[1], ==, a);
	g_assert_cmpstr(conf.files[2], ==, sub);
	g_assert_cmpstr(conf.files[3], ==, b);
	g_assert_null(conf.files[4]);
	g_assert_cmpint(conf.setup.uniqueids, ==, 1);
	ipsec_conf_free(&conf);

	/* a plain name that is missing is an error at the include line; errors
	 * of included files come at their place in the reading order */
	g_autofree char *bad = write_file("bad/ipsec.conf", "include x.conf\n"
							   "include missing.conf\n"
							   "conn z\n\tbogus=1\n");
	g_autofree char *x = write_file("bad/x.conf", "conn y\n\tnope=1\n");
	g_autofree char *expected = g_strdup_printf("%s:2: nope=... \n", x);
	g_free(expected);
	expected = g_strdup_printf("%s:2: unknown keyword 'nope'\n"
				   "%s:2: include %s/bad/missing.conf: No such file or directory\n"
				   "%s:4: unknown keyword 'bogus'",
				   x, bad, tmpdir, bad);
	g_autofree char *got2 = load_path(bad, &conf);
	g_assert_cmpstr(got2, ==, expected);

	/* a file that includes itself, and the depth limit */
	g_autofree char *loop = write_file("loop/ipsec.conf", "include ipsec.conf\n");
	g_autofree char *got3 = load_path(loop, &conf);
	g_autofree char *expected3 = g_strdup_printf("%s:1: include %s/loop/ipsec.conf: include loop: the file includes itself",
						     loop, tmpdir);
	g_assert_cmpstr(got3, ==, expected3);
	for (int i = 0; i < 10; i++) {
		g_autofree char *rel = g_strdup_printf("deep/%d.conf", i);
		g_autofree char *text = g_strdup_printf("include %d.conf\n", i + 1);
		g_free(write_file(rel, text));
	}
	g_autofree char *deep0 = g_build_filename(tmpdir, "deep/0.conf", NULL);
	g_autofree char *got4 = load_path(deep0, &conf);
	g_autofree char *expected4 = g_strdup_printf("%s/deep/7.conf:1: include 8.conf: includes nested deeper than 8 levels",
						     tmpdir);
	g_assert_cmpstr(got4, ==, expected4);

	/* the main file missing: its name and why */
	g_autofree char *nofile = g_build_filename(tmpdir, "no-such.conf", NULL);
	g_autofree char *got5 = load_path(nofile, &conf);
	g_autofree char *expected5 = g_strdup_printf("%s: No such file or directory", nofile);
	g_assert_cmpstr(got5, ==, expected5);
	g_assert_cmpuint(conf.n_conns, ==, 0);

	/* fuzzing: include refused without opening anything */
	assert_errors("include /etc/passwd\n", "t.conf:1: include is not allowed here");
	assert_errors("include a=b.conf\n", "t.conf:1: include is not allowed here");
	(void)notconf;
}

static void test_real_world(void)
{
	static const struct {
		const char *file;
		size_t n_conns;
		const char *error;
	} files[] = {
		{ "libreswan-style.conf", 4, NULL },
		{ "freeswan-style.conf", 2, NULL },
		{ "unknown-keyword.conf", 0, "unknown-keyword.conf:12: unknown keyword 'ikev2'" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_build_filename(g_getenv("SRCDIR"), "tests/data/ipsec.conf", files[i].file, NULL);
		struct ipsec_conf conf;
		g_autofree char *got = load_path(path, &conf);
		if (files[i].error) {
			g_assert_nonnull(got);
			g_assert_true(g_str_has_suffix(got, files[i].error));
			g_assert_null(strchr(got, '\n'));
			continue;
		}
		g_assert_cmpstr(got, ==, NULL);
		g_assert_cmpuint(conf.n_conns, ==, files[i].n_conns);
		ipsec_conf_free(&conf);
	}
}

static void test_ten_thousand(void)
{
	GString *text = g_string_new("conn %default\n\tauto=add\n\tleft=192.0.2.1\n");
	for (unsigned i = 0; i < 10000; i++)
		g_string_append_printf(text, "conn c%u\n\tright=10.%u.%u.1\n\trightsubnet=172.%u.%u.0/24\n",
				       i, i / 256 % 256, i % 256, 16 + i / 256 % 16, i % 256);
	struct ipsec_conf conf;
	g_autofree char *got = parse_flags(text->str, text->len, 0, &conf);
	g_assert_cmpstr(got, ==, NULL);
	g_assert_cmpuint(conf.n_conns, ==, 10000);
	const struct conf_conn *c = ipsec_conf_conn(&conf, "c9999");
	g_assert_nonnull(c);
	g_assert_true(c == &conf.conns[9999]);
	g_assert_cmpstr(setting(c, "right"), ==, "10.39.15.1");
	g_assert_cmpuint(c->line, ==, 4 + 3 * 9999);
	ipsec_conf_free(&conf);
	/* and one duplicate among them is found, at its line */
	g_string_append(text, "conn c5000\n");
	g_autofree char *got2 = parse_flags(text->str, text->len, 0, &conf);
	g_assert_cmpstr(got2, ==, "t.conf:30004: conn c5000 defined twice (first at t.conf:15004)");
	g_string_free(text, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-ipsec-conf-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_test_add_func("/ipsec-conf/minimal", test_minimal);
	g_test_add_func("/ipsec-conf/version", test_version);
	g_test_add_func("/ipsec-conf/setup", test_setup);
	g_test_add_func("/ipsec-conf/comments-quotes", test_comments_and_quotes);
	g_test_add_func("/ipsec-conf/default", test_default);
	g_test_add_func("/ipsec-conf/also", test_also);
	g_test_add_func("/ipsec-conf/auto", test_auto);
	g_test_add_func("/ipsec-conf/syntax-errors", test_syntax_errors);
	g_test_add_func("/ipsec-conf/validation-lines", test_validation_lines);
	g_test_add_func("/ipsec-conf/remote-access", test_remote_access);
	g_test_add_func("/ipsec-conf/binary-truncated", test_binary_and_truncated);
	g_test_add_func("/ipsec-conf/include", test_include);
	g_test_add_func("/ipsec-conf/real-world", test_real_world);
	g_test_add_func("/ipsec-conf/ten-thousand", test_ten_thousand);
	int r = g_test_run();
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		r = 1;
	g_free(tmpdir);
	return r;
}
