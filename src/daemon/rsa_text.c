#include "daemon/rsa_text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>

#include "common/util.h"

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool decode_hex(const char *s, size_t len, bool allow_space, unsigned char *out,
		       size_t *outlen, const char **why)
{
	size_t n = 0, digits = 0;
	int hi = -1;
	bool last_was_digit = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (allow_space && isspace(c))
			continue;
		if (c == '_') {
			/* a readability separator between digits only */
			if (!last_was_digit) {
				*why = "0x value has a misplaced '_'";
				return false;
			}
			last_was_digit = false;
			continue;
		}
		int v = hex_value(c);
		if (v < 0) {
			*why = "0x value has a character that is not a hex digit";
			return false;
		}
		last_was_digit = true;
		digits++;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (digits == 0) {
		*why = "0x value has no hex digits";
		return false;
	}
	if (hi >= 0) {
		*why = "0x value has an odd number of hex digits";
		return false;
	}
	if (!last_was_digit) {
		*why = "0x value ends with '_'";
		return false;
	}
	*outlen = n;
	return true;
}

static bool decode_base64(const char *s, size_t len, bool allow_space, unsigned char *out,
			  size_t *outlen, const char **why)
{
	size_t n = 0, chars = 0, pad = 0;
	unsigned acc = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (allow_space && isspace(c))
			continue;
		if (c == '=') {
			pad++;
			chars++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0) {
			*why = "0s value has a character that is not base64";
			return false;
		}
		if (pad) {
			*why = "0s value has base64 digits after '=' padding";
			return false;
		}
		acc = acc << 6 | (unsigned)v;
		chars++;
		if (chars % 4 == 0) {
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (chars == 0) {
		*why = "0s value has no base64 digits";
		return false;
	}
	if (chars % 4 != 0 || pad > 2) {
		*why = "0s value is not a whole number of base64 groups (length must be a multiple of 4, with '=' padding)";
		return false;
	}
	if (pad == 1) {
		/* 3 digits = 18 bits: two bytes, 2 low bits must be zero */
		out[n++] = (unsigned char)(acc >> 10);
		out[n++] = (unsigned char)(acc >> 2);
	} else if (pad == 2) {
		out[n++] = (unsigned char)(acc >> 4);
	}
	acc = 0;
	*outlen = n;
	return true;
}

bool text_decode_data(const char *s, size_t len, bool allow_space,
		      unsigned char **out, size_t *outlen, const char **why)
{
	if (len < 2 || s[0] != '0' || (tolower((unsigned char)s[1]) != 'x' && tolower((unsigned char)s[1]) != 's')) {
		*why = "value must start with 0x (hex) or 0s (base64)";
		return false;
	}
	bool hex = tolower((unsigned char)s[1]) == 'x';
	/* hex halves, base64 shrinks to 3/4: len bytes always suffice */
	unsigned char *buf = xmalloc(len);
	size_t n = 0;
	bool ok = hex ? decode_hex(s + 2, len - 2, allow_space, buf, &n, why)
		      : decode_base64(s + 2, len - 2, allow_space, buf, &n, why);
	if (!ok) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return false;
	}
	*out = buf;
	*outlen = n;
	return true;
}

