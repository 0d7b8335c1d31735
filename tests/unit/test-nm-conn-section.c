/* The editor plugin's import/export core (clients/nm/editor/conn-section.c)
 * without libnm: one conn read with %default and also= applied, errors
 * naming FILE:LINE, the text written back (sorted, quoted, no secrets) and
 * the round trip file -> map -> file -> map staying the same. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn-section.h"

static char *data_path(const char *name)
{
	const char *src = g_getenv("SRCDIR");
	g_assert_nonnull(src);
	return g_build_filename(src, "tests", "data", "nm", name, NULL);
}

static char *tmp_dir;

/* text written to a fresh file in tmp_dir */
static char *tmp_file(const char *name, const char *text)
{
	char *path = g_build_filename(tmp_dir, name, NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static const char *value_of(const struct conn_section *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i], key) == 0)
			return s->values[i];
	return NULL;
}

/* the error of reading path, which must fail */
static char *read_error(const char *path)
{
	struct conn_section s;
	char *err = NULL;
	g_assert_cmpint(conn_section_read(path, &s, &err), ==, -1);
	g_assert_nonnull(err);
	g_assert_null(s.name);
	char *copy = g_strdup(err);
	free(err);
	return copy;
}

static char *write_section(const struct conn_section *s)
{
	char *err = NULL;
	char *text = conn_section_write(s->name, (const char *const *)s->keys, (const char *const *)s->values, s->n,
					&err);
	g_assert_cmpstr(err, ==, NULL);
	g_assert_nonnull(text);
	return text;
}

static void test_import(void)
{
	g_autofree char *path = data_path("roadwarrior.conf");
	struct conn_section s;
	char *err = NULL;
	g_assert_cmpint(conn_section_read(path, &s, &err), ==, 0);
	g_assert_null(err);
	g_assert_cmpstr(s.name, ==, "office");
	/* %default, also= (the auto=ignore fragment), quotes and comments */
	g_assert_cmpstr(value_of(&s, "ikelifetime"), ==, "1h");
	g_assert_cmpstr(value_of(&s, "authby"), ==, "secret");
	g_assert_cmpstr(value_of(&s, "rightxauthserver"), ==, "yes");
	g_assert_cmpstr(value_of(&s, "right"), ==, "192.0.2.1");
	g_assert_cmpstr(value_of(&s, "leftusername"), ==, "alice");
	g_assert_cmpstr(value_of(&s, "leftupdown"), ==, "/etc/ipsec.d/office-updown --verbose");
	/* auto= is pluto's start-up; under NetworkManager nmcli starts it */
	g_assert_null(value_of(&s, "auto"));
	g_assert_null(value_of(&s, "also"));
	g_assert_cmpuint(s.n, ==, 13);
	for (size_t i = 1; i < s.n; i++)
		g_assert_cmpint(strcmp(s.keys[i - 1], s.keys[i]), <, 0);
	conn_section_free(&s);
}

static void test_export_and_round_trip(void)
{
	g_autofree char *path = data_path("roadwarrior.conf");
	g_autofree char *expected_path = data_path("roadwarrior.expected");
	g_autofree char *expected = NULL;
	g_assert_true(g_file_get_contents(expected_path, &expected, NULL, NULL));
	struct conn_section s, again;
	char *err = NULL;
	g_assert_cmpint(conn_section_read(path, &s, &err), ==, 0);
	g_autofree char *text = write_section(&s);
	g_assert_cmpstr(text, ==, expected);
	/* the written text reads back to the same map and the same text */
	g_autofree char *out = tmp_file("office.conf", text);
	g_assert_cmpint(conn_section_read(out, &again, &err), ==, 0);
	g_assert_cmpstr(again.name, ==, s.name);
	g_assert_cmpuint(again.n, ==, s.n);
	for (size_t i = 0; i < s.n; i++) {
		g_assert_cmpstr(again.keys[i], ==, s.keys[i]);
		g_assert_cmpstr(again.values[i], ==, s.values[i]);
	}
	g_autofree char *text2 = write_section(&again);
	g_assert_cmpstr(text2, ==, text);
	conn_section_free(&s);
	conn_section_free(&again);
}

