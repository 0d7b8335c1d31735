/* Unit tests for src/daemon/crypto*.c: hashes and HMAC against the RFC
 * vectors, the RFC 2409 derivations against tests/data/ikev1-kdf.json and
 * Python-derived expansion vectors, CBC against SP 800-38A / SP 800-67,
 * every DH group both ways plus bad peer values, RSA raw signatures.
 * The decryption of real captures lives in test-captures.c. */
#include <glib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "daemon/crypto/crypto.h"

/* --- helpers --- */

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex);
	g_assert_cmpuint(n % 2, ==, 0);
	g_assert_cmpuint(n / 2, <=, max);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
		g_assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex, const char *what)
{
	gchar *got_hex = g_malloc(2 * len + 1);
	for (size_t i = 0; i < len; i++)
		g_snprintf(got_hex + 2 * i, 3, "%02x", got[i]);
	if (g_ascii_strcasecmp(got_hex, want_hex) != 0)
		g_error("%s: got %s, want %s", what, got_hex, want_hex);
	g_free(got_hex);
}

static const struct alg *alg(enum alg_kind kind, const char *name)
{
	const struct alg *a = alg_by_name(kind, name);
	g_assert_nonnull(a);
	return a;
}

/* the key length a cipher's name carries ("aes256": 256; "3des": 192) */
static unsigned key_bits_of(const char *name)
{
	unsigned bits = 0;
	char why[128];
	g_assert_nonnull(alg_parse(1u << ALG_CIPHER, name, &bits, why, sizeof(why)));
	return bits;
}

/* --- hashes and PRF --- */

static const char *const hash_names[] = { "md5", "sha1", "sha2_256", "sha2_384", "sha2_512" };

static void test_hash(void)
{
	/* FIPS 180-4 / RFC 1321 "abc" examples */
	static const char *const abc[] = {
		"900150983cd24fb0d6963f7d28e17f72",
		"a9993e364706816aba3e25717850c26c9cd0d89d",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		"8086072ba1e7cc2358baeca134c825a7",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	};
	static const size_t lens[] = { 16, 20, 32, 48, 64 };
	for (size_t i = 0; i < G_N_ELEMENTS(hash_names); i++) {
		const struct alg *h = alg(ALG_HASH, hash_names[i]);
		uint8_t out[CRYPTO_MAX_HASH];
		g_assert_cmpuint(crypto_hash_len(h), ==, lens[i]);
		/* split input: the parts are concatenated */
		const struct chunk parts[] = { CHUNK("a", 1), CHUNK("", 0), CHUNK("bc", 2) };
		g_assert_cmpint(crypto_hash(h, parts, 3, out), ==, 0);
		assert_hex(out, lens[i], abc[i], hash_names[i]);
	}
	/* the registry's aliases map by IKE number */
	g_assert_cmpuint(crypto_hash_len(alg(ALG_HASH, "sha256")), ==, 32);
	g_assert_cmpuint(crypto_hash_len(alg(ALG_CIPHER, "aes128")), ==, 0);
	uint8_t out[CRYPTO_MAX_HASH];
	g_assert_cmpint(crypto_hash(alg(ALG_DH, "modp2048"), NULL, 0, out), <, 0);
}

static void test_prf(void)
{
	/* RFC 2202 (MD5, SHA-1) and RFC 4231 (SHA-2) test cases 1 and 2 */
	static const char *const case1[] = {
		"9294727a3638bb1c13f48ef8158bfc9d",
		"b617318655057264e28bc0b6fb378c8ef146be00",
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		"faea9ea9076ede7f4af152e8b2fa9cb6",
		"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		"daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
	};
	static const char *const case2[] = {
		"750c783e6ab0b503eaa86e310a5db738",
		"effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
		"8e2240ca5e69e2c78b3239ecfab21649",
		"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		"9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
	};
	uint8_t key1[20];
	memset(key1, 0x0b, sizeof(key1));
	for (size_t i = 0; i < G_N_ELEMENTS(hash_names); i++) {
		const struct alg *h = alg(ALG_HASH, hash_names[i]);
		size_t hl = crypto_hash_len(h);
		uint8_t out[CRYPTO_MAX_HASH];
		/* RFC 2202 uses a 16-byte key for HMAC-MD5 case 1 */
		size_t k1 = i == 0 ? 16 : 20;
		const struct chunk hi[] = { CHUNK("Hi ", 3), CHUNK("There", 5) };
		g_assert_cmpint(crypto_prf(h, CHUNK(key1, k1), hi, 2, out), ==, 0);
		assert_hex(out, hl, case1[i], hash_names[i]);
		const struct chunk what[] = { CHUNK("what do ya want for nothing?", 28) };
		g_assert_cmpint(crypto_prf(h, CHUNK("Jefe", 4), what, 1, out), ==, 0);
		assert_hex(out, hl, case2[i], hash_names[i]);
	}
}

/* --- RFC 2409 derivations: tests/data/ikev1-kdf.json --- */

struct kdf_inputs {
	json_object *v;
	const struct alg *hash;
	const struct alg *cipher;
	struct ike_keys keys;
	uint8_t phase1_iv[CRYPTO_MAX_BLOCK];
	bool have_iv;
};

