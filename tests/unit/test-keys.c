/* Public keys: every accepted text form round-trips to the same key, the
 * key id has the FreeS/WAN shape, garbage is refused with an error naming
 * the form, and the store replaces keys by id. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/util.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/pubkey_cache.h"

static EVP_PKEY *key2048;     /* e = 65537 */
static EVP_PKEY *key_e3;      /* e = 3, 1024 bits */

static EVP_PKEY *gen_rsa(unsigned bits, unsigned long e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *be = BN_new();
	EVP_PKEY *k = NULL;
	g_assert_nonnull(ctx);
	BN_set_word(be, e);
	g_assert_cmpint(EVP_PKEY_keygen_init(ctx), ==, 1);
	g_assert_cmpint(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits), ==, 1);
	g_assert_cmpint(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, be), ==, 1);
	g_assert_cmpint(EVP_PKEY_generate(ctx, &k), ==, 1);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static char *pem_of(EVP_PKEY *k, const char *structure, int selection)
{
	OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(k, selection, "PEM", structure, NULL);
	unsigned char *data = NULL;
	size_t len = 0;
	g_assert_nonnull(ectx);
	g_assert_cmpint(OSSL_ENCODER_to_data(ectx, &data, &len), ==, 1);
	OSSL_ENCODER_CTX_free(ectx);
	char *s = g_strndup((const char *)data, len);
	OPENSSL_free(data);
	return s;
}

/* raw RFC 3110 blob of a key, exponent length in 1 or 3 bytes */
static GByteArray *blob_of(EVP_PKEY *k, bool three_byte_len)
{
	BIGNUM *n = NULL, *e = NULL;
	g_assert_cmpint(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), ==, 1);
	g_assert_cmpint(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), ==, 1);
	int nl = BN_num_bytes(n), el = BN_num_bytes(e);
	unsigned char buf[2048];
	GByteArray *b = g_byte_array_new();
	if (three_byte_len) {
		unsigned char h[3] = { 0, (unsigned char)(el >> 8), (unsigned char)el };
		g_byte_array_append(b, h, 3);
	} else {
		unsigned char h = (unsigned char)el;
		g_byte_array_append(b, &h, 1);
	}
	BN_bn2bin(e, buf);
	g_byte_array_append(b, buf, (guint)el);
	BN_bn2bin(n, buf);
	g_byte_array_append(b, buf, (guint)nl);
	BN_free(n);
	BN_free(e);
	return b;
}

static void assert_same_key(const char *text, EVP_PKEY *want)
{
	struct ctl_error err = { 0 };
	EVP_PKEY *k = pubkey_parse(text, &err);
	if (!k)
		g_error("pubkey_parse failed: %s", err.message);
	g_assert_cmpint(EVP_PKEY_eq(k, want), ==, 1);
	/* a public key only: no private parts come through */
	BIGNUM *d = NULL;
	g_assert_cmpint(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_D, &d), !=, 1);
	BN_free(d);
	EVP_PKEY_free(k);
}

static void assert_rejected(const char *text, const char *fragment)
{
	struct ctl_error err = { 0 };
	EVP_PKEY *k = pubkey_parse(text, &err);
	if (k)
		g_error("pubkey_parse accepted \"%.40s\"", text);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	if (!strstr(err.message, fragment))
		g_error("error \"%s\" lacks \"%s\"", err.message, fragment);
}

static void test_rfc3110_roundtrip(void)
{
	char *b64 = pubkey_rfc3110_base64(key2048);
	g_assert_nonnull(b64);
	g_assert_true(g_str_has_prefix(b64, "0sAwEAA"));
	assert_same_key(b64, key2048);

	/* blanks and newlines inside the base64 are ignored (pasted keys) */
	GString *spaced = g_string_new("  ");
	for (const char *c = b64; *c; c++) {
		g_string_append_c(spaced, *c);
		if ((c - b64) % 40 == 39)
			g_string_append(spaced, "\n\t");
	}
	assert_same_key(spaced->str, key2048);
	g_string_free(spaced, TRUE);

	/* matches an independent encoding of the blob */
	GByteArray *blob = blob_of(key2048, false);
	gchar *enc = g_base64_encode(blob->data, blob->len);
	g_assert_cmpstr(b64 + 2, ==, enc);
	g_free(enc);
	g_byte_array_free(blob, TRUE);
	free(b64);

	/* the 3-byte exponent length form */
	blob = blob_of(key2048, true);
	enc = g_base64_encode(blob->data, blob->len);
	gchar *text = g_strconcat("0s", enc, NULL);
	assert_same_key(text, key2048);
	g_free(text);
	g_free(enc);
	g_byte_array_free(blob, TRUE);

	b64 = pubkey_rfc3110_base64(key_e3);
	/* "AQ": exponent length 1; then 0x03 and the top bits of n (1x) */
	g_assert_true(g_str_has_prefix(b64, "0sAQ"));
	g_assert_true(b64[4] == 'O' || b64[4] == 'P');
	assert_same_key(b64, key_e3);
	free(b64);
}