char *base64_encode(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static const struct {
	const char *name;        /* as written in the file, with the colon */
	const char *ossl;        /* OSSL_PKEY_PARAM_RSA_* */
} rsa_field_table[RSA_F__MAX] = {
	[RSA_F_MODULUS] = { "Modulus:", OSSL_PKEY_PARAM_RSA_N },
	[RSA_F_PUBLIC_EXPONENT] = { "PublicExponent:", OSSL_PKEY_PARAM_RSA_E },
	[RSA_F_PRIVATE_EXPONENT] = { "PrivateExponent:", OSSL_PKEY_PARAM_RSA_D },
	[RSA_F_PRIME1] = { "Prime1:", OSSL_PKEY_PARAM_RSA_FACTOR1 },
	[RSA_F_PRIME2] = { "Prime2:", OSSL_PKEY_PARAM_RSA_FACTOR2 },
	[RSA_F_EXPONENT1] = { "Exponent1:", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
	[RSA_F_EXPONENT2] = { "Exponent2:", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
	[RSA_F_COEFFICIENT] = { "Coefficient:", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
};

int rsa_field_by_name(const char *name, size_t len)
{
	for (int i = 0; i < RSA_F__MAX; i++) {
		if (strlen(rsa_field_table[i].name) == len &&
		    strncasecmp(rsa_field_table[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

const char *rsa_field_name(enum rsa_field f)
{
	return f < RSA_F__MAX ? rsa_field_table[f].name : "?";
}

void rsa_fields_wipe(struct rsa_fields *f)
{
	for (int i = 0; i < RSA_F__MAX; i++) {
		if (f->v[i]) {
			OPENSSL_cleanse(f->v[i], f->len[i]);
			free(f->v[i]);
		}
		f->v[i] = NULL;
		f->len[i] = 0;
	}
}

/* the modulus must use all its bytes, so its size is what it claims */
static bool check_ne_sizes(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
			   const char **why)
{
	if (nlen == 0 || n[0] == 0) {
		*why = "RSA modulus is empty or has leading zero bytes";
		return false;
	}
	if (nlen * 8 < RSA_MIN_BITS) {
		*why = "RSA modulus is shorter than 1024 bits";
		return false;
	}
	if (nlen * 8 > RSA_MAX_BITS) {
		*why = "RSA modulus is longer than 8192 bits";
		return false;
	}
	if (elen == 0 || e[0] == 0) {
		*why = "RSA public exponent is empty or has leading zero bytes";
		return false;
	}
	if (elen > RSA_MAX_EXPONENT_BYTES) {
		*why = "RSA public exponent is longer than 64 bits";
		return false;
	}
	if (!(e[elen - 1] & 1) || (elen == 1 && e[0] < 3)) {
		*why = "RSA public exponent must be odd and at least 3";
		return false;
	}
	if (!(n[nlen - 1] & 1)) {
		*why = "RSA modulus is even";
		return false;
	}
	return true;
}

static EVP_PKEY *pkey_from_params(OSSL_PARAM_BLD *bld, int selection, const char **why)
{
	EVP_PKEY *key = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, selection, params) <= 0) {
		*why = "OpenSSL could not build an RSA key from these values";
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	/* the builder put secure BNs into secure (wiped-on-free) memory */
	OSSL_PARAM_free(params);
	return key;
}

EVP_PKEY *rsa_public_from_ne(const unsigned char *n, size_t nlen, const unsigned char *e,
			     size_t elen, const char **why)
{
	if (!check_ne_sizes(n, nlen, e, elen, why))
		return NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL);
	BIGNUM *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *key = NULL;
	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		*why = "out of memory building an RSA key";
	else
		key = pkey_from_params(bld, EVP_PKEY_PUBLIC_KEY, why);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return key;
}

EVP_PKEY *rsa_private_from_fields(const struct rsa_fields *f, const char **why)
{
	for (int i = 0; i < RSA_F__MAX; i++) {
		if (!f->v[i]) {
			*why = "RSA { } block is missing a field (all of Modulus, PublicExponent, "
			       "PrivateExponent, Prime1, Prime2, Exponent1, Exponent2, Coefficient are needed)";
			return NULL;
		}
	}
	if (!check_ne_sizes(f->v[RSA_F_MODULUS], f->len[RSA_F_MODULUS], f->v[RSA_F_PUBLIC_EXPONENT],
			    f->len[RSA_F_PUBLIC_EXPONENT], why))
		return NULL;
	for (int i = RSA_F_PRIVATE_EXPONENT; i < RSA_F__MAX; i++) {
		if (f->len[i] > f->len[RSA_F_MODULUS]) {
			*why = "RSA { } block has a private value longer than the modulus";
			return NULL;
		}
	}

	BIGNUM *bn[RSA_F__MAX] = { 0 };
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *key = NULL;
	bool ok = bld != NULL;
	for (int i = 0; ok && i < RSA_F__MAX; i++) {
		/* private values live in secure BNs: cleared when freed */
		bn[i] = i <= RSA_F_PUBLIC_EXPONENT ? BN_new() : BN_secure_new();
		ok = bn[i] && BN_bin2bn(f->v[i], (int)f->len[i], bn[i]) &&
		     OSSL_PARAM_BLD_push_BN(bld, rsa_field_table[i].ossl, bn[i]);
	}
	if (!ok)
		*why = "out of memory building an RSA key";
	else
		key = pkey_from_params(bld, EVP_PKEY_KEYPAIR, why);
	OSSL_PARAM_BLD_free(bld);
	for (int i = 0; i < RSA_F__MAX; i++)
		BN_clear_free(bn[i]);
	if (!key)
		return NULL;

	/* a typo in one field must not give a key that signs garbage */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!ctx || EVP_PKEY_check(ctx) != 1) {
		*why = "RSA { } values do not form a consistent RSA key";
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(key);
		return NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return key;
}

bool rsa_key_size_ok(EVP_PKEY *key, const char **why)
{
	if (!EVP_PKEY_is_a(key, "RSA")) {
		*why = "key is not an RSA key";
		return false;
	}
	int bits = EVP_PKEY_get_bits(key);
	if (bits < RSA_MIN_BITS) {
		*why = "RSA key is shorter than 1024 bits";
		return false;
	}
	if (bits > RSA_MAX_BITS) {
		*why = "RSA key is longer than 8192 bits";
		return false;
	}
	BIGNUM *e = NULL;
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    BN_num_bytes(e) > RSA_MAX_EXPONENT_BYTES) {
		BN_free(e);
		*why = "RSA public exponent is missing or longer than 64 bits";
		return false;
	}
	BN_free(e);
	return true;
}
