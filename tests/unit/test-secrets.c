/* ipsec.secrets: every entry form, ids and continuation lines, includes,
 * errors with their FILE:LINE (and never the secret), reload keeping the
 * old set on failure, and the secret_find priorities; SetSecret's set:
 * precedence over the file, surviving reloads, replace, delete, refusals,
 * wiping. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/rsa.h>

#include "common/util.h"
#include "daemon/log.h"
#include "daemon/secrets.h"

/* appears in every bad entry: no error message may ever contain it */
#define SECRET_WORD "SECRETWORD"

static EVP_PKEY *rsa_key;
static char *tmpdir;

static char *write_file(const char *name, const char *content)
{
	char *path = g_build_filename(tmpdir, name, NULL);
	char *dir = g_path_get_dirname(path);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_free(dir);
	g_assert_true(g_file_set_contents(path, content, -1, NULL));
	return path;
}

static void parse_ok(const char *text, struct secrets *s)
{
	struct ctl_error err = { 0 };
	if (secrets_parse_text(text, strlen(text), "test.secrets", 0, s, &err) < 0)
		g_error("parse failed: %s", err.message);
}

static void assert_error(const struct ctl_error *err, const char *where, const char *fragment)
{
	g_assert_cmpint(err->code, ==, PE_INVALID_SECRETS);
	if (!g_str_has_prefix(err->message, where))
		g_error("error \"%s\" does not start with \"%s\"", err->message, where);
	if (!strstr(err->message, fragment))
		g_error("error \"%s\" lacks \"%s\"", err->message, fragment);
	if (strstr(err->message, SECRET_WORD) || strstr(err->message, "passw0rd"))
		g_error("error \"%s\" shows the secret", err->message);
}

static void parse_fails(const char *text, size_t len, const char *where, const char *fragment)
{
	struct secrets s = { .count = 99 };
	struct ctl_error err = { 0 };
	g_assert_cmpint(secrets_parse_text(text, len, "test.secrets", 0, &s, &err), ==, -1);
	g_assert_null(s.list);
	g_assert_cmpuint(s.count, ==, 0);
	assert_error(&err, where, fragment);
}

static char *hex_of(const BIGNUM *bn)
{
	char *h = BN_bn2hex(bn);
	char *r = g_strconcat("0x", h, NULL);
	OPENSSL_free(h);
	return r;
}

static char *b64_of(const BIGNUM *bn)
{
	unsigned char buf[1024];
	int n = BN_bn2bin(bn, buf);
	gchar *enc = g_base64_encode(buf, (gsize)n);
	char *r = g_strconcat("0s", enc, NULL);
	g_free(enc);
	return r;
}

/* The FreeS/WAN inline form; base64 values for every second field, to
 * cover both encodings. corrupt_coefficient damages the last value. */
static char *rsa_block(bool corrupt_coefficient)
{
	static const char *const names[] = {
		"Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2",
		"Exponent1", "Exponent2", "Coefficient",
	};
	static const char *const params[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	GString *s = g_string_new("{\n\t# RSA 1024 bits   test key\n");
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		BIGNUM *bn = NULL;
		g_assert_cmpint(EVP_PKEY_get_bn_param(rsa_key, params[i], &bn), ==, 1);
		if (corrupt_coefficient && i == G_N_ELEMENTS(names) - 1)
			BN_add_word(bn, 2);
		char *v = i % 2 ? b64_of(bn) : hex_of(bn);
		g_string_append_printf(s, "\t%s: %s\n", names[i], v);
		g_free(v);
		BN_clear_free(bn);
	}
	g_string_append(s, "\t}\n");
	return g_string_free(s, FALSE);
}

static char *pem_private(const char *passphrase)
{
	OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(rsa_key, EVP_PKEY_KEYPAIR, "PEM",
							       "PrivateKeyInfo", NULL);
	g_assert_nonnull(ectx);
	if (passphrase) {
		g_assert_cmpint(OSSL_ENCODER_CTX_set_cipher(ectx, "AES-256-CBC", NULL), ==, 1);
		g_assert_cmpint(OSSL_ENCODER_CTX_set_passphrase(ectx, (const unsigned char *)passphrase,
								strlen(passphrase)), ==, 1);
	}
	unsigned char *data = NULL;
	size_t len = 0;
	g_assert_cmpint(OSSL_ENCODER_to_data(ectx, &data, &len), ==, 1);
	OSSL_ENCODER_CTX_free(ectx);
	char *s = g_strndup((const char *)data, len);
	OPENSSL_clear_free(data, len);
	return s;
}

static const struct secret *nth(const struct secrets *s, unsigned n)
{
	const struct secret *e = s->list;
	while (e && n--)
		e = e->next;
	g_assert_nonnull(e);
	return e;
}

static void assert_psk(const struct secret *e, const char *want)
{
	g_assert_cmpint(e->kind, ==, SECRET_PSK);
	g_assert_cmpuint(e->psk_len, ==, strlen(want));
	g_assert_true(memcmp(e->psk, want, e->psk_len) == 0);
}