static size_t field(json_object *o, const char *name, uint8_t *out, size_t max)
{
	json_object *f;
	if (!json_object_object_get_ex(o, name, &f))
		g_error("vector lacks '%s'", name);
	return unhex(json_object_get_string(f), out, max);
}

static bool has(json_object *o, const char *name)
{
	return json_object_object_get_ex(o, name, NULL);
}

/* Checks one expected value of a vector; returns false for a key this
 * test does not know, so no expectation in the file goes unchecked. */
static bool check_expect(struct kdf_inputs *in, const char *key, const char *want)
{
	json_object *v = in->v;
	const struct alg *h = in->hash;
	size_t hl = crypto_hash_len(h);
	uint8_t buf[256], a[512], b[512], ci[8], cr[8];

	if (strcmp(key, "skeyid") == 0)
		assert_hex(in->keys.skeyid, hl, want, key);
	else if (strcmp(key, "skeyid_d") == 0)
		assert_hex(in->keys.skeyid_d, hl, want, key);
	else if (strcmp(key, "skeyid_a") == 0)
		assert_hex(in->keys.skeyid_a, hl, want, key);
	else if (strcmp(key, "skeyid_e") == 0)
		assert_hex(in->keys.skeyid_e, hl, want, key);
	else if (strcmp(key, "skeyid_e_first16") == 0)
		assert_hex(in->keys.skeyid_e, 16, want, key);
	else if (strcmp(key, "ka") == 0) {
		g_assert_cmpuint(in->keys.enc_key_len, ==, strlen(want) / 2);
		assert_hex(in->keys.enc_key, in->keys.enc_key_len, want, key);
	} else if (strcmp(key, "phase1_iv") == 0) {
		g_assert_true(in->have_iv);
		assert_hex(in->phase1_iv, crypto_cipher_block(in->cipher), want, key);
	} else if (strcmp(key, "hash_r") == 0) {
		/* HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b),
		 * through the function the engine and the load generator use */
		uint8_t sa[256], id[64];
		size_t gxr = field(v, "gxr", a, sizeof(a)), gxi = field(v, "gxi", b, sizeof(b));
		field(v, "cky_i", ci, 8);
		field(v, "cky_r", cr, 8);
		size_t sal = field(v, "sai_b", sa, sizeof(sa)), idl = field(v, "idir_b", id, sizeof(id));
		g_assert_cmpint(ikev1_phase1_hash(h, &in->keys, false, CHUNK(b, gxi), CHUNK(a, gxr),
						  ci, cr, CHUNK(sa, sal), CHUNK(id, idl), buf), ==, 0);
		assert_hex(buf, hl, want, key);
	} else if (g_str_has_prefix(key, "hash_of_phase1_iv_and_msgid_")) {
		uint32_t msgid = (uint32_t)strtoul(key + strlen("hash_of_phase1_iv_and_msgid_"), NULL, 16);
		g_assert_true(in->have_iv);
		g_assert_cmpint(ikev1_phase2_iv(h, in->cipher, in->phase1_iv, msgid, buf), ==, 0);
		assert_hex(buf, crypto_cipher_block(in->cipher), want, key);
	} else if (g_str_has_prefix(key, "keymat_spi_")) {
		uint32_t spi = (uint32_t)strtoul(key + strlen("keymat_spi_"), NULL, 16);
		json_object *qm, *f;
		g_assert_true(json_object_object_get_ex(v, "qm", &qm));
		g_assert_true(json_object_object_get_ex(qm, "protocol", &f));
		g_assert_cmpstr(json_object_get_string(f), ==, "esp");
		g_assert_true(json_object_object_get_ex(qm, "keymat_bytes", &f));
		size_t n = (size_t)json_object_get_int(f);
		g_assert_cmpuint(n, ==, strlen(want) / 2);
		size_t nil = field(qm, "ni", a, sizeof(a)), nrl = field(qm, "nr", b, sizeof(b));
		g_assert_cmpint(ikev1_keymat(h, &in->keys, CHUNK(NULL, 0), 3 /* ESP */, spi,
					     CHUNK(a, nil), CHUNK(b, nrl), buf, n), ==, 0);
		assert_hex(buf, n, want, key);
	} else {
		return false;
	}
	return true;
}