static void test_hex_form(void)
{
	GByteArray *blob = blob_of(key2048, false);
	GString *hex = g_string_new("0x");
	for (guint i = 0; i < blob->len; i++)
		g_string_append_printf(hex, i % 2 ? "%02X" : "%02x", blob->data[i]);
	assert_same_key(hex->str, key2048);
	g_string_free(hex, TRUE);
	g_byte_array_free(blob, TRUE);
}

static void test_pem_forms(void)
{
	char *spki = pem_of(key2048, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
	g_assert_true(g_str_has_prefix(spki, "-----BEGIN PUBLIC KEY-----"));
	assert_same_key(spki, key2048);
	char *pkcs1 = pem_of(key2048, "type-specific", EVP_PKEY_PUBLIC_KEY);
	g_assert_true(g_str_has_prefix(pkcs1, "-----BEGIN RSA PUBLIC KEY-----"));
	assert_same_key(pkcs1, key2048);

	/* a private key is not a peer's public key */
	char *priv = pem_of(key2048, "PrivateKeyInfo", EVP_PKEY_KEYPAIR);
	assert_rejected(priv, "PUBLIC KEY");
	OPENSSL_cleanse(priv, strlen(priv));
	g_free(priv);

	/* a damaged body */
	char *bad = g_strdup(spki);
	bad[40] = bad[40] == 'A' ? '!' : 'A';
	bad[41] = '*';
	assert_rejected(bad, "PEM");
	g_free(bad);
	g_free(pkcs1);
	g_free(spki);
}

static void test_file_form(void)
{
	char *dir = g_dir_make_tmp("test-keys-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, "peer.pem", NULL);
	char *spki = pem_of(key2048, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
	g_assert_true(g_file_set_contents(path, spki, -1, NULL));
	char *text = g_strconcat("%file:", path, NULL);
	assert_same_key(text, key2048);

	char *missing = g_strconcat("%file:", dir, "/nope.pem", NULL);
	assert_rejected(missing, "No such file");
	assert_rejected("%file:relative.pem", "absolute path");
	g_assert_true(g_file_set_contents(path, "not a key\n", -1, NULL));
	assert_rejected(text, "peer.pem");

	g_unlink(path);
	g_rmdir(dir);
	g_free(missing);
	g_free(text);
	g_free(spki);
	g_free(path);
	g_free(dir);
}

/* The cache hands out the key it parsed while the text (and for %file:
 * the file) is the same, parses again when the file changes, and keeps
 * no failure. */
static void test_cached(void)
{
	char *dir = g_dir_make_tmp("test-keys-XXXXXX", NULL);
	char *path = g_build_filename(dir, "peer.pem", NULL);
	char *spki = pem_of(key2048, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
	char *spki_e3 = pem_of(key_e3, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
	g_assert_true(g_file_set_contents(path, spki, -1, NULL));
	char *text = g_strconcat("%file:", path, NULL);
	struct ctl_error err = { 0 };

	EVP_PKEY *a = pubkey_parse_cached(text, &err), *b = pubkey_parse_cached(text, &err);
	g_assert_nonnull(a);
	g_assert_true(a == b);
	g_assert_cmpint(EVP_PKEY_eq(a, key2048), ==, 1);
	EVP_PKEY_free(b);

	/* another key in the file (another size, so the stat differs even
	 * within the file system's time granularity): read again */
	g_assert_true(g_file_set_contents(path, spki_e3, -1, NULL));
	b = pubkey_parse_cached(text, &err);
	g_assert_nonnull(b);
	g_assert_true(a != b);
	g_assert_cmpint(EVP_PKEY_eq(b, key_e3), ==, 1);
	EVP_PKEY_free(b);
	EVP_PKEY_free(a);

	/* gone: refused with the parse's error, every time */
	g_unlink(path);
	g_assert_null(pubkey_parse_cached(text, &err));
	g_assert_nonnull(strstr(err.message, "No such file"));
	g_assert_null(pubkey_parse_cached(text, &err));

	/* inline text: the same key object for the same text */
	a = pubkey_parse_cached(spki, &err);
	b = pubkey_parse_cached(spki, &err);
	g_assert_nonnull(a);
	g_assert_true(a == b);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	g_assert_null(pubkey_parse_cached("0s", &err));

	pubkey_cache_clear();
	g_rmdir(dir);
	g_free(text);
	g_free(spki);
	g_free(spki_e3);
	g_free(path);
	g_free(dir);
}

static void test_garbage(void)
{
	assert_rejected("", "empty");
	assert_rejected("   \n", "empty");
	assert_rejected("hello", "expected 0s base64");
	assert_rejected("0s", "no base64 digits");
	assert_rejected("0s!!!!", "not base64");
	assert_rejected("0sAQO", "multiple of 4");
	assert_rejected("0x123", "odd number");
	assert_rejected("0xzz", "not a hex digit");
	assert_rejected("0sAA==", "exponent length");           /* 00 then nothing */
	assert_rejected("0sAAAA", "exponent length of 0");
	assert_rejected("0sAQM=", "too short for its exponent");  /* e=3 and no modulus */
	assert_rejected("0sAQMB", "shorter than 1024 bits");      /* e=3, n=1 */
	assert_rejected("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "PUBLIC KEY");

	/* a 512-bit modulus is refused as too short */
	GByteArray *b = g_byte_array_new();
	unsigned char hdr[2] = { 1, 3 }, m[64];
	memset(m, 0xab, sizeof(m));
	g_byte_array_append(b, hdr, 2);
	g_byte_array_append(b, m, sizeof(m));
	gchar *enc = g_base64_encode(b->data, b->len);
	gchar *t = g_strconcat("0s", enc, NULL);
	assert_rejected(t, "shorter than 1024 bits");
	g_free(t);
	g_free(enc);
	g_byte_array_free(b, TRUE);

	/* an even exponent */
	b = blob_of(key2048, false);
	b->data[3] = 0x02;   /* 65537 -> 65538 */
	enc = g_base64_encode(b->data, b->len);
	t = g_strconcat("0s", enc, NULL);
	assert_rejected(t, "odd");
	g_free(t);
	g_free(enc);
	g_byte_array_free(b, TRUE);
}

static void test_keyid(void)
{
	char id[16];
	pubkey_keyid(key2048, id);
	g_assert_cmpuint(strlen(id), ==, PUBKEY_KEYID_CHARS);
	char *b64 = pubkey_rfc3110_base64(key2048);
	g_assert_true(strncmp(b64 + 2, id, PUBKEY_KEYID_CHARS) == 0);
	g_assert_true(g_str_has_prefix(id, "AwEAA"));
	free(b64);
	pubkey_keyid(key_e3, id);
	g_assert_true(g_str_has_prefix(id, "AQO") || g_str_has_prefix(id, "AQP"));
	g_assert_cmpuint(strlen(id), ==, 9);
}

static GPtrArray *log_lines;
static void capture(int priority, const char *line, void *ud)
{
	g_ptr_array_add(log_lines, g_strdup(line));
}

static void test_store(void)
{
	struct ctl_error err = { 0 };
	char *k1 = pubkey_rfc3110_base64(key2048);
	char *k2 = pubkey_rfc3110_base64(key_e3);
	log_lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);

	g_assert_cmpint(pubkey_add("not an id", k1, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_BAD_ID);
	g_assert_nonnull(strstr(err.message, "not an id"));
	g_assert_cmpint(pubkey_add("@east", "0sgarbage", &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
	g_assert_null(pubkeys_first());

	g_assert_cmpint(pubkey_add("@east", k1, &err), ==, 0);
	g_assert_cmpint(pubkey_add("192.0.2.7", k2, &err), ==, 0);
	struct pluto_id east;
	g_assert_true(id_parse("@EAST", &east, NULL));
	const struct pubkey *pk = pubkey_find(&east);
	g_assert_nonnull(pk);
	g_assert_cmpint(EVP_PKEY_eq(pk->key, key2048), ==, 1);
	g_assert_true(g_str_has_prefix(pk->keyid, "AwEAA"));

	char want[64];
	snprintf(want, sizeof(want), "added public key for @east (keyid %s)", pk->keyid);
	bool seen = false;
	for (guint i = 0; i < log_lines->len; i++)
		seen |= strstr(g_ptr_array_index(log_lines, i), want) != NULL;
	g_assert_true(seen);

	/* same id again: replaced, not duplicated */
	g_assert_cmpint(pubkey_add("@east", k2, &err), ==, 0);
	pk = pubkey_find(&east);
	g_assert_cmpint(EVP_PKEY_eq(pk->key, key_e3), ==, 1);
	unsigned n = 0;
	for (const struct pubkey *p = pubkeys_first(); p; p = p->next)
		n++;
	g_assert_cmpuint(n, ==, 2);

	struct pluto_id west;
	g_assert_true(id_parse("@west", &west, NULL));
	g_assert_null(pubkey_find(&west));
	pubkeys_clear();
	g_assert_null(pubkeys_first());
	g_assert_null(pubkey_find(&east));

	log_set_hook(NULL, NULL);
	g_ptr_array_free(log_lines, TRUE);
	free(k1);
	free(k2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	key2048 = gen_rsa(2048, 65537);
	key_e3 = gen_rsa(1024, 3);
	g_test_add_func("/keys/rfc3110-roundtrip", test_rfc3110_roundtrip);
	g_test_add_func("/keys/hex", test_hex_form);
	g_test_add_func("/keys/pem", test_pem_forms);
	g_test_add_func("/keys/file", test_file_form);
	g_test_add_func("/keys/cached", test_cached);
	g_test_add_func("/keys/garbage", test_garbage);
	g_test_add_func("/keys/keyid", test_keyid);
	g_test_add_func("/keys/store", test_store);
	int r = g_test_run();
	EVP_PKEY_free(key2048);
	EVP_PKEY_free(key_e3);
	return r;
}