static void test_psk_forms(void)
{
	struct secrets s;
	parse_ok("@west @east : PSK \"a quoted secret\"\n"
		 "192.0.2.1 : PSK 'single quoted'\n"
		 ": PSK 0x6869_2121\n"
		 "user@example.com %any : psk 0sc2VjcmV0\n"
		 "2001:db8::1 : PSK \"v6\"\n", &s);
	g_assert_cmpuint(s.count, ==, 5);
	const struct secret *e = nth(&s, 0);
	assert_psk(e, "a quoted secret");
	g_assert_cmpuint(e->n_ids, ==, 2);
	g_assert_cmpint(e->ids[0].kind, ==, ID_FQDN);
	g_assert_cmpstr(e->ids[1].name, ==, "east");
	g_assert_cmpuint(e->line, ==, 1);
	g_assert_cmpstr(e->file, ==, "test.secrets");
	e = nth(&s, 1);
	assert_psk(e, "single quoted");
	g_assert_cmpint(e->ids[0].kind, ==, ID_IPV4_ADDR);
	e = nth(&s, 2);
	assert_psk(e, "hi!!");
	g_assert_cmpuint(e->n_ids, ==, 0);
	g_assert_cmpuint(e->line, ==, 3);
	e = nth(&s, 3);
	assert_psk(e, "secret");
	g_assert_cmpint(e->ids[0].kind, ==, ID_USER_FQDN);
	g_assert_cmpint(e->ids[1].kind, ==, ID_ANY);
	e = nth(&s, 4);
	g_assert_cmpint(e->ids[0].kind, ==, ID_IPV6_ADDR);
	secrets_free(&s);
	g_assert_null(s.list);
}

static void test_continuation_and_any(void)
{
	struct secrets s;
	parse_ok("# a comment line\n"
		 "\n"
		 "@west\n"
		 "   @east   # comment after an id\n"
		 "\t: PSK \"x # not a comment\"\n"
		 "@north :\n"
		 "\tPSK\n"
		 "\t\"y\"\n"
		 "%any6 0.0.0.0 :: %any : PSK \"z\"   # trailing comment\n", &s);
	g_assert_cmpuint(s.count, ==, 3);
	const struct secret *e = nth(&s, 0);
	g_assert_cmpuint(e->line, ==, 3);
	g_assert_cmpuint(e->n_ids, ==, 2);
	assert_psk(e, "x # not a comment");
	e = nth(&s, 1);
	g_assert_cmpuint(e->line, ==, 6);
	assert_psk(e, "y");
	e = nth(&s, 2);
	g_assert_cmpuint(e->n_ids, ==, 4);
	for (size_t i = 0; i < 4; i++)
		g_assert_cmpint(e->ids[i].kind, ==, ID_ANY);
	secrets_free(&s);
}

static void test_rsa_inline(void)
{
	char *block = rsa_block(false);
	char *text = g_strdup_printf("# key\n@west : RSA %s@east : PSK \"after\"\n", block);
	struct secrets s;
	parse_ok(text, &s);
	g_assert_cmpuint(s.count, ==, 2);
	const struct secret *e = nth(&s, 0);
	g_assert_cmpint(e->kind, ==, SECRET_RSA);
	g_assert_nonnull(e->rsa);
	g_assert_cmpint(EVP_PKEY_eq(e->rsa, rsa_key), ==, 1);
	BIGNUM *d = NULL;
	g_assert_cmpint(EVP_PKEY_get_bn_param(e->rsa, OSSL_PKEY_PARAM_RSA_D, &d), ==, 1);
	BN_clear_free(d);
	g_assert_cmpuint(e->line, ==, 2);
	assert_psk(nth(&s, 1), "after");
	secrets_free(&s);
	g_free(text);

	/* closing brace in column 0 is fine too */
	char *b2 = g_strdup(block);
	char *close = strrchr(b2, '}');
	g_assert_true(close[-1] == '\t');
	memmove(close - 1, close, strlen(close) + 1);
	text = g_strdup_printf(": RSA %s", b2);
	parse_ok(text, &s);
	g_assert_cmpuint(s.count, ==, 1);
	secrets_free(&s);
	g_free(text);
	g_free(b2);

	char *bad = rsa_block(true);
	text = g_strdup_printf("\n: RSA %s", bad);
	parse_fails(text, strlen(text), "test.secrets:2:", "consistent");
	g_free(text);
	g_free(bad);
	g_free(block);
}

static void test_rsa_files(void)
{
	char *plain = pem_private(NULL);
	char *enc = pem_private("passw0rd");
	char *p1 = write_file("keys/plain.pem", plain);
	char *p2 = write_file("keys/enc.pem", enc);
	char *main_path = write_file("rsa.secrets",
				     "@west : RSA keys/plain.pem\n"
				     "@east : RSA keys/enc.pem \"passw0rd\"\n");
	struct secrets s;
	struct ctl_error err = { 0 };
	if (secrets_load_file(main_path, &s, &err) < 0)
		g_error("%s", err.message);
	g_assert_cmpuint(s.count, ==, 2);
	g_assert_cmpint(EVP_PKEY_eq(nth(&s, 0)->rsa, rsa_key), ==, 1);
	g_assert_cmpint(EVP_PKEY_eq(nth(&s, 1)->rsa, rsa_key), ==, 1);
	g_assert_cmpstr(nth(&s, 1)->file, ==, main_path);
	secrets_free(&s);

	/* wrong or missing passphrase, missing file: errors name the file */
	char *where = g_strdup_printf("%s:1:", main_path);
	g_assert_true(g_file_set_contents(main_path, "@east : RSA keys/enc.pem \"wrong-passw0rd\"\n", -1, NULL));
	g_assert_cmpint(secrets_load_file(main_path, &s, &err), ==, -1);
	assert_error(&err, where, "wrong passphrase");
	g_assert_true(g_file_set_contents(main_path, "@east : RSA keys/enc.pem\n", -1, NULL));
	g_assert_cmpint(secrets_load_file(main_path, &s, &err), ==, -1);
	assert_error(&err, where, "no passphrase given");
	g_assert_true(g_file_set_contents(main_path, "@east : RSA keys/none.pem\n", -1, NULL));
	g_assert_cmpint(secrets_load_file(main_path, &s, &err), ==, -1);
	assert_error(&err, where, "none.pem");
	g_assert_null(s.list);

	/* text parsing for untrusted input may refuse files */
	const char *t = ": RSA /etc/passwd\n";
	g_assert_cmpint(secrets_parse_text(t, strlen(t), "x", SECRETS_NO_FILES, &s, &err), ==, -1);
	assert_error(&err, "x:1:", "not allowed");

	g_free(where);
	OPENSSL_cleanse(plain, strlen(plain));
	g_free(plain);
	g_free(enc);
	g_free(p1);
	g_free(p2);
	g_free(main_path);
}