static void run_kdf_vector(json_object *v, unsigned *checks)
{
	json_object *f;
	struct kdf_inputs in = { .v = v };
	g_assert_true(json_object_object_get_ex(v, "prf", &f));
	const char *prf = json_object_get_string(f);
	g_assert_true(g_str_has_prefix(prf, "hmac-"));
	in.hash = alg(ALG_HASH, prf + 5);
	in.cipher = alg(ALG_CIPHER, "aes128");
	if (json_object_object_get_ex(v, "cipher", &f))
		g_assert_cmpstr(json_object_get_string(f), ==, "aes128-cbc");

	uint8_t ni[256], nr[256], psk[256], gxy[1024], ci[8], cr[8];
	size_t nil = field(v, "ni", ni, sizeof(ni)), nrl = field(v, "nr", nr, sizeof(nr));
	size_t gxyl = has(v, "gxy") ? field(v, "gxy", gxy, sizeof(gxy)) : 0;
	g_assert_true(json_object_object_get_ex(v, "auth", &f));
	if (strcmp(json_object_get_string(f), "signature") == 0) {
		g_assert_cmpint(ikev1_skeyid_sig(in.hash, CHUNK(ni, nil), CHUNK(nr, nrl),
						 CHUNK(gxy, gxyl), &in.keys), ==, 0);
	} else {
		size_t pl;
		if (json_object_object_get_ex(v, "psk_ascii", &f)) {
			pl = strlen(json_object_get_string(f));
			memcpy(psk, json_object_get_string(f), pl);
		} else {
			pl = field(v, "psk", psk, sizeof(psk));
		}
		g_assert_cmpint(ikev1_skeyid_psk(in.hash, CHUNK(psk, pl), CHUNK(ni, nil),
						 CHUNK(nr, nrl), &in.keys), ==, 0);
	}
	if (gxyl) {
		field(v, "cky_i", ci, 8);
		field(v, "cky_r", cr, 8);
		g_assert_cmpint(ikev1_skeyid_derive(in.hash, in.cipher, 128, CHUNK(gxy, gxyl), ci,
						    cr, &in.keys), ==, 0);
	}
	if (has(v, "gxi") && has(v, "gxr")) {
		uint8_t gxi[1024], gxr[1024];
		size_t il = field(v, "gxi", gxi, sizeof(gxi)), rl = field(v, "gxr", gxr, sizeof(gxr));
		g_assert_cmpint(ikev1_phase1_iv(in.hash, in.cipher, CHUNK(gxi, il), CHUNK(gxr, rl),
						in.phase1_iv), ==, 0);
		in.have_iv = true;
	}

	json_object *expect;
	g_assert_true(json_object_object_get_ex(v, "expect", &expect));
	json_object_object_foreach(expect, key, val) {
		if (!check_expect(&in, key, json_object_get_string(val)))
			g_error("vector %s: unknown expectation '%s'",
				json_object_get_string(json_object_object_get(v, "name")), key);
		(*checks)++;
	}
}

static void test_kdf_vectors(void)
{
	const char *srcdir = g_getenv("SRCDIR");
	g_assert_nonnull(srcdir);
	gchar *path = g_build_filename(srcdir, "tests", "data", "ikev1-kdf.json", NULL);
	json_object *root = json_object_from_file(path);
	if (!root)
		g_error("cannot read %s", path);
	json_object *vectors;
	g_assert_true(json_object_object_get_ex(root, "vectors", &vectors));
	size_t n = json_object_array_length(vectors);
	g_assert_cmpuint(n, >=, 7);
	unsigned checks = 0;
	for (size_t i = 0; i < n; i++)
		run_kdf_vector(json_object_array_get_idx(vectors, i), &checks);
	g_test_message("%zu vectors, %u expected values checked", n, checks);
	g_assert_cmpuint(checks, >=, 28);   /* all of them, as the file stands */
	json_object_put(root);
	g_free(path);
}

/* Appendix B key expansion; expected values derived with Python's hmac
 * module from the RFC 2409 formulas (K1 = prf(SKEYID_e, 0x00),
 * Kn = prf(SKEYID_e, Kn-1)). */
static void test_key_expansion(void)
{
	static const struct {
		const char *hash, *cipher;
		unsigned bits;
		const char *skeyid, *skeyid_e, *key;
	} cases[] = {
		{ "md5", "3des", 0, "ff49707912cd36cb403e95e8f241f063",
		  "75edc4934929722474b2a8505c3f804c",
		  "b70a1cd53e38679d8ab63abd045e8fb64fffb85955144176" },
		{ "sha1", "3des", 0, "ae18b1db3a1607cca141a8768c995883b719dde3",
		  "92f9365923a626936226ae9fd4284cf1468c468e",
		  "ce5437b9541cb50ddacb2afec21e28b6cddda7bd07d184eb" },
		{ "sha1", "aes256", 256, "ae18b1db3a1607cca141a8768c995883b719dde3",
		  "92f9365923a626936226ae9fd4284cf1468c468e",
		  "ce5437b9541cb50ddacb2afec21e28b6cddda7bd07d184ebc1be8717ea6c180e" },
		/* no expansion: SHA-256 is as long as the AES-256 key */
		{ "sha2_256", "aes", 256,
		  "a19162332e83761d1b603a484ca27253f66f217984aacd859c99e30a7367b2c5",
		  "f6452b23a0a5d432b0adc89cf95130865da3681046320373e9f872f25fa3ecbf",
		  "f6452b23a0a5d432b0adc89cf95130865da3681046320373e9f872f25fa3ecbf" },
	};
	uint8_t ni[16], nr[20], gxy[128], ci[8], cr[8];
	unhex("0102030405060708090a0b0c0d0e0f10", ni, sizeof(ni));
	unhex("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4", nr, sizeof(nr));
	for (size_t i = 0; i < sizeof(gxy); i++)
		gxy[i] = (uint8_t)(i + 1);
	unhex("1122334455667788", ci, 8);
	unhex("99aabbccddeeff00", cr, 8);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct alg *h = alg(ALG_HASH, cases[i].hash), *c = alg(ALG_CIPHER, cases[i].cipher);
		struct ike_keys keys;
		g_assert_cmpint(ikev1_skeyid_psk(h, CHUNK("abc123", 6), CHUNK(ni, 16), CHUNK(nr, 20),
						 &keys), ==, 0);
		assert_hex(keys.skeyid, keys.hash_len, cases[i].skeyid, "skeyid");
		g_assert_cmpint(ikev1_skeyid_derive(h, c, cases[i].bits, CHUNK(gxy, sizeof(gxy)), ci,
						    cr, &keys), ==, 0);
		assert_hex(keys.skeyid_e, keys.hash_len, cases[i].skeyid_e, "skeyid_e");
		assert_hex(keys.enc_key, keys.enc_key_len, cases[i].key, "expanded key");
	}
	/* a cipher without a usable key length is refused */
	struct ike_keys keys;
	g_assert_cmpint(ikev1_skeyid_psk(alg(ALG_HASH, "sha1"), CHUNK("x", 1), CHUNK(ni, 16),
					 CHUNK(nr, 20), &keys), ==, 0);
	g_assert_cmpint(ikev1_skeyid_derive(alg(ALG_HASH, "sha1"), alg(ALG_CIPHER, "aes"), 100,
					    CHUNK(gxy, 8), ci, cr, &keys), <, 0);
}

