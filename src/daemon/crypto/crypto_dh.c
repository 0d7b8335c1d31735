/* Diffie-Hellman for IKEv1 through OpenSSL 3 EVP: the MODP groups of
 * RFC 2409 / RFC 3526, the NIST curves of RFC 5903 and curve25519
 * (RFC 8031 encoding). The KE payload carries a fixed-length value per
 * group, so everything here speaks fixed-length byte strings. */
#include "daemon/crypto/crypto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include "daemon/crypto/crypto_fetch.h"

/* The groups are descriptor rows (policy/algs.h): dh_family says how
 * OpenSSL builds the keys, ossl_name is the group or curve name,
 * dh_bytes the value length. dh_priv_bits, the MODP private exponent
 * length in bits: RFC 3526 section 8: an exponent of twice the group's
 * strength resists the square-root discrete-log attacks as well as the
 * number field sieve resists the group itself, and these safe-prime
 * groups (p = 2q+1) have no small subgroups beyond {1, p-1} for a short
 * exponent to leak into. The rows give 2 x the NIST SP 800-57 strength,
 * and 256 bits where that is below 128-bit strength for groups meant to
 * protect AES-128 keys (2048, 3072). OpenSSL refuses an exponent shorter
 * than 2 x its own strength estimate, which these lengths meet.
 * Full-length exponents would make MODP8192 keygen ~20x slower for no
 * gain. */
struct dh_group {
	const struct alg *row;
	enum alg_dh_family kind;
	char label[16];         /* "MODP2048", for error messages */
	const char *ossl_name;  /* OpenSSL group / curve name; NULL = explicit prime */
	size_t len;             /* MODP: prime bytes; ECP: one coordinate; X25519: 32 */
	int priv_bits;
};

/* Oakley group 2 (RFC 2409 section 6.2, generator 2). OpenSSL 3 has no
 * name for it, so the prime is given explicitly. */
static const uint8_t modp1024_p[128] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
	0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
	0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
	0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
	0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
	0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
	0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
	0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

struct dh_secret {
	const struct alg *alg;
	struct dh_group group_copy;
	const struct dh_group *group;   /* &group_copy */
	EVP_PKEY *pkey;     /* EVP_PKEY_free() clears the private value */
};

/* The row's facts as this file uses them; the row itself when it is a
 * group OpenSSL can build. A secret keeps a copy. */
static const struct dh_group *group_of(const struct alg *alg, struct dh_group *g)
{
	if (!alg || alg->kind != ALG_DH || !alg->dh_family || !alg->dh_bytes)
		return NULL;
	*g = (struct dh_group){ .row = alg, .kind = alg->dh_family, .ossl_name = alg->ossl_name,
				.len = alg->dh_bytes, .priv_bits = (int)alg->dh_priv_bits };
	size_t i = 0;
	for (; alg->name[i] && i + 1 < sizeof(g->label); i++)
		g->label[i] = (char)toupper((unsigned char)alg->name[i]);
	g->label[i] = '\0';
	return g;
}

size_t dh_public_len(const struct alg *alg)
{
	struct dh_group gb;
	const struct dh_group *g = group_of(alg, &gb);
	if (!g)
		return 0;
	return g->kind == DH_ECP ? 2 * g->len : g->len;
}

size_t dh_shared_len(const struct alg *alg)
{
	struct dh_group gb;
	const struct dh_group *g = group_of(alg, &gb);
	return g ? g->len : 0;
}

const struct alg *dh_secret_group(const struct dh_secret *secret)
{
	return secret ? secret->alg : NULL;
}

/* Domain parameters of a MODP group, for key generation and for
 * importing a peer's value. BNs pushed here are owned by the caller. */
static int push_modp_params(OSSL_PARAM_BLD *bld, const struct dh_group *g, BIGNUM **p,
			    BIGNUM **gen)
{
	if (g->ossl_name)
		return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						       g->ossl_name, 0) ? 0 : -EIO;
	*p = BN_bin2bn(modp1024_p, sizeof(modp1024_p), NULL);
	*gen = BN_new();
	if (!*p || !*gen || !BN_set_word(*gen, 2))
		return -ENOMEM;
	return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, *p) &&
	       OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, *gen) ? 0 : -EIO;
}

/* Build a key from parameters: the domain parameters alone (selection
 * EVP_PKEY_KEY_PARAMETERS) or a peer's public key. */