static void test_includes(void)
{
	char *a = write_file("inc/d/10-a.secrets", "@a : PSK \"a\"\n");
	char *b = write_file("inc/d/20-b.secrets", "@b : PSK \"b\"\n# a comment\n@c : PSK \"c\"\n");
	char *o = write_file("inc/other.conf", "@o : PSK \"o\"\n");
	char *m = write_file("inc/main.secrets",
			     ": PSK \"first\"\n"
			     "include d/*.secrets\n"
			     "include other.conf\n"
			     "include nothing/*.secrets\n"
			     "@z : PSK \"last\"\n");
	struct secrets s;
	struct ctl_error err = { 0 };
	if (secrets_load_file(m, &s, &err) < 0)
		g_error("%s", err.message);
	g_assert_cmpuint(s.count, ==, 6);
	const char *want[] = { "first", "a", "b", "c", "o", "last" };
	for (unsigned i = 0; i < 6; i++)
		assert_psk(nth(&s, i), want[i]);
	g_assert_cmpstr(nth(&s, 3)->file, ==, b);
	g_assert_cmpuint(nth(&s, 3)->line, ==, 3);
	secrets_free(&s);

	/* an error inside an included file names that file and line */
	char *bad = write_file("inc/d/30-bad.secrets", "@d : PSK \"ok\"\n@e PSK \"" SECRET_WORD "\"\n");
	char *where = g_strdup_printf("%s:2:", bad);
	g_assert_cmpint(secrets_load_file(m, &s, &err), ==, -1);
	assert_error(&err, where, "missing ':'");
	g_assert_null(s.list);
	g_unlink(bad);
	g_free(where);
	g_free(bad);

	/* a plain include name that does not exist */
	char *miss = write_file("inc/miss.secrets", "@a : PSK \"" SECRET_WORD "\"\n\ninclude absent.secrets\n");
	where = g_strdup_printf("%s:3:", miss);
	g_assert_cmpint(secrets_load_file(miss, &s, &err), ==, -1);
	assert_error(&err, where, "absent.secrets does not exist");
	g_free(where);

	/* a loop: the file includes itself */
	char *loop = write_file("inc/loop.secrets", "@l : PSK \"" SECRET_WORD "\"\ninclude loop.secrets\n");
	where = g_strdup_printf("%s:2:", loop);
	g_assert_cmpint(secrets_load_file(loop, &s, &err), ==, -1);
	assert_error(&err, where, "include nested more than 10 levels");
	g_free(where);

	/* the top-level file missing is worded as such */
	char *gone = g_build_filename(tmpdir, "inc", "gone.secrets", NULL);
	g_assert_cmpint(secrets_load_file(gone, &s, &err), ==, -1);
	assert_error(&err, "secrets file ", "gone.secrets does not exist");

	g_free(gone);
	g_free(loop);
	g_free(miss);
	g_free(a);
	g_free(b);
	g_free(o);
	g_free(m);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *where, *fragment;
	} cases[] = {
		{ "@a : PSK \"unterminated " SECRET_WORD "\n", "test.secrets:1:", "unterminated quoted string" },
		{ "# c\n\n@a : PSK 0x" SECRET_WORD "\n", "test.secrets:3:", "not a hex digit" },
		{ "@a : PSK 0x12345\n", "test.secrets:1:", "odd number of hex digits" },
		{ "@a : PSK 0s" SECRET_WORD "=\n", "test.secrets:1:", "multiple of 4" },
		{ "@a : PSK 0s" SECRET_WORD "!\n", "test.secrets:1:", "not base64" },
		{ "@a PSK \"" SECRET_WORD "\"\n", "test.secrets:1:", "missing ':' before PSK" },
		{ "@a \"" SECRET_WORD "\"\n", "test.secrets:1:", "missing ':' before the secret" },
		{ "@a @b\n@c : PSK \"x\"\n", "test.secrets:1:", "missing ':'" },
		{ "@a: PSK \"" SECRET_WORD "\"\n", "test.secrets:1:", "separated from the ids" },
		{ "bad_id : PSK \"" SECRET_WORD "\"\n", "test.secrets:1:", "bad id \"bad_id\"" },
		{ "@a : " SECRET_WORD "\n", "test.secrets:1:", "unknown secret kind" },
		{ "@a : ECDSA \"" SECRET_WORD "\"\n", "test.secrets:1:", "ECDSA is not supported" },
		{ "@a :\n", "test.secrets:1:", "missing secret kind" },
		{ "@a : PSK\n", "test.secrets:1:", "PSK needs a secret" },
		{ "@a : PSK " SECRET_WORD "\n", "test.secrets:1:", "quoted string, 0x hex or 0s base64" },
		{ "@a : PSK \"\"\n", "test.secrets:1:", "PSK is empty" },
		{ "@a : PSK \"x\" " SECRET_WORD "\n", "test.secrets:1:", "unexpected text after the secret" },
		{ "@a : PSK \"x\"\n  \"" SECRET_WORD "\"\n", "test.secrets:2:", "unexpected text after the secret" },
		{ "  @a : PSK \"" SECRET_WORD "\"\n", "test.secrets:1:", "no entry precedes it" },
		{ ": RSA\n", "test.secrets:1:", "RSA needs a { ... } block" },
		{ ": RSA {\n\tModulus: 0x" SECRET_WORD "\n}\n", "test.secrets:2:", "Modulus: 0x value" },
		{ ": RSA {\n\tModulus: 0x01\n@b : PSK \"" SECRET_WORD "\"\n", "test.secrets:3:", "not closed" },
		{ ": RSA {\n\tModulus: 0x01\n", "test.secrets:1:", "not closed with '}'" },
		{ ": RSA {\n\t" SECRET_WORD ": 0x01\n\t}\n", "test.secrets:2:", "unknown field" },
		{ ": RSA {\n\tModulus: 0x01\n\tmodulus: 0x01\n\t}\n", "test.secrets:3:", "duplicate Modulus:" },
		{ ": RSA {\n\tModulus:\n\t}\n", "test.secrets:2:", "Modulus: has no value" },
		{ ": RSA {\n\tModulus: 0x0101\n\t}\n", "test.secrets:1:", "missing a field" },
		{ "include\n", "test.secrets:1:", "include needs a file name" },
		{ "@a : PSK \"ok\"\n@b : PSK \"" SECRET_WORD "\n", "test.secrets:2:", "unterminated" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu", i);
		parse_fails(cases[i].text, strlen(cases[i].text), cases[i].where, cases[i].fragment);
	}
	static const char nul_text[] = "@a : PSK \"x\"\n@b : PSK \"" SECRET_WORD "\0\"\n";
	parse_fails(nul_text, sizeof(nul_text) - 1, "test.secrets:2:", "NUL byte");
}