/* KEYMAT with and without PFS, expanded past one hash; expected values
 * from Python's hmac: Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] 3 | SPI |
 * Ni_b | Nr_b). */
static void test_keymat(void)
{
	const struct alg *h = alg(ALG_HASH, "sha1");
	struct ike_keys keys = { .hash_len = 20 };
	unhex("e5d7368180a8766f09c90cc9ac15182d3cd492ee", keys.skeyid_d, sizeof(keys.skeyid_d));
	uint8_t ni[16], nr[20], gqm[112], out[52];
	unhex("0102030405060708090a0b0c0d0e0f10", ni, sizeof(ni));
	unhex("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4", nr, sizeof(nr));
	for (size_t i = 0; i < sizeof(gqm); i++)
		gqm[i] = (uint8_t)(200 + i % 56);
	g_assert_cmpint(ikev1_keymat(h, &keys, CHUNK(gqm, sizeof(gqm)), 3, 0x12345678,
				     CHUNK(ni, 16), CHUNK(nr, 20), out, sizeof(out)), ==, 0);
	assert_hex(out, sizeof(out),
		   "ac63cd4a2db9566a6c2ce69466b7bf090b9695149963589716f2a54665cc0c00"
		   "3a76ff5adec7d9a09c7186c29e304a2f7a8dcb40", "KEYMAT with PFS");
	g_assert_cmpint(ikev1_keymat(h, &keys, CHUNK(NULL, 0), 3, 0x12345678, CHUNK(ni, 16),
				     CHUNK(nr, 20), out, sizeof(out)), ==, 0);
	assert_hex(out, sizeof(out),
		   "291ace6ed0a67e177a4eee7fa47ed0c12f3c0091bcac04b98667de4ac078efea"
		   "d9117e2618079f72cf8f2e8c22594188d8e04873", "KEYMAT without PFS");
}

/* --- CBC --- */