static EVP_PKEY *key_fromdata(const char *type, OSSL_PARAM_BLD *bld, int selection)
{
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* A MODP group's domain parameters as an OpenSSL key, built once per
 * group (crypto_fetch.c) rather than from the prime for every key pair
 * (a few percent of a key generation). */
static void *make_modp_domain(const struct alg *row, size_t unused)
{
	(void)unused;
	struct dh_group gb;
	const struct dh_group *g = group_of(row, &gb);
	BIGNUM *p = NULL, *gen = NULL;
	EVP_PKEY *domain = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	if (g && bld && push_modp_params(bld, g, &p, &gen) == 0)
		domain = key_fromdata("DH", bld, EVP_PKEY_KEY_PARAMETERS);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	return domain;
}

static EVP_PKEY *modp_domain(const struct dh_group *g)
{
	return fetched_once(make_modp_domain, g->row, 0);
}

/* A NIST curve as an OpenSSL key of parameters only, built once: making
 * the curve from its name (Montgomery set-up, inversions) cost more than
 * a key pair on it. Keys generated from it, and peers' keys made from a
 * copy of it, share its curve. */
static void *make_ecp_domain(const struct alg *row, size_t unused)
{
	(void)unused;
	EVP_PKEY *domain = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)row->ossl_name, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!ctx || EVP_PKEY_paramgen_init(ctx) <= 0 || !EVP_PKEY_CTX_set_params(ctx, params) ||
	    EVP_PKEY_generate(ctx, &domain) <= 0)
		domain = NULL;
	EVP_PKEY_CTX_free(ctx);
	return domain;
}

static EVP_PKEY *ecp_generate(const struct dh_group *g)
{
	EVP_PKEY *domain = fetched_once(make_ecp_domain, g->row, 0), *key = NULL;
	EVP_PKEY_CTX *ctx = domain ? EVP_PKEY_CTX_new_from_pkey(NULL, domain, NULL) : NULL;
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static EVP_PKEY *modp_generate(const struct dh_group *g)
{
	EVP_PKEY *domain = modp_domain(g), *key = NULL;
	EVP_PKEY_CTX *ctx = domain ? EVP_PKEY_CTX_new_from_pkey(NULL, domain, NULL) : NULL;
	int priv_bits = g->priv_bits;
	OSSL_PARAM gen_params[] = {
		OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &priv_bits),
		OSSL_PARAM_construct_end(),
	};
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || !EVP_PKEY_CTX_set_params(ctx, gen_params) ||
	    EVP_PKEY_generate(ctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static int modp_public(const struct dh_group *g, EVP_PKEY *key, uint8_t *pub)
{
	BIGNUM *y = NULL;
	int r = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &y) &&
		BN_bn2binpad(y, pub, (int)g->len) == (int)g->len ? 0 : -EIO;
	BN_free(y);
	return r;
}

/* ECP: RFC 5903 section 7 puts x | y on the wire, without the SEC1 0x04
 * prefix that OpenSSL's encoded form carries. */
static int ecp_public(const struct dh_group *g, EVP_PKEY *key, uint8_t *pub)
{
	uint8_t enc[1 + 2 * 48];
	size_t enc_len = 0;
	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
					     sizeof(enc), &enc_len) ||
	    enc_len != 1 + 2 * g->len || enc[0] != 0x04)
		return -EIO;
	memcpy(pub, enc + 1, 2 * g->len);
	return 0;
}

int dh_generate(const struct alg *alg, struct dh_secret **secret, uint8_t *pub)
{
	struct dh_group gb;
	const struct dh_group *g = group_of(alg, &gb);
	if (!g || !secret || !pub)
		return -EINVAL;
	*secret = NULL;
	EVP_PKEY *key;
	switch (g->kind) {
	case DH_MODP:
		key = modp_generate(g);
		break;
	case DH_ECP:
		key = ecp_generate(g);
		break;
	default:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		break;
	}
	if (!key)
		return -EIO;

	int r;
	size_t len = g->len;
	switch (g->kind) {
	case DH_MODP:
		r = modp_public(g, key, pub);
		break;
	case DH_ECP:
		r = ecp_public(g, key, pub);
		break;
	default:
		r = EVP_PKEY_get_raw_public_key(key, pub, &len) && len == g->len ? 0 : -EIO;
		break;
	}
	struct dh_secret *s = r == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		EVP_PKEY_free(key);
		return r < 0 ? r : -ENOMEM;
	}
	s->alg = alg;
	s->group_copy = *g;
	s->group = &s->group_copy;
	s->pkey = key;
	*secret = s;
	return 0;
}