static GPtrArray *log_lines;
static void capture(int priority, const char *line, void *ud)
{
	g_ptr_array_add(log_lines, g_strdup(line));
}

static bool logged(const char *fragment)
{
	for (guint i = 0; i < log_lines->len; i++)
		if (strstr(g_ptr_array_index(log_lines, i), fragment))
			return true;
	return false;
}

static void load_current(const char *text)
{
	char *path = write_file("current.secrets", text);
	struct ctl_error err = { 0 };
	secrets_set_path(path);
	if (secrets_reload(&err) < 0)
		g_error("%s", err.message);
	g_free(path);
}

static void test_reload(void)
{
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	struct ctl_error err = { 0 };

	secrets_set_path(NULL);
	g_assert_null(secrets_path());
	g_assert_cmpint(secrets_reload(&err), ==, -1);
	g_assert_nonnull(strstr(err.message, "no secrets file"));

	char *path = write_file("reload.secrets", "@a @b : PSK \"" SECRET_WORD "-old\"\n: PSK \"other\"\n");
	secrets_set_path(path);
	g_assert_cmpstr(secrets_path(), ==, path);
	g_assert_cmpint(secrets_reload(&err), ==, 0);
	char *want = g_strdup_printf("loaded 2 secrets from %s", path);
	g_assert_true(logged(want));
	g_free(want);
	g_assert_cmpuint(secrets_current()->count, ==, 2);

	/* a broken file: the old set stays in force */
	g_assert_true(g_file_set_contents(path, "@a @b : PSK \"" SECRET_WORD "-new\"\n@c PSK \"x\"\n", -1, NULL));
	g_assert_cmpint(secrets_reload(&err), ==, -1);
	char *where = g_strdup_printf("%s:2:", path);
	assert_error(&err, where, "missing ':'");
	g_free(where);
	g_assert_cmpuint(secrets_current()->count, ==, 2);
	struct pluto_id a, b;
	g_assert_true(id_parse("@a", &a, NULL));
	g_assert_true(id_parse("@b", &b, NULL));
	assert_psk(secret_find(SECRET_PSK, &a, &b), SECRET_WORD "-old");

	/* a missing file likewise */
	g_unlink(path);
	g_assert_cmpint(secrets_reload(&err), ==, -1);
	assert_error(&err, "secrets file ", "does not exist");
	g_assert_cmpuint(secrets_current()->count, ==, 2);

	/* nothing logged ever shows a secret */
	for (guint i = 0; i < log_lines->len; i++)
		g_assert_null(strstr(g_ptr_array_index(log_lines, i), SECRET_WORD));

	secrets_clear();
	g_assert_cmpuint(secrets_current()->count, ==, 0);
	g_assert_null(secret_find(SECRET_PSK, &a, &b));
	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);
	g_free(path);
}

static const char *find_psk(const char *this_s, const char *that_s)
{
	struct pluto_id this_id, that_id;
	if (this_s)
		g_assert_true(id_parse(this_s, &this_id, NULL));
	if (that_s)
		g_assert_true(id_parse(that_s, &that_id, NULL));
	const struct secret *s = secret_find(SECRET_PSK, this_s ? &this_id : NULL, that_s ? &that_id : NULL);
	if (!s)
		return NULL;
	static char buf[64];
	g_assert_cmpuint(s->psk_len, <, sizeof(buf));
	memcpy(buf, s->psk, s->psk_len);
	buf[s->psk_len] = '\0';
	return buf;
}