static void test_cbc_vectors(void)
{
	/* NIST SP 800-38A F.2.1 / F.2.3 / F.2.5 (CBC-AES128/192/256.Encrypt) */
	static const char pt_hex[] =
		"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
	static const struct {
		const char *name, *key, *ct;
	} aes[] = {
		{ "aes128", "2b7e151628aed2a6abf7158809cf4f3c",
		  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
		  "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7" },
		{ "aes192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		  "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
		  "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd" },
		{ "aes256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		  "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
		  "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(aes); i++) {
		const struct alg *c = alg(ALG_CIPHER, aes[i].name);
		uint8_t key[32], iv[16], buf[64], ct[64];
		size_t kl = unhex(aes[i].key, key, sizeof(key));
		g_assert_cmpuint(crypto_cipher_key_len(c, key_bits_of(aes[i].name)), ==, kl);
		g_assert_cmpuint(crypto_cipher_block(c), ==, 16);
		unhex("000102030405060708090a0b0c0d0e0f", iv, 16);
		unhex(pt_hex, buf, sizeof(buf));
		unhex(aes[i].ct, ct, sizeof(ct));
		/* two calls with the chained IV give one CBC stream */
		g_assert_cmpint(crypto_cbc_encrypt(c, key, kl, iv, buf, 32), ==, 0);
		g_assert_cmpmem(iv, 16, buf + 16, 16);
		g_assert_cmpint(crypto_cbc_encrypt(c, key, kl, iv, buf + 32, 32), ==, 0);
		assert_hex(buf, 64, aes[i].ct, aes[i].name);
		g_assert_cmpmem(iv, 16, ct + 48, 16);
		/* decrypting chains the same way: the IV becomes the last
		 * ciphertext block, read before it is overwritten */
		unhex("000102030405060708090a0b0c0d0e0f", iv, 16);
		g_assert_cmpint(crypto_cbc_decrypt(c, key, kl, iv, buf, 16), ==, 0);
		g_assert_cmpmem(iv, 16, ct, 16);
		g_assert_cmpint(crypto_cbc_decrypt(c, key, kl, iv, buf + 16, 48), ==, 0);
		g_assert_cmpmem(iv, 16, ct + 48, 16);
		assert_hex(buf, 64, pt_hex, "decrypted");
	}
	/* 3DES: the key of the SP 800-67 example; its first block with a
	 * zero IV equals that example's ECB output a826fd8ce53b855f, the
	 * rest is pinned from `openssl enc -des-ede3-cbc -nopad`. */
	const struct alg *des = alg(ALG_CIPHER, "3des");
	g_assert_cmpuint(crypto_cipher_key_len(des, 0), ==, 24);
	g_assert_cmpuint(crypto_cipher_key_len(des, 192), ==, 24);
	g_assert_cmpuint(crypto_cipher_block(des), ==, 8);
	uint8_t key[24], iv[8] = { 0 }, buf[24];
	unhex("0123456789abcdef23456789abcdef01456789abcdef0123", key, sizeof(key));
	memcpy(buf, "The qufck brown fox jump", 24);
	g_assert_cmpint(crypto_cbc_encrypt(des, key, 24, iv, buf, 8), ==, 0);
	g_assert_cmpint(crypto_cbc_encrypt(des, key, 24, iv, buf + 8, 16), ==, 0);
	assert_hex(buf, 24, "a826fd8ce53b855f854b649a0a3903c970d563820afe8b35", "3des");
	assert_hex(iv, 8, "70d563820afe8b35", "3des iv");
	memset(iv, 0, sizeof(iv));
	g_assert_cmpint(crypto_cbc_decrypt(des, key, 24, iv, buf, 24), ==, 0);
	g_assert_cmpmem(buf, 24, "The qufck brown fox jump", 24);
	assert_hex(iv, 8, "70d563820afe8b35", "3des iv after decrypt");
}

static void test_cbc_roundtrip_and_errors(void)
{
	static const char *const names[] = { "3des", "aes128", "aes192", "aes256" };
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		const struct alg *c = alg(ALG_CIPHER, names[i]);
		size_t kl = crypto_cipher_key_len(c, key_bits_of(names[i])), bl = crypto_cipher_block(c);
		uint8_t key[32], iv[16], iv0[16], plain[96], buf[96];
		crypto_random(key, kl);
		crypto_random(iv0, bl);
		crypto_random(plain, sizeof(plain));
		memcpy(buf, plain, sizeof(buf));
		memcpy(iv, iv0, bl);
		g_assert_cmpint(crypto_cbc_encrypt(c, key, kl, iv, buf, sizeof(buf)), ==, 0);
		g_assert_true(memcmp(buf, plain, sizeof(buf)) != 0);
		g_assert_cmpmem(iv, bl, buf + sizeof(buf) - bl, bl);
		memcpy(iv, iv0, bl);
		g_assert_cmpint(crypto_cbc_decrypt(c, key, kl, iv, buf, sizeof(buf)), ==, 0);
		g_assert_cmpmem(buf, sizeof(buf), plain, sizeof(plain));
		/* not a whole number of blocks, wrong key length */
		g_assert_cmpint(crypto_cbc_encrypt(c, key, kl, iv, buf, bl + 1), <, 0);
		g_assert_cmpint(crypto_cbc_decrypt(c, key, kl - 1, iv, buf, bl), <, 0);
	}
	g_assert_cmpuint(crypto_cipher_key_len(alg(ALG_CIPHER, "aes"), 0), ==, 16);
	g_assert_cmpuint(crypto_cipher_key_len(alg(ALG_CIPHER, "aes"), 192), ==, 24);
	g_assert_cmpuint(crypto_cipher_key_len(alg(ALG_CIPHER, "aes"), 64), ==, 0);
	g_assert_cmpuint(crypto_cipher_block(alg(ALG_HASH, "sha1")), ==, 0);
}

/* --- Diffie-Hellman --- */

static const char *const group_names[] = { "modp1024", "modp1536", "modp2048", "modp3072",
					   "modp4096", "modp6144", "modp8192", "ecp256",
					   "ecp384",   "curve25519" };

static void test_dh_agreement(void)
{
	static const size_t pub_lens[] = { 128, 192, 256, 384, 512, 768, 1024, 64, 96, 32 };
	for (size_t i = 0; i < G_N_ELEMENTS(group_names); i++) {
		const struct alg *g = alg(ALG_DH, group_names[i]);
		g_assert_cmpuint(dh_public_len(g), ==, pub_lens[i]);
		size_t want_shared = strncmp(group_names[i], "ecp", 3) == 0 ? pub_lens[i] / 2 : pub_lens[i];
		g_assert_cmpuint(dh_shared_len(g), ==, want_shared);

		struct dh_secret *a = NULL, *b = NULL;
		uint8_t pa[CRYPTO_MAX_DH], pb[CRYPTO_MAX_DH], sa[CRYPTO_MAX_DH], sb[CRYPTO_MAX_DH];
		size_t la = 0, lb = 0;
		char why[200];
		g_assert_cmpint(dh_generate(g, &a, pa), ==, 0);
		g_assert_cmpint(dh_generate(g, &b, pb), ==, 0);
		g_assert_true(dh_secret_group(a) == g);
		g_assert_true(memcmp(pa, pb, pub_lens[i]) != 0);
		g_assert_cmpint(dh_compute(a, pb, pub_lens[i], sa, &la, why, sizeof(why)), ==, 0);
		g_assert_cmpint(dh_compute(b, pa, pub_lens[i], sb, &lb, why, sizeof(why)), ==, 0);
		g_assert_cmpuint(la, ==, want_shared);
		g_assert_cmpmem(sa, la, sb, lb);
		/* a wrong length is refused with a reason */
		why[0] = '\0';
		g_assert_cmpint(dh_compute(a, pb, pub_lens[i] - 1, sa, &la, why, sizeof(why)), <, 0);
		g_assert_nonnull(strstr(why, "bytes"));
		dh_secret_free(a);
		dh_secret_free(b);
		g_test_message("%s: agreement on %zu bytes", group_names[i], la);
	}
	dh_secret_free(NULL);
	struct dh_secret *s = NULL;
	uint8_t pub[CRYPTO_MAX_DH];
	g_assert_cmpint(dh_generate(alg(ALG_HASH, "sha1"), &s, pub), <, 0);
	g_assert_null(s);
}