static void test_errors_name_the_line(void)
{
	g_autofree char *bad = data_path("bad-keyword.conf");
	g_autofree char *e1 = read_error(bad);
	g_autofree char *want1 = g_strdup_printf("%s:5: unknown keyword 'rightsubnett'", bad);
	g_assert_cmpstr(e1, ==, want1);

	g_autofree char *two = data_path("two-conns.conf");
	g_autofree char *e2 = read_error(two);
	g_autofree char *want2 = g_strdup_printf("%s:5: conn second: a second conn to import (the first is conn first "
						 "at %s:1); import takes one conn per file (mark the ones for "
						 "also= auto=ignore)", two, two);
	g_assert_cmpstr(e2, ==, want2);

	g_autofree char *none = data_path("no-conn.conf");
	g_autofree char *e3 = read_error(none);
	g_autofree char *want3 = g_strdup_printf("%s: no conn section: import takes a file with one 'conn NAME' section",
						 none);
	g_assert_cmpstr(e3, ==, want3);

	/* also= of a conn that is not there, a bad value, a missing file */
	g_autofree char *also = tmp_file("also.conf", "conn a\n\tleft=%defaultroute\n\tright=192.0.2.1\n\talso=nowhere\n");
	g_autofree char *e4 = read_error(also);
	g_assert_true(g_str_has_suffix(e4, "also.conf:4: also=nowhere: no conn 'nowhere'"));
	g_autofree char *val = tmp_file("value.conf", "conn a\n\tleft=%defaultroute\n\tright=192.0.2.1\n\tpfs=maybe\n");
	g_autofree char *e5 = read_error(val);
	g_assert_nonnull(strstr(e5, "value.conf:4: "));
	g_assert_nonnull(strstr(e5, "'maybe'"));
	g_autofree char *missing = g_build_filename(tmp_dir, "missing.conf", NULL);
	g_autofree char *e6 = read_error(missing);
	g_assert_nonnull(strstr(e6, "missing.conf: No such file or directory"));
}

static char *write_error(const char *name, const char *key, const char *value)
{
	const char *keys[] = { "left", "right", key };
	const char *values[] = { "%defaultroute", "192.0.2.1", value };
	char *err = NULL;
	char *text = conn_section_write(name, keys, values, 3, &err);
	g_assert_null(text);
	g_assert_nonnull(err);
	char *copy = g_strdup(err);
	free(err);
	return copy;
}

static void test_write(void)
{
	/* secrets and their -flags never reach the file; left is the
	 * service's default made explicit; a blank or '#' means quotes */
	const char *keys[] = { "right", "pskvalue", "pskvalue-flags", "xauthpassword", "xauthpassword-flags",
			       "modecfgbanner" };
	const char *values[] = { "gw.example", "s3cret", "0", "pa55", "2", "hello # world" };
	char *err = NULL;
	char *text = conn_section_write("vpn-1", keys, values, G_N_ELEMENTS(keys), &err);
	g_assert_null(err);
	g_assert_cmpstr(text, ==,
			"conn vpn-1\n"
			"\tleft=%defaultroute\n"
			"\tmodecfgbanner=\"hello # world\"\n"
			"\tright=gw.example\n");
	free(text);

	g_autofree char *e1 = write_error("my vpn", "pfs", "yes");
	g_assert_cmpstr(e1, ==, "'my vpn' is not a conn name: use 1-64 letters, digits, '-', '_', '.', '+' "
				"(rename the connection)");
	g_autofree char *e2 = write_error("a", "gateway", "192.0.2.1");
	g_assert_cmpstr(e2, ==, "vpn.data key 'gateway' is not an ipsec.conf keyword");
	g_autofree char *e3 = write_error("a", "modecfgbanner", "say \"hi\"");
	g_assert_cmpstr(e3, ==, "vpn.data key 'modecfgbanner': cannot write a double quote "
				"(ipsec.conf has no way to escape one) in ipsec.conf");
	g_autofree char *e4 = write_error("a", "modecfgbanner", "two\nlines");
	g_assert_cmpstr(e4, ==, "vpn.data key 'modecfgbanner': cannot write a line break in ipsec.conf");
	g_autofree char *e5 = write_error("a", "pfs", "");
	g_assert_cmpstr(e5, ==, "vpn.data key 'pfs': cannot write an empty value in ipsec.conf");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("nm-conn-section-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	g_test_add_func("/nm-conn-section/import", test_import);
	g_test_add_func("/nm-conn-section/export-round-trip", test_export_and_round_trip);
	g_test_add_func("/nm-conn-section/errors-name-the-line", test_errors_name_the_line);
	g_test_add_func("/nm-conn-section/write", test_write);
	int r = g_test_run();
	static const char *const made[] = { "office.conf", "also.conf", "value.conf" };
	for (size_t i = 0; i < G_N_ELEMENTS(made); i++) {
		g_autofree char *path = g_build_filename(tmp_dir, made[i], NULL);
		g_unlink(path);
	}
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	return r;
}