static void test_find(void)
{
	char *pem = pem_private(NULL);
	char *pem_path = write_file("find.pem", pem);
	char *block = rsa_block(false);
	char *text = g_strdup_printf(": PSK \"default\"\n"
				     "%%any : PSK \"anyone\"\n"
				     "@me : PSK \"me-alone\"\n"
				     "@me @peer : PSK \"me-peer\"\n"
				     "@me @other %%any : PSK \"other-any\"\n"
				     "10.0.0.1 10.0.0.2 : PSK \"ips\"\n"
				     "@me : RSA %s"
				     ": RSA find.pem\n", block);
	load_current(text);
	g_assert_cmpuint(secrets_current()->count, ==, 8);

	/* both named beats everything, in either order */
	g_assert_cmpstr(find_psk("@me", "@peer"), ==, "me-peer");
	g_assert_cmpstr(find_psk("@peer", "@me"), ==, "me-peer");
	g_assert_cmpstr(find_psk("10.0.0.2", "10.0.0.1"), ==, "ips");
	/* one named (the other open or %any): the earliest such entry */
	g_assert_cmpstr(find_psk("@me", "@stranger"), ==, "me-alone");
	g_assert_cmpstr(find_psk("@me", NULL), ==, "me-alone");
	g_assert_cmpstr(find_psk("@me", "%any"), ==, "me-alone");
	g_assert_cmpstr(find_psk("@other", "@x"), ==, "other-any");
	/* a pair entry needs both of its ids */
	g_assert_cmpstr(find_psk("10.0.0.1", "10.0.0.3"), ==, "default");
	g_assert_cmpstr(find_psk("@peer", "@x"), ==, "default");
	/* nothing named: id-less and %any entries, the earliest */
	g_assert_cmpstr(find_psk(NULL, NULL), ==, "default");
	g_assert_cmpstr(find_psk("@x", "@y"), ==, "default");

	/* RSA: only this end must be named */
	struct pluto_id me, peer, x;
	g_assert_true(id_parse("@me", &me, NULL));
	g_assert_true(id_parse("@peer", &peer, NULL));
	g_assert_true(id_parse("@x", &x, NULL));
	const struct secret *r = secret_find(SECRET_RSA, &me, NULL);
	g_assert_nonnull(r);
	g_assert_cmpuint(r->line, ==, 7);
	g_assert_true(secret_find(SECRET_RSA, &me, &peer) == r);
	r = secret_find(SECRET_RSA, &x, &peer);
	g_assert_nonnull(r);
	g_assert_cmpuint(r->n_ids, ==, 0);
	/* @me's private key is never ours when we are someone else */
	g_assert_true(secret_find(SECRET_RSA, &x, &me) == r);
	g_assert_true(secret_find(SECRET_RSA, NULL, &me) == r);
	g_assert_cmpint(EVP_PKEY_eq(r->rsa, rsa_key), ==, 1);
	g_free(text);

	/* without id-less entries, %any is the fallback, and a pair entry
	 * alone does not match a third party */
	load_current("@a @b : PSK \"ab\"\n%any : PSK \"anyone\"\n");
	g_assert_cmpstr(find_psk("@a", "@c"), ==, "anyone");
	g_assert_cmpstr(find_psk("@b", "@a"), ==, "ab");
	load_current("@a @b : PSK \"ab\"\n");
	g_assert_null(find_psk("@a", "@c"));
	g_assert_null(find_psk("@a", NULL));
	g_assert_null(secret_find(SECRET_RSA, NULL, NULL));
	/* later exact pair beats earlier %any */
	load_current("@a %any : PSK \"a-any\"\n@a @b : PSK \"ab\"\n");
	g_assert_cmpstr(find_psk("@a", "@b"), ==, "ab");
	g_assert_cmpstr(find_psk("@b", "@a"), ==, "ab");
	g_assert_cmpstr(find_psk("@a", "@z"), ==, "a-any");
	g_assert_null(find_psk("@z", "@y"));   /* %any pairs only with @a here */

	secrets_clear();
	OPENSSL_cleanse(pem, strlen(pem));
	g_free(pem);
	g_free(pem_path);
	g_free(block);
}

/* --- SetSecret / DeleteSecret: the in-memory set --- */

/* Interposes libcrypto's OPENSSL_cleanse for this program (secrets.c is
 * linked in statically, so its calls land here, and so do libcrypto's):
 * counts the wipes of a buffer that holds the watched secret, and really
 * wipes. */
static const char *watched;
static unsigned watched_wipes;

void OPENSSL_cleanse(void *ptr, size_t len)
{
	if (!ptr || len == 0)   /* libcrypto's own calls come here too */
		return;
	if (watched && len == strlen(watched) && memcmp(ptr, watched, len) == 0)
		watched_wipes++;
	explicit_bzero(ptr, len);
}

static int api_set(const char *kind, const char *ids_text, const char *secret, struct ctl_error *err)
{
	gchar **ids = g_strsplit(ids_text, " ", -1);
	size_t n = *ids_text ? g_strv_length(ids) : 0;
	int r = secrets_api_set(kind, (const char *const *)ids, n, secret, err);
	g_strfreev(ids);
	return r;
}

static int api_delete(const char *kind, const char *ids_text, struct ctl_error *err)
{
	gchar **ids = g_strsplit(ids_text, " ", -1);
	size_t n = *ids_text ? g_strv_length(ids) : 0;
	int r = secrets_api_delete(kind, (const char *const *)ids, n, err);
	g_strfreev(ids);
	return r;
}

static void api_set_ok(const char *kind, const char *ids_text, const char *secret)
{
	struct ctl_error err = { 0 };
	if (api_set(kind, ids_text, secret, &err) < 0)
		g_error("SetSecret %s [%s] failed: %s", kind, ids_text, err.message);
}

static void no_log_shows(const char *secret)
{
	for (guint i = 0; i < log_lines->len; i++)
		if (strstr(g_ptr_array_index(log_lines, i), secret))
			g_error("log line \"%s\" shows a secret", (char *)g_ptr_array_index(log_lines, i));
}

/* API entries win over the file's, with the best-match rule among
 * themselves; the file's are used when no API entry matches. */