/* The peer's MODP value must lie in 2 .. p-2: 0 and p (and above) are not
 * group elements, 1 and p-1 generate the subgroups of order 1 and 2 and
 * would force a guessable shared secret. For a safe prime every other
 * value has order q or 2q, so this range check is all the protection a
 * full subgroup test would add for our purposes, without the extra
 * exponentiation. */
static EVP_PKEY *modp_peer(const struct dh_secret *s, const uint8_t *val, char *why,
			   size_t why_len)
{
	const struct dh_group *g = s->group;
	BIGNUM *y = BN_bin2bn(val, (int)g->len, NULL);
	BIGNUM *p = NULL, *p_minus_1 = NULL, *gen = NULL, *p2 = NULL;
	EVP_PKEY *peer = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	if (!y || !EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_FFC_P, &p) ||
	    !(p_minus_1 = BN_dup(p)) || !BN_sub_word(p_minus_1, 1)) {
		snprintf(why, why_len, "%s: out of memory checking the peer's public value",
			 g->label);
		goto out;
	}
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, p_minus_1) >= 0) {
		snprintf(why, why_len,
			 "%s: peer's public value is outside 2 .. p-2 (%s)", g->label,
			 BN_is_zero(y) ? "zero" : BN_is_one(y) ? "one" :
			 BN_cmp(y, p_minus_1) == 0 ? "p-1" : "p or larger");
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (!bld || push_modp_params(bld, g, &p2, &gen) < 0 ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) ||
	    !(peer = key_fromdata("DH", bld, EVP_PKEY_PUBLIC_KEY)))
		snprintf(why, why_len, "%s: OpenSSL refused the peer's public value", g->label);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(y);
	BN_free(p);
	BN_free(p_minus_1);
	BN_free(p2);
	BN_free(gen);
	return peer;
}

/* OpenSSL's SEC1 decoder rejects a point that is not on the curve; the
 * quick public check also refuses the point at infinity. The full check
 * adds a multiplication by the group order, to find points outside the
 * prime-order subgroup: the NIST curves have cofactor 1, so every point
 * on the curve but infinity is in it (SP 800-56A 5.6.2.3.4, the partial
 * validation that suffices for them), and that multiplication cost as
 * much as the key agreement itself. */
static EVP_PKEY *ecp_peer(const struct dh_secret *s, const uint8_t *val, char *why,
			  size_t why_len)
{
	const struct dh_group *g = s->group;
	uint8_t enc[1 + 2 * 48];
	enc[0] = 0x04;
	memcpy(enc + 1, val, 2 * g->len);
	/* a copy of the curve's parameters with the peer's point set: the
	 * decoder checks that the point is on the curve */
	EVP_PKEY *domain = fetched_once(make_ecp_domain, g->row, 0);
	EVP_PKEY *peer = domain ? EVP_PKEY_dup(domain) : NULL;
	if (peer && EVP_PKEY_set1_encoded_public_key(peer, enc, 1 + 2 * g->len) != 1) {
		EVP_PKEY_free(peer);
		peer = NULL;
	}
	if (peer) {
		EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
		if (!check || EVP_PKEY_public_check_quick(check) != 1) {
			EVP_PKEY_free(peer);
			peer = NULL;
		}
		EVP_PKEY_CTX_free(check);
	}
	if (!peer)
		snprintf(why, why_len, "%s: peer's public value is not a point on the curve",
			 g->label);
	return peer;
}

int dh_compute(const struct dh_secret *s, const uint8_t *peer_pub, size_t peer_len,
	       uint8_t *shared, size_t *shared_len, char *why, size_t why_len)
{
	char scratch[1];
	if (!why || why_len == 0) {
		why = scratch;
		why_len = sizeof(scratch);
	}
	why[0] = '\0';
	if (!s || !peer_pub || !shared || !shared_len) {
		snprintf(why, why_len, "missing argument");
		return -EINVAL;
	}
	const struct dh_group *g = s->group;
	size_t want = dh_public_len(s->alg);
	if (peer_len != want) {
		snprintf(why, why_len, "%s: peer's public value has %zu bytes, %zu required",
			 g->label, peer_len, want);
		return -EINVAL;
	}

	EVP_PKEY *peer;
	switch (g->kind) {
	case DH_MODP:
		peer = modp_peer(s, peer_pub, why, why_len);
		break;
	case DH_ECP:
		peer = ecp_peer(s, peer_pub, why, why_len);
		break;
	default:
		peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, peer_len);
		if (!peer)
			snprintf(why, why_len, "%s: OpenSSL refused the peer's public value",
				 g->label);
		break;
	}
	if (!peer)
		return -EINVAL;

	/* The peer value was checked above; OpenSSL's own peer validation
	 * would add a full subgroup exponentiation for MODP. */
	int r = 0;
	size_t out_len = g->len;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, s->pkey, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
	    (g->kind == DH_MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0) {
		snprintf(why, why_len, "%s: cannot set up the key agreement", g->label);
		r = -EIO;
	} else if (EVP_PKEY_derive(ctx, shared, &out_len) <= 0 || out_len != g->len) {
		/* X25519: an all-zero result means a low-order peer point */
		snprintf(why, why_len, "%s: key agreement with the peer's public value failed",
			 g->label);
		OPENSSL_cleanse(shared, g->len);
		r = -EINVAL;
	} else {
		*shared_len = out_len;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return r;
}