/* Known answers: RFC 5903 section 8.1 (ECP256: the KE value is x | y,
 * the shared secret x of g^ir) and RFC 7748 section 6.1 (curve25519, as
 * RFC 8031 uses it). */
static void test_dh_known_answers(void)
{
	static const struct {
		const char *group, *i, *gi, *r, *gr, *shared;
	} kat[] = {
		{ "ecp256", "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
		  "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
		  "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
		  "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
		  "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
		  "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
		  "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE" },
		{ "curve25519", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		  "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
		  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
	};
	for (size_t k = 0; k < G_N_ELEMENTS(kat); k++) {
		const struct alg *g = alg(ALG_DH, kat[k].group);
		uint8_t i[32], r[32], pub[CRYPTO_MAX_DH], gr[CRYPTO_MAX_DH], shared[CRYPTO_MAX_DH];
		size_t il = unhex(kat[k].i, i, sizeof(i)), rl = unhex(kat[k].r, r, sizeof(r));
		size_t grl = unhex(kat[k].gr, gr, sizeof(gr)), sl = 0;
		char why[200];
		struct dh_secret *si, *sr;
		g_assert_cmpint(dh_import_private(g, i, il, &si, pub), ==, 0);
		assert_hex(pub, dh_public_len(g), kat[k].gi, "g^i");
		g_assert_cmpint(dh_import_private(g, r, rl, &sr, pub), ==, 0);
		assert_hex(pub, dh_public_len(g), kat[k].gr, "g^r");
		g_assert_cmpint(dh_compute(si, gr, grl, shared, &sl, why, sizeof(why)), ==, 0);
		assert_hex(shared, sl, kat[k].shared, "g^ir");
		dh_secret_free(si);
		dh_secret_free(sr);
	}
	struct dh_secret *s = NULL;
	uint8_t x[128] = { 1 }, pub[CRYPTO_MAX_DH];
	g_assert_cmpint(dh_import_private(alg(ALG_DH, "modp1024"), x, 128, &s, pub), <, 0);
	g_assert_null(s);
}

/* MODP private exponents are short: at most the documented lengths
 * (crypto_dh.c), and not absurdly short either. */
static void test_dh_short_exponents(void)
{
	static const int max_bits[] = { 160, 192, 256, 256, 304, 352, 400 };
	for (size_t i = 0; i < G_N_ELEMENTS(max_bits); i++) {
		struct dh_secret *s;
		uint8_t pub[CRYPTO_MAX_DH];
		g_assert_cmpint(dh_generate(alg(ALG_DH, group_names[i]), &s, pub), ==, 0);
		int bits = dh_private_bits(s);
		g_assert_cmpint(bits, <=, max_bits[i]);
		g_assert_cmpint(bits, >, max_bits[i] - 32);
		dh_secret_free(s);
	}
	struct dh_secret *e;
	uint8_t pub[CRYPTO_MAX_DH];
	g_assert_cmpint(dh_generate(alg(ALG_DH, "ecp256"), &e, pub), ==, 0);
	g_assert_cmpint(dh_private_bits(e), <, 0);
	dh_secret_free(e);
}

/* The MODP primes: RFC 2409 / 3526 primes are safe primes that begin and
 * end with 64 one bits; Oakley group 2 is typed in by hand, so check it
 * really is prime with (p-1)/2 prime. */
static void test_modp_primes(void)
{
	for (size_t i = 0; i < 7; i++) {
		const struct alg *g = alg(ALG_DH, group_names[i]);
		uint8_t p[CRYPTO_MAX_DH];
		size_t n = dh_modp_prime(g, p);
		g_assert_cmpuint(n, ==, dh_public_len(g));
		for (size_t k = 0; k < 8; k++)
			g_assert_true(p[k] == 0xff && p[n - 1 - k] == 0xff);
		if (i == 0) {
			BIGNUM *bp = BN_bin2bn(p, (int)n, NULL), *q = BN_dup(bp);
			g_assert_true(BN_rshift1(q, q));
			g_assert_cmpint(BN_check_prime(bp, NULL, NULL), ==, 1);
			g_assert_cmpint(BN_check_prime(q, NULL, NULL), ==, 1);
			BN_free(bp);
			BN_free(q);
		}
	}
	uint8_t p[CRYPTO_MAX_DH];
	g_assert_cmpuint(dh_modp_prime(alg(ALG_DH, "ecp256"), p), ==, 0);
}

static void test_dh_bad_values(void)
{
	char why[200];
	uint8_t shared[CRYPTO_MAX_DH], bad[CRYPTO_MAX_DH], pub[CRYPTO_MAX_DH];
	size_t sl;
	/* MODP: 0, 1, p-1 and p are refused, 2 and p-2 accepted */
	for (size_t i = 0; i < 7; i++) {
		const struct alg *g = alg(ALG_DH, group_names[i]);
		size_t n = dh_public_len(g);
		uint8_t p[CRYPTO_MAX_DH];
		g_assert_cmpuint(dh_modp_prime(g, p), ==, n);
		struct dh_secret *s;
		g_assert_cmpint(dh_generate(g, &s, pub), ==, 0);
		static const char *const what[] = { "zero", "one", "p-1", "p or larger" };
		for (int k = 0; k < 6; k++) {
			memset(bad, 0, n);
			switch (k) {
			case 0: break;
			case 1: bad[n - 1] = 1; break;
			case 2: memcpy(bad, p, n); bad[n - 1] -= 1; break;  /* p is odd */
			case 3: memcpy(bad, p, n); break;
			case 4: bad[n - 1] = 2; break;
			case 5: memcpy(bad, p, n); bad[n - 1] -= 2; break;
			}
			why[0] = '\0';
			int r = dh_compute(s, bad, n, shared, &sl, why, sizeof(why));
			if (k < 4) {
				g_assert_cmpint(r, <, 0);
				g_assert_nonnull(strstr(why, what[k]));
			} else {
				g_assert_cmpint(r, ==, 0);
				g_assert_cmpuint(sl, ==, n);
			}
		}
		dh_secret_free(s);
	}
	/* ECP: a point off the curve (one bit of y flipped) and the all-zero
	 * string are refused */
	for (size_t i = 7; i < 9; i++) {
		const struct alg *g = alg(ALG_DH, group_names[i]);
		size_t n = dh_public_len(g);
		struct dh_secret *a, *b;
		g_assert_cmpint(dh_generate(g, &a, pub), ==, 0);
		g_assert_cmpint(dh_generate(g, &b, bad), ==, 0);
		g_assert_cmpint(dh_compute(a, bad, n, shared, &sl, why, sizeof(why)), ==, 0);
		bad[n - 1] ^= 1;
		why[0] = '\0';
		g_assert_cmpint(dh_compute(a, bad, n, shared, &sl, why, sizeof(why)), <, 0);
		g_assert_nonnull(strstr(why, "not a point on the curve"));
		memset(bad, 0, n);
		g_assert_cmpint(dh_compute(a, bad, n, shared, &sl, why, sizeof(why)), <, 0);
		dh_secret_free(a);
		dh_secret_free(b);
	}
	/* curve25519: the all-zero point has small order; the shared secret
	 * would be zero, which must be refused (RFC 7748 section 6.1) */
	struct dh_secret *x;
	g_assert_cmpint(dh_generate(alg(ALG_DH, "curve25519"), &x, pub), ==, 0);
	memset(bad, 0, 32);
	why[0] = '\0';
	g_assert_cmpint(dh_compute(x, bad, 32, shared, &sl, why, sizeof(why)), <, 0);
	g_assert_cmpstr(why, !=, "");
	dh_secret_free(x);
}

/* --- RSA --- */

static void test_rsa(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	g_assert_nonnull(key);
	uint8_t hash[20], sig[512], raw[512];
	crypto_random(hash, sizeof(hash));
	size_t sig_len = sizeof(sig);
	g_assert_cmpint(rsa_sign_hash(key, hash, sizeof(hash), sig, &sig_len), ==, 0);
	g_assert_cmpuint(sig_len, ==, 256);
	g_assert_true(rsa_verify_hash(key, hash, sizeof(hash), sig, sig_len));

	/* the signature is 00 01 FF.. 00 | hash: type 1, no DigestInfo */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t raw_len = sizeof(raw);
	g_assert_cmpint(EVP_PKEY_verify_recover_init(ctx), ==, 1);
	g_assert_cmpint(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), ==, 1);
	g_assert_cmpint(EVP_PKEY_verify_recover(ctx, raw, &raw_len, sig, sig_len), ==, 1);
	EVP_PKEY_CTX_free(ctx);
	g_assert_cmpuint(raw_len, ==, 256);
	g_assert_cmpuint(raw[0], ==, 0x00);
	g_assert_cmpuint(raw[1], ==, 0x01);
	for (size_t i = 2; i < 256 - 21; i++)
		g_assert_cmpuint(raw[i], ==, 0xff);
	g_assert_cmpuint(raw[256 - 21], ==, 0x00);
	g_assert_cmpmem(raw + 256 - 20, 20, hash, 20);

	/* any flipped bit, in the signature or the hash, fails */
	sig[100] ^= 0x08;
	g_assert_false(rsa_verify_hash(key, hash, sizeof(hash), sig, sig_len));
	sig[100] ^= 0x08;
	hash[19] ^= 0x01;
	g_assert_false(rsa_verify_hash(key, hash, sizeof(hash), sig, sig_len));
	hash[19] ^= 0x01;
	g_assert_false(rsa_verify_hash(key, hash, sizeof(hash) - 1, sig, sig_len));
	g_assert_false(rsa_verify_hash(key, hash, sizeof(hash), sig, sig_len - 1));
	g_assert_true(rsa_verify_hash(key, hash, sizeof(hash), sig, sig_len));
	/* too small a buffer */
	sig_len = 100;
	g_assert_cmpint(rsa_sign_hash(key, hash, sizeof(hash), sig, &sig_len), <, 0);
	EVP_PKEY_free(key);

	/* not an RSA key */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	sig_len = sizeof(sig);
	g_assert_cmpint(rsa_sign_hash(ec, hash, sizeof(hash), sig, &sig_len), <, 0);
	EVP_PKEY_free(ec);
}