static void test_api_precedence(void)
{
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	load_current("@a @b : PSK \"file-ab\"\n: PSK \"file-default\"\n");
	g_assert_cmpstr(find_psk("@a", "@b"), ==, "file-ab");

	api_set_ok("psk", "@a", SECRET_WORD "-a");
	g_assert_true(logged("stored the psk for @a secret"));
	/* the file names both ids, the API entry one: the API entry still wins */
	g_assert_cmpstr(find_psk("@a", "@b"), ==, SECRET_WORD "-a");
	g_assert_cmpstr(find_psk("@b", "@a"), ==, SECRET_WORD "-a");
	g_assert_cmpstr(find_psk("@a", NULL), ==, SECRET_WORD "-a");
	/* no API entry fits: the file answers */
	g_assert_cmpstr(find_psk("@c", "@d"), ==, "file-default");

	/* among API entries: both named beats one named, whatever the order */
	api_set_ok("psk", "@b @a", SECRET_WORD "-ab");
	g_assert_cmpstr(find_psk("@a", "@b"), ==, SECRET_WORD "-ab");
	g_assert_cmpstr(find_psk("@a", "@x"), ==, SECRET_WORD "-a");
	/* %any and an empty id list behave as in the file */
	api_set_ok("psk", "%any 10.1.0.1", SECRET_WORD "-ip");
	g_assert_cmpstr(find_psk("10.1.0.1", "10.9.9.9"), ==, SECRET_WORD "-ip");
	g_assert_cmpstr(find_psk("@c", "@d"), ==, "file-default");
	api_set_ok("psk", "", SECRET_WORD "-any");
	g_assert_cmpstr(find_psk("@c", "@d"), ==, SECRET_WORD "-any");
	g_assert_cmpuint(secrets_api_current()->count, ==, 4);
	/* the file's set does not hold them, and RSA lookups never see them */
	g_assert_cmpuint(secrets_current()->count, ==, 2);
	g_assert_null(secret_find(SECRET_RSA, NULL, NULL));

	no_log_shows(SECRET_WORD);
	secrets_clear();
	g_assert_cmpuint(secrets_api_current()->count, ==, 0);
	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);
}

/* ReloadSecrets (a new file, a broken file, a missing file) keeps them */
static void test_api_survives_reload(void)
{
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	load_current("@a @b : PSK \"file-ab\"\n");
	api_set_ok("psk", "@a @b", SECRET_WORD "-api");
	api_set_ok("xauth", "alice", SECRET_WORD "-pw");

	char *path = write_file("current.secrets", "@a @b : PSK \"file-ab-2\"\n@c : PSK \"c\"\n");
	struct ctl_error err = { 0 };
	g_assert_cmpint(secrets_reload(&err), ==, 0);
	g_assert_true(logged("(2 more set by SetSecret, kept)"));
	g_assert_cmpuint(secrets_current()->count, ==, 2);
	g_assert_cmpstr(find_psk("@a", "@b"), ==, SECRET_WORD "-api");
	g_assert_cmpstr(find_psk("@c", "@z"), ==, "c");

	g_assert_true(g_file_set_contents(path, "@a PSK \"broken\"\n", -1, NULL));
	g_assert_cmpint(secrets_reload(&err), ==, -1);
	g_assert_cmpstr(find_psk("@a", "@b"), ==, SECRET_WORD "-api");
	g_unlink(path);
	g_assert_cmpint(secrets_reload(&err), ==, -1);
	g_assert_cmpstr(find_psk("@a", "@b"), ==, SECRET_WORD "-api");
	/* an empty file: only the API entries are left */
	g_assert_true(g_file_set_contents(path, "# nothing\n", -1, NULL));
	g_assert_cmpint(secrets_reload(&err), ==, 0);
	g_assert_cmpuint(secrets_current()->count, ==, 0);
	g_assert_cmpstr(find_psk("@b", "@a"), ==, SECRET_WORD "-api");
	const struct secret *x = secret_find_xauth("alice");
	g_assert_nonnull(x);
	g_assert_cmpuint(x->password_len, ==, strlen(SECRET_WORD "-pw"));
	g_assert_true(memcmp(x->password, SECRET_WORD "-pw", x->password_len) == 0);

	no_log_shows(SECRET_WORD);
	secrets_clear();
	g_free(path);
	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);
}

/* Setting the same ids again replaces; DeleteSecret needs the exact id
 * list (any order); a miss is UnknownName and removes nothing. */