void dh_secret_free(struct dh_secret *secret)
{
	if (!secret)
		return;
	EVP_PKEY_free(secret->pkey);
	free(secret);
}

/* ECP public point for a given private scalar: OpenSSL 3.0 does not
 * derive it when a private key is imported, so multiply the generator. */
static int ecp_public_of(const struct dh_group *g, const BIGNUM *d, uint8_t *enc, size_t enc_len)
{
	int nid = g->len == 32 ? NID_X9_62_prime256v1 : NID_secp384r1;
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(nid);
	EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL;
	int r = pt && EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) &&
		EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, enc, enc_len, NULL) ==
			enc_len ? 0 : -EIO;
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return r;
}

int dh_import_private(const struct alg *alg, const uint8_t *priv, size_t priv_len,
		      struct dh_secret **secret, uint8_t *pub)
{
	struct dh_group gb;
	const struct dh_group *g = group_of(alg, &gb);
	if (!g || !secret || !pub || !priv || priv_len != g->len)
		return -EINVAL;
	*secret = NULL;
	EVP_PKEY *key = NULL;
	if (g->kind == DH_X25519) {
		key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, priv_len);
	} else if (g->kind == DH_ECP) {
		uint8_t enc[1 + 2 * 48];
		BIGNUM *d = BN_bin2bn(priv, (int)priv_len, NULL);
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		if (d && bld && ecp_public_of(g, d, enc, 1 + 2 * g->len) == 0 &&
		    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->ossl_name, 0) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
		    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, enc, 1 + 2 * g->len))
			key = key_fromdata("EC", bld, EVP_PKEY_KEYPAIR);
		OSSL_PARAM_BLD_free(bld);
		BN_clear_free(d);
		OPENSSL_cleanse(enc, sizeof(enc));
	} else {
		return -EOPNOTSUPP;
	}
	if (!key)
		return -EIO;
	size_t len = g->len;
	int r = g->kind == DH_ECP ? ecp_public(g, key, pub) :
		EVP_PKEY_get_raw_public_key(key, pub, &len) && len == g->len ? 0 : -EIO;
	struct dh_secret *s = r == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		EVP_PKEY_free(key);
		return r < 0 ? r : -ENOMEM;
	}
	*s = (struct dh_secret){ .alg = alg, .group_copy = *g, .pkey = key };
	s->group = &s->group_copy;
	*secret = s;
	return 0;
}

int dh_private_bits(const struct dh_secret *secret)
{
	BIGNUM *x = NULL;
	if (!secret || secret->group->kind != DH_MODP ||
	    !EVP_PKEY_get_bn_param(secret->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &x))
		return -EINVAL;
	int bits = BN_num_bits(x);
	BN_clear_free(x);
	return bits;
}

size_t dh_modp_prime(const struct alg *alg, uint8_t *out)
{
	struct dh_group gb;
	const struct dh_group *g = group_of(alg, &gb);
	if (!g || g->kind != DH_MODP)
		return 0;
	if (!g->ossl_name) {
		memcpy(out, modp1024_p, sizeof(modp1024_p));
		return sizeof(modp1024_p);
	}
	size_t n = 0;
	BIGNUM *p = NULL, *gen = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *domain = NULL;
	if (bld && push_modp_params(bld, g, &p, &gen) == 0)
		domain = key_fromdata("DH", bld, EVP_PKEY_KEY_PARAMETERS);
	BIGNUM *prime = NULL;
	if (domain && EVP_PKEY_get_bn_param(domain, OSSL_PKEY_PARAM_FFC_P, &prime) &&
	    BN_bn2binpad(prime, out, (int)g->len) == (int)g->len)
		n = g->len;
	BN_free(prime);
	EVP_PKEY_free(domain);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	return n;
}