static void test_random(void)
{
	uint8_t a[32], b[32], zero[32] = { 0 };
	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	g_assert_true(memcmp(a, b, sizeof(a)) != 0);
	g_assert_true(memcmp(a, zero, sizeof(a)) != 0);
}

/* --- the descriptor rows' OpenSSL names --- */

/* Every hash and cipher row names something OpenSSL fetches, with the
 * row's sizes; the AES-GCM rows' name is GCM (test case 2 of the GCM
 * specification, McGrew/Viega: zero key, IV and block). */
static void test_rows_fetch(void)
{
	size_t n;
	const struct alg *t = alg_table_get(&n);
	for (size_t i = 0; i < n; i++) {
		const struct alg *a = &t[i];
		char name[64];
		if (a->kind == ALG_HASH) {
			EVP_MD *md = EVP_MD_fetch(NULL, a->ossl_name, NULL);
			g_assert_nonnull(md);
			g_assert_cmpint(EVP_MD_get_size(md), ==, (int)a->hash_bytes);
			EVP_MD_free(md);
			continue;
		}
		if (a->kind != ALG_CIPHER && a->kind != ALG_AEAD)
			continue;
		unsigned sizes[ALG_KEY_SIZES_MAX] = { a->key_bits };
		if (a->key_sizes[0])
			memcpy(sizes, a->key_sizes, sizeof(sizes));
		for (size_t k = 0; k < ALG_KEY_SIZES_MAX && sizes[k]; k++) {
			EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, alg_fill_key(a->ossl_name, sizes[k], name, sizeof(name)), NULL);
			g_test_message("%s at %u: %s", a->name, sizes[k], name);
			g_assert_nonnull(c);
			g_assert_cmpint(EVP_CIPHER_get_key_length(c), ==, (int)sizes[k] / 8);
			if (a->kind == ALG_CIPHER) {
				g_assert_cmpint(EVP_CIPHER_get_block_size(c), ==, (int)a->block_bytes);
				g_assert_cmpint(EVP_CIPHER_get_mode(c), ==, EVP_CIPH_CBC_MODE);
			} else {
				g_assert_cmpint(EVP_CIPHER_get_mode(c), ==, EVP_CIPH_GCM_MODE);
			}
			EVP_CIPHER_free(c);
		}
	}

	const struct alg *gcm = alg_by_name(ALG_CIPHER, "aes_gcm128");
	char name[64];
	uint8_t key[16] = { 0 }, iv[12] = { 0 }, buf[16] = { 0 }, tag[16];
	int len = 0;
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, alg_fill_key(gcm->ossl_name, 128, name, sizeof(name)), NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	g_assert_true(EVP_EncryptInit_ex2(ctx, c, key, iv, NULL) && EVP_EncryptUpdate(ctx, buf, &len, buf, 16) &&
		      EVP_EncryptFinal_ex(ctx, buf + len, &len) &&
		      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)gcm->icv_bytes, tag) > 0);
	assert_hex(buf, 16, "0388dace60b6a392f328c2b971b2fe78", "GCM ciphertext");
	assert_hex(tag, 16, "ab6e47d42cec13bdf53a67b21257bddf", "GCM tag");
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	/* and IKEv1's CBC functions refuse it */
	g_assert_cmpuint(crypto_cipher_block(gcm), ==, 0);
	g_assert_cmpuint(crypto_cipher_key_len(gcm, 128), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crypto/hash", test_hash);
	g_test_add_func("/crypto/rows-fetch", test_rows_fetch);
	g_test_add_func("/crypto/prf", test_prf);
	g_test_add_func("/crypto/kdf-vectors", test_kdf_vectors);
	g_test_add_func("/crypto/key-expansion", test_key_expansion);
	g_test_add_func("/crypto/keymat", test_keymat);
	g_test_add_func("/crypto/cbc-vectors", test_cbc_vectors);
	g_test_add_func("/crypto/cbc-roundtrip", test_cbc_roundtrip_and_errors);
	g_test_add_func("/crypto/dh-agreement", test_dh_agreement);
	g_test_add_func("/crypto/dh-known-answers", test_dh_known_answers);
	g_test_add_func("/crypto/dh-short-exponents", test_dh_short_exponents);
	g_test_add_func("/crypto/modp-primes", test_modp_primes);
	g_test_add_func("/crypto/dh-bad-values", test_dh_bad_values);
	g_test_add_func("/crypto/rsa", test_rsa);
	g_test_add_func("/crypto/random", test_random);
	return g_test_run();
}