static void test_api_replace_delete(void)
{
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	load_current("@a @b : PSK \"file-ab\"\n");
	api_set_ok("psk", "@a @b", SECRET_WORD "-1");
	api_set_ok("psk", "@b @a", SECRET_WORD "-2");
	g_assert_true(logged("replaced the psk for @b @a secret"));
	g_assert_cmpuint(secrets_api_current()->count, ==, 1);
	g_assert_cmpstr(find_psk("@a", "@b"), ==, SECRET_WORD "-2");
	api_set_ok("xauth", "alice bob", SECRET_WORD "-pw");
	g_assert_cmpuint(secrets_api_current()->count, ==, 2);

	struct ctl_error err = { 0 };
	/* a subset, a superset, another kind: no match */
	g_assert_cmpint(api_delete("psk", "@a", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_UNKNOWN_NAME);
	g_assert_nonnull(strstr(err.message, "no psk for @a secret"));
	g_assert_cmpint(api_delete("psk", "@a @b @c", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_UNKNOWN_NAME);
	g_assert_cmpint(api_delete("xauth", "alice", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_UNKNOWN_NAME);
	g_assert_cmpint(api_delete("xauth", "@a @b", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_UNKNOWN_NAME);
	g_assert_cmpint(api_delete("pks", "@a @b", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	g_assert_cmpuint(secrets_api_current()->count, ==, 2);

	g_assert_cmpint(api_delete("psk", "@b @a", &err), ==, 0);
	g_assert_true(logged("deleted the psk for @b @a secret"));
	g_assert_cmpuint(secrets_api_current()->count, ==, 1);
	/* the file's entry is in force again */
	g_assert_cmpstr(find_psk("@a", "@b"), ==, "file-ab");
	g_assert_cmpint(api_delete("psk", "@a @b", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_UNKNOWN_NAME);
	g_assert_nonnull(secret_find_xauth("bob"));
	g_assert_cmpint(api_delete("xauth", "bob alice", &err), ==, 0);
	g_assert_null(secret_find_xauth("bob"));
	g_assert_cmpuint(secrets_api_current()->count, ==, 0);

	no_log_shows(SECRET_WORD);
	secrets_clear();
	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);
}

/* Bad requests: InvalidOption naming what, nothing stored or replaced,
 * and the secret in no message. */
static void test_api_errors(void)
{
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	secrets_clear();
	api_set_ok("psk", "@a", SECRET_WORD "-keep");
	static const struct {
		const char *kind, *ids, *secret, *fragment;
	} cases[] = {
		{ "PSK", "@a", SECRET_WORD, "unknown secret kind \"PSK\" (expected psk or xauth)" },
		{ "rsa", "@a", SECRET_WORD, "unknown secret kind \"rsa\"" },
		{ "", "@a", SECRET_WORD, "unknown secret kind \"\"" },
		{ "psk", "@a", "", "the secret is empty" },
		{ "psk", "@a not-an-id!", SECRET_WORD, "bad id \"not-an-id!\" of the psk secret" },
		{ "psk", "@a @a", SECRET_WORD, "bad id \"@a\": given twice" },
		{ "xauth", "", SECRET_WORD, "an xauth secret needs at least one user name" },
		{ "xauth", "alice bob\tx", SECRET_WORD, "bad id 2 of the xauth secret: user name with a control character" },
		{ "xauth", "alice alice", SECRET_WORD, "user name given twice" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu", i);
		struct ctl_error err = { 0 };
		g_assert_cmpint(api_set(cases[i].kind, cases[i].ids, cases[i].secret, &err), ==, -1);
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		if (!strstr(err.message, cases[i].fragment))
			g_error("error \"%s\" lacks \"%s\"", err.message, cases[i].fragment);
		g_assert_null(strstr(err.message, SECRET_WORD));
	}
	/* a NULL secret (a front end's bug) and one too long */
	struct ctl_error err = { 0 };
	const char *one[] = { "@a" };
	g_assert_cmpint(secrets_api_set("psk", one, 1, NULL, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	char *long_secret = g_strnfill(SECRET_API_MAX_LEN + 1, 'S');
	g_assert_cmpint(secrets_api_set("psk", one, 1, long_secret, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "longer than 8192 bytes"));
	g_free(long_secret);
	char *max_secret = g_strnfill(SECRET_API_MAX_LEN, 'S');
	g_assert_cmpint(secrets_api_set("psk", one, 1, max_secret, &err), ==, 0);
	g_free(max_secret);
	/* the replace of a failed request did not happen, the good one did */
	g_assert_cmpuint(secrets_api_current()->count, ==, 1);
	g_assert_cmpuint(secrets_api_current()->list->psk_len, ==, SECRET_API_MAX_LEN);
	api_set_ok("psk", "@a", SECRET_WORD "-keep");
	/* a failed request with the same ids leaves the entry alone */
	g_assert_cmpint(api_set("psk", "@a", "", &err), ==, -1);
	g_assert_cmpstr(find_psk("@a", NULL), ==, SECRET_WORD "-keep");

	no_log_shows(SECRET_WORD);
	secrets_clear();
	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);
}

/* XAUTH entries of the file: `@user` and `user`, several users on one
 * line, quoted / 0x / 0s passwords; found by secret_find_xauth() after
 * SetSecret's; wiped when the set goes; errors never show the password. */
static void test_xauth_file(void)
{
	struct secrets s = { 0 };
	parse_ok("@a : PSK \"psk\"\n"
		 "@alice : XAUTH \"" SECRET_WORD "-alice\"\n"
		 "bob carol@example.org : XAUTH \"" SECRET_WORD "-bc\"\n"
		 "dave : xauth 0x70617373\n", &s);
	g_assert_cmpuint(s.count, ==, 4);
	const struct secret *e = s.list->next;
	g_assert_cmpint(e->kind, ==, SECRET_XAUTH);
	g_assert_cmpuint(e->n_users, ==, 1);
	g_assert_cmpstr(e->users[0], ==, "alice");    /* the '@' is dropped */
	g_assert_cmpuint(e->n_ids, ==, 0);
	g_assert_cmpuint(e->password_len, ==, strlen(SECRET_WORD "-alice"));
	e = e->next;
	g_assert_cmpuint(e->n_users, ==, 2);
	g_assert_cmpstr(e->users[0], ==, "bob");
	g_assert_cmpstr(e->users[1], ==, "carol@example.org");
	e = e->next;
	g_assert_cmpstr(e->users[0], ==, "dave");
	g_assert_cmpuint(e->password_len, ==, 4);
	g_assert_true(memcmp(e->password, "pass", 4) == 0);
	secrets_free(&s);

	/* through the daemon's set: the file's entries, SetSecret's first */
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	secrets_clear();
	load_current("@alice : XAUTH \"" SECRET_WORD "-file\"\nbob : XAUTH \"" SECRET_WORD "-bob\"\n");
	const struct secret *x = secret_find_xauth("alice");
	g_assert_nonnull(x);
	g_assert_true(x->password_len == strlen(SECRET_WORD "-file") &&
		      memcmp(x->password, SECRET_WORD "-file", x->password_len) == 0);
	g_assert_nonnull(x->file);
	g_assert_nonnull(secret_find_xauth("bob"));
	g_assert_null(secret_find_xauth("Alice"));     /* exact, case-sensitive */
	g_assert_null(secret_find_xauth("@alice"));
	g_assert_null(secret_find_xauth("carol"));
	api_set_ok("xauth", "alice", SECRET_WORD "-api");
	x = secret_find_xauth("alice");
	g_assert_true(x->password_len == strlen(SECRET_WORD "-api") &&
		      memcmp(x->password, SECRET_WORD "-api", x->password_len) == 0);
	struct ctl_error err = { 0 };
	g_assert_cmpint(api_delete("xauth", "alice", &err), ==, 0);
	x = secret_find_xauth("alice");
	g_assert_true(x->password_len == strlen(SECRET_WORD "-file") &&
		      memcmp(x->password, SECRET_WORD "-file", x->password_len) == 0);

	/* the file's passwords are wiped when the set is freed */
	watched = SECRET_WORD "-bob";
	watched_wipes = 0;
	secrets_clear();
	g_assert_cmpuint(watched_wipes, ==, 1);
	watched = NULL;
	g_assert_null(secret_find_xauth("bob"));
	no_log_shows(SECRET_WORD);
	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);

	/* refusals, at their line, never showing the password */
	static const struct { const char *text, *where, *fragment; } bad[] = {
		{ ": XAUTH \"" SECRET_WORD "\"\n", "test.secrets:1:", "XAUTH needs the user name(s) before the ':'" },
		{ "%any : XAUTH \"" SECRET_WORD "\"\n", "test.secrets:1:", "%any is not a user name" },
		{ "@ : XAUTH \"" SECRET_WORD "\"\n", "test.secrets:1:", "bad XAUTH user \"@\": empty user name" },
		{ "\n@alice : XAUTH\n", "test.secrets:2:", "XAUTH needs a secret" },
		{ "@alice : XAUTH \"\"\n", "test.secrets:1:", "XAUTH is empty" },
		{ "@alice : XAUTH " SECRET_WORD "\n", "test.secrets:1:", "XAUTH must be a quoted string" },
		{ "@alice : XAUTH \"x\" " SECRET_WORD "\n", "test.secrets:1:", "unexpected text after the secret" },
		{ "alice XAUTH \"" SECRET_WORD "\"\n", "test.secrets:1:", "missing ':' before XAUTH" },
		/* a bare word is a user name for XAUTH, still a bad id for PSK */
		{ "alice : PSK \"" SECRET_WORD "\"\n", "test.secrets:1:", "bad id \"alice\"" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		parse_fails(bad[i].text, strlen(bad[i].text), bad[i].where, bad[i].fragment);
}

/* Replaced, deleted and cleared (at exit) entries are wiped before they
 * are freed; the XAUTH lookup prefers the API entry. */
static void test_api_wipe(void)
{
	secrets_clear();
	watched = SECRET_WORD "-wipe-1";
	watched_wipes = 0;
	api_set_ok("psk", "@a @b", watched);
	g_assert_cmpuint(watched_wipes, ==, 0);
	api_set_ok("psk", "@a @b", SECRET_WORD "-wipe-2");
	g_assert_cmpuint(watched_wipes, ==, 1);

	watched = SECRET_WORD "-wipe-2";
	watched_wipes = 0;
	struct ctl_error err = { 0 };
	g_assert_cmpint(api_delete("psk", "@a @b", &err), ==, 0);
	g_assert_cmpuint(watched_wipes, ==, 1);

	watched = SECRET_WORD "-wipe-3";
	watched_wipes = 0;
	api_set_ok("xauth", "carol", watched);
	api_set_ok("psk", "", watched);
	secrets_clear();
	g_assert_cmpuint(watched_wipes, ==, 2);
	g_assert_null(secret_find_xauth("carol"));
	watched = NULL;
}

static void remove_tree(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	if (d) {
		const char *name;
		while ((name = g_dir_read_name(d))) {
			char *sub = g_build_filename(path, name, NULL);
			remove_tree(sub);
			g_free(sub);
		}
		g_dir_close(d);
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	rsa_key = EVP_RSA_gen(1024);
	g_assert_nonnull(rsa_key);
	tmpdir = g_dir_make_tmp("test-secrets-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_test_add_func("/secrets/psk-forms", test_psk_forms);
	g_test_add_func("/secrets/continuation-and-any", test_continuation_and_any);
	g_test_add_func("/secrets/rsa-inline", test_rsa_inline);
	g_test_add_func("/secrets/rsa-files", test_rsa_files);
	g_test_add_func("/secrets/includes", test_includes);
	g_test_add_func("/secrets/errors", test_errors);
	g_test_add_func("/secrets/reload", test_reload);
	g_test_add_func("/secrets/find", test_find);
	g_test_add_func("/secrets/api-precedence", test_api_precedence);
	g_test_add_func("/secrets/api-survives-reload", test_api_survives_reload);
	g_test_add_func("/secrets/api-replace-delete", test_api_replace_delete);
	g_test_add_func("/secrets/api-errors", test_api_errors);
	g_test_add_func("/secrets/api-wipe", test_api_wipe);
	g_test_add_func("/secrets/xauth-file", test_xauth_file);
	int r = g_test_run();
	remove_tree(tmpdir);
	g_free(tmpdir);
	EVP_PKEY_free(rsa_key);
	return r;
}
