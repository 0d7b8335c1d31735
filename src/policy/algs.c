#include "policy/algs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* IKEv1 numbers, checked against the sources:
 *  ciphers: OAKLEY Encryption Algorithm (RFC 2409 appendix A: 3DES-CBC = 5;
 *    RFC 3602 / IANA: AES-CBC = 7) and ESP transform id (RFC 2407 4.4.4:
 *    ESP_3DES = 3; RFC 3602: ESP_AES = 12; RFC 4106: ESP_AES_GCM with an
 *    8, 12, 16 byte ICV = 18, 19, 20, each with KEY_LENGTH 128/192/256).
 *  hashes: OAKLEY Hash Algorithm (RFC 2409: MD5 = 1, SHA = 2; IANA / RFC
 *    4868: SHA2-256 = 4, -384 = 5, -512 = 6), IPsec AUTH_ALGORITHM
 *    attribute (RFC 2407 4.5: HMAC-MD5 = 1, HMAC-SHA = 2; RFC 4868:
 *    HMAC-SHA2-256 = 5, -384 = 6, -512 = 7) and AH transform id (RFC 2407
 *    4.4.3: AH_MD5 = 2, AH_SHA = 3; RFC 4868: AH_SHA2_256 = 5, -384 = 6,
 *    -512 = 7). Note the AH ids of MD5/SHA1 differ from their AUTH ids.
 *    ICVs: HMAC-MD5-96 / HMAC-SHA1-96 (RFC 2403/2404), SHA-2 truncated to
 *    half (RFC 4868); the HMAC key is as long as the hash output.
 *  groups: OAKLEY Group Description, also the IPsec GROUP_DESCRIPTION for
 *    PFS (RFC 2409: 2 = MODP1024, 5 = MODP1536 (RFC 3526 names it 5);
 *    RFC 3526: 14-18; RFC 5903: ECP 19/20). Curve25519 = 31 is the IKEv2
 *    number (RFC 8031) that strongSwan and libreswan also use in IKEv1.
 * Spellings: ours first, then libreswan's (aes_gcm_c-256, dh14, sha2) and
 * strongSwan's (aes128gcm16, with the ICV also in bits: aes128gcm128).
 * MODP private exponent lengths: see crypto_dh.c, which uses them. */
#define AES_KEYS { 128, 192, 256 }
static const struct alg alg_table[] = {
	{ .name = "3des", .spellings = { "3des", "3des_cbc" }, .kind = ALG_CIPHER,
	  .ike_id = 5, .esp_id = 3, .key_bits = 192, .block_bytes = 8,
	  .ossl_name = "DES-EDE3-CBC", .xfrm_name = "cbc(des3_ede)" },
	{ .name = "aes", .spellings = { "aes%", "aes_cbc%" }, .kind = ALG_CIPHER,
	  .ike_id = 7, .esp_id = 12, .key_bits = 128, .key_sizes = AES_KEYS, .key_length_attr = true,
	  .block_bytes = 16, .ossl_name = "AES-%-CBC", .xfrm_name = "cbc(aes)" },
	{ .name = "aes_gcm", .kind = ALG_AEAD,
	  .spellings = { "aes_gcm%", "aes_gcm_c%", "aes_gcm_16%", "aes_gcm16%", "aes%gcm16", "aes%gcm128" },
	  .esp_id = 20, .key_bits = 128, .key_sizes = AES_KEYS, .key_length_attr = true,
	  .icv_bytes = 16, .salt_bytes = 4, .ossl_name = "AES-%-GCM", .xfrm_name = "rfc4106(gcm(aes))" },
	{ .name = "aes_gcm12", .kind = ALG_AEAD,
	  .spellings = { "aes_gcm12%", "aes_gcm_b%", "aes_gcm_12%", "aes%gcm12", "aes%gcm96" },
	  .esp_id = 19, .key_bits = 128, .key_sizes = AES_KEYS, .key_length_attr = true,
	  .icv_bytes = 12, .salt_bytes = 4, .ossl_name = "AES-%-GCM", .xfrm_name = "rfc4106(gcm(aes))" },
	{ .name = "aes_gcm8", .kind = ALG_AEAD,
	  .spellings = { "aes_gcm8%", "aes_gcm_a%", "aes_gcm_8%", "aes%gcm8", "aes%gcm64" },
	  .esp_id = 18, .key_bits = 128, .key_sizes = AES_KEYS, .key_length_attr = true,
	  .icv_bytes = 8, .salt_bytes = 4, .ossl_name = "AES-%-GCM", .xfrm_name = "rfc4106(gcm(aes))" },

	{ .name = "md5", .spellings = { "md5" }, .kind = ALG_HASH, .ike_id = 1, .esp_id = 1, .ah_id = 2,
	  .hash_bytes = 16, .icv_bytes = 12, .ossl_name = "MD5", .xfrm_name = "hmac(md5)" },
	{ .name = "sha1", .spellings = { "sha1", "sha" }, .kind = ALG_HASH, .ike_id = 2, .esp_id = 2, .ah_id = 3,
	  .hash_bytes = 20, .icv_bytes = 12, .ossl_name = "SHA1", .xfrm_name = "hmac(sha1)" },
	{ .name = "sha2_256", .spellings = { "sha2_256", "sha256", "sha2" }, .kind = ALG_HASH,
	  .ike_id = 4, .esp_id = 5, .ah_id = 5,
	  .hash_bytes = 32, .icv_bytes = 16, .ossl_name = "SHA2-256", .xfrm_name = "hmac(sha256)" },
	{ .name = "sha2_384", .spellings = { "sha2_384", "sha384" }, .kind = ALG_HASH,
	  .ike_id = 5, .esp_id = 6, .ah_id = 6,
	  .hash_bytes = 48, .icv_bytes = 24, .ossl_name = "SHA2-384", .xfrm_name = "hmac(sha384)" },
	{ .name = "sha2_512", .spellings = { "sha2_512", "sha512" }, .kind = ALG_HASH,
	  .ike_id = 6, .esp_id = 7, .ah_id = 7,
	  .hash_bytes = 64, .icv_bytes = 32, .ossl_name = "SHA2-512", .xfrm_name = "hmac(sha512)" },

	/* OpenSSL 3 has no name for MODP1024: crypto_dh.c gives its prime */
	{ .name = "modp1024", .spellings = { "modp1024", "dh2" }, .kind = ALG_DH, .ike_id = 2, .esp_id = 2,
	  .dh_family = DH_MODP, .dh_bytes = 128, .dh_priv_bits = 160 },
	{ .name = "modp1536", .spellings = { "modp1536", "dh5" }, .kind = ALG_DH, .ike_id = 5, .esp_id = 5,
	  .dh_family = DH_MODP, .dh_bytes = 192, .dh_priv_bits = 192, .ossl_name = "modp_1536" },
	{ .name = "modp2048", .spellings = { "modp2048", "dh14" }, .kind = ALG_DH, .ike_id = 14, .esp_id = 14,
	  .dh_family = DH_MODP, .dh_bytes = 256, .dh_priv_bits = 256, .ossl_name = "modp_2048" },
	{ .name = "modp3072", .spellings = { "modp3072", "dh15" }, .kind = ALG_DH, .ike_id = 15, .esp_id = 15,
	  .dh_family = DH_MODP, .dh_bytes = 384, .dh_priv_bits = 256, .ossl_name = "modp_3072" },
	{ .name = "modp4096", .spellings = { "modp4096", "dh16" }, .kind = ALG_DH, .ike_id = 16, .esp_id = 16,
	  .dh_family = DH_MODP, .dh_bytes = 512, .dh_priv_bits = 304, .ossl_name = "modp_4096" },
	{ .name = "modp6144", .spellings = { "modp6144", "dh17" }, .kind = ALG_DH, .ike_id = 17, .esp_id = 17,
	  .dh_family = DH_MODP, .dh_bytes = 768, .dh_priv_bits = 352, .ossl_name = "modp_6144" },
	{ .name = "modp8192", .spellings = { "modp8192", "dh18" }, .kind = ALG_DH, .ike_id = 18, .esp_id = 18,
	  .dh_family = DH_MODP, .dh_bytes = 1024, .dh_priv_bits = 400, .ossl_name = "modp_8192" },
	{ .name = "ecp256", .spellings = { "ecp256", "dh19" }, .kind = ALG_DH, .ike_id = 19, .esp_id = 19,
	  .dh_family = DH_ECP, .dh_bytes = 32, .ossl_name = "P-256" },
	{ .name = "ecp384", .spellings = { "ecp384", "dh20" }, .kind = ALG_DH, .ike_id = 20, .esp_id = 20,
	  .dh_family = DH_ECP, .dh_bytes = 48, .ossl_name = "P-384" },
	{ .name = "curve25519", .spellings = { "curve25519", "x25519", "dh31" }, .kind = ALG_DH,
	  .ike_id = 31, .esp_id = 31, .dh_family = DH_X25519, .dh_bytes = 32, .ossl_name = "X25519" },
};
#define ALG_TABLE_LEN (sizeof(alg_table) / sizeof(alg_table[0]))

const char default_ike_proposals[] = "aes256-sha2_256-modp2048,aes128-sha2_256-modp2048,aes128-sha1-modp2048";
const char default_esp_proposals[] = "aes256-sha2_256,aes128-sha2_256,aes128-sha1";
const char default_ah_proposals[] = "sha2_256,sha1";

const struct alg *alg_table_get(size_t *n)
{
	*n = ALG_TABLE_LEN;
	return alg_table;
}

static const char *kind_word(unsigned kinds)
{
	if (kinds & (1u << ALG_CIPHER))
		return "cipher";
	if (kinds & (1u << ALG_AEAD))
		return "AEAD cipher";
	return kinds & (1u << ALG_HASH) ? "integrity algorithm" : "DH group";
}

bool alg_key_ok(const struct alg *a, unsigned key_bits)
{
	if (key_bits == 0 || key_bits == a->key_bits)
		return true;
	for (size_t i = 0; i < ALG_KEY_SIZES_MAX; i++)
		if (a->key_sizes[i] && a->key_sizes[i] == key_bits)
			return true;
	return false;
}

/* Does word spell pattern? '%' in pattern takes nothing, digits or
 * "_digits" (the key length, into *bits; 0 = none written). */
static bool spelling_match(const char *pattern, const char *word, unsigned *bits)
{
	const char *pct = strchr(pattern, '%');
	*bits = 0;
	if (!pct)
		return strcasecmp(pattern, word) == 0;
	size_t pre = (size_t)(pct - pattern), post = strlen(pct + 1), len = strlen(word);
	if (len < pre + post || strncasecmp(pattern, word, pre) != 0 ||
	    strcasecmp(pct + 1, word + len - post) != 0)
		return false;
	const char *mid = word + pre, *end = word + len - post;
	if (mid == end)
		return true;
	if (*mid == '_')
		mid++;
	if (mid == end || end - mid > 4)
		return false;
	unsigned v = 0;
	for (const char *c = mid; c < end; c++) {
		if (!isdigit((unsigned char)*c))
			return false;
		v = v * 10 + (unsigned)(*c - '0');
	}
	*bits = v;
	return v != 0;
}

static void key_sizes_text(const struct alg *a, char *buf, size_t size)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ALG_KEY_SIZES_MAX && a->key_sizes[i]; i++)
		k += (size_t)snprintf(buf + k, k < size ? size - k : 0, "%s%u", i ? ", " : "", a->key_sizes[i]);
}

const struct alg *alg_parse(unsigned kinds, const char *word, unsigned *key_bits, char *why, size_t why_len)
{
	const struct alg *bad_key = NULL;
	unsigned bad_bits = 0;
	for (size_t i = 0; i < ALG_TABLE_LEN; i++) {
		const struct alg *a = &alg_table[i];
		if (!(kinds & (1u << a->kind)))
			continue;
		for (size_t k = 0; k < ALG_SPELLINGS_MAX && a->spellings[k]; k++) {
			unsigned bits;
			if (!spelling_match(a->spellings[k], word, &bits))
				continue;
			if (!alg_key_ok(a, bits) || (bits && !a->key_sizes[0])) {
				bad_key = a;
				bad_bits = bits;
				continue;
			}
			*key_bits = bits ? bits : a->key_bits;
			return a;
		}
	}
	if (bad_key) {
		char sizes[32];
		key_sizes_text(bad_key, sizes, sizeof(sizes));
		snprintf(why, why_len, "%s '%s': key length %u is not one of %s's (%s)", kind_word(kinds), word,
			 bad_bits, bad_key->name, sizes);
	} else {
		snprintf(why, why_len, "unknown %s '%s'", kind_word(kinds), word);
	}
	return NULL;
}

const struct alg *alg_by_name(enum alg_kind kind, const char *name)
{
	unsigned kinds = 1u << kind, bits;
	char why[8];
	if (kind == ALG_CIPHER)
		kinds |= 1u << ALG_AEAD;
	return alg_parse(kinds, name, &bits, why, sizeof(why));
}

const char *alg_name_at(const struct alg *a, unsigned key_bits, char *buf)
{
	size_t n = strlen(a->name);
	if (!a->key_sizes[0])
		snprintf(buf, ALG_NAME_MAX, "%s", a->name);
	else if (n && isdigit((unsigned char)a->name[n - 1]))
		/* "aes_gcm12_256": the key length apart from the ICV length */
		snprintf(buf, ALG_NAME_MAX, "%s_%u", a->name, key_bits ? key_bits : a->key_bits);
	else
		snprintf(buf, ALG_NAME_MAX, "%s%u", a->name, key_bits ? key_bits : a->key_bits);
	return buf;
}

const char *alg_fill_key(const char *pattern, unsigned key_bits, char *buf, size_t size)
{
	if (!pattern)
		return NULL;
	const char *pct = strchr(pattern, '%');
	if (!pct)
		snprintf(buf, size, "%s", pattern);
	else
		snprintf(buf, size, "%.*s%u%s", (int)(pct - pattern), pattern, key_bits, pct + 1);
	return buf;
}

size_t alg_keymat_len(const struct alg *cipher, unsigned key_bits, const struct alg *integ)
{
	size_t n = 0;
	if (cipher)
		n += (key_bits ? key_bits : cipher->key_bits) / 8 + cipher->salt_bytes;
	if (integ)
		n += integ->hash_bytes;
	return n;
}

/* Which number of an entry a reverse lookup compares. */
enum alg_number { NUM_IKE, NUM_ESP, NUM_AH };

static const struct alg *alg_by_number(unsigned kinds, enum alg_number which, unsigned id, unsigned key_bits)
{
	if (id == 0)
		return NULL;
	for (size_t i = 0; i < ALG_TABLE_LEN; i++) {
		const struct alg *a = &alg_table[i];
		unsigned num = which == NUM_IKE ? a->ike_id : which == NUM_ESP ? a->esp_id : a->ah_id;
		if (!(kinds & (1u << a->kind)) || num != id)
			continue;
		if (key_bits != ALG_ANY_KEY && a->key_length_attr && (key_bits == 0 || !alg_key_ok(a, key_bits)))
			return NULL;
		return a;
	}
	return NULL;
}

const struct alg *alg_by_ike_id(enum alg_kind kind, unsigned id, unsigned key_bits)
{
	return alg_by_number(1u << kind, NUM_IKE, id, key_bits);
}

const struct alg *alg_by_esp_id(enum alg_kind kind, unsigned id, unsigned key_bits)
{
	unsigned kinds = 1u << kind;
	if (kind == ALG_CIPHER)
		kinds |= 1u << ALG_AEAD;
	return alg_by_number(kinds, NUM_ESP, id, key_bits);
}

const struct alg *alg_by_ah_id(unsigned ah_id)
{
	return alg_by_number(1u << ALG_HASH, NUM_AH, ah_id, 0);
}

/* Split "a-b-c,d-e-f" and hand each proposal's dash-separated words to
 * fill(). One walker for ike=, esp= and ah=, so their errors read alike. */
typedef bool (*fill_fn)(void *out, size_t index, char *words[], size_t n_words,
			char *why, size_t why_len);

static bool walk_proposals(const char *s, const char *what, void *out, size_t *count,
			   fill_fn fill, char *why, size_t why_len)
{
	char buf[512];
	if (!s || !*s) {
		snprintf(why, why_len, "%s: empty proposal list", what);
		return false;
	}
	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, why_len, "%s: proposal list longer than %zu characters", what, sizeof(buf) - 1);
		return false;
	}
	strcpy(buf, s);
	size_t n = 0;
	char *save = NULL;
	for (char *prop = strtok_r(buf, ",", &save); prop; prop = strtok_r(NULL, ",", &save)) {
		if (n == PROPOSALS_MAX) {
			snprintf(why, why_len, "%s: more than %d proposals", what, PROPOSALS_MAX);
			return false;
		}
		char *words[4];
		size_t nw = 0;
		char *save2 = NULL;
		for (char *w = strtok_r(prop, "-", &save2); w; w = strtok_r(NULL, "-", &save2)) {
			/* libreswan's "aes_gcm_c-256": a key length after a single
			 * dash belongs to the word before it (strtok_r wrote the NUL
			 * over that dash) */
			if (nw > 0 && w[strspn(w, "0123456789")] == '\0' && words[nw - 1] + strlen(words[nw - 1]) + 1 == w) {
				w[-1] = '_';
				continue;
			}
			if (nw == 4) {
				snprintf(why, why_len, "%s: too many parts in proposal %zu", what, n + 1);
				return false;
			}
			words[nw++] = w;
		}
		if (!fill(out, n, words, nw, why, why_len))
			return false;
		n++;
	}
	if (n == 0) {
		snprintf(why, why_len, "%s: empty proposal list", what);
		return false;
	}
	*count = n;
	return true;
}

static const struct alg *want(unsigned kinds, const char *word, unsigned *key_bits, char *why, size_t why_len)
{
	unsigned ignore;
	return alg_parse(kinds, word, key_bits ? key_bits : &ignore, why, why_len);
}

#define KINDS(k) (1u << (k))

static bool fill_ike(void *out, size_t i, char *w[], size_t n, char *why, size_t why_len)
{
	struct ike_proposal *p = &((struct ike_proposals *)out)->p[i];
	if (n != 3) {
		snprintf(why, why_len, "ike proposal %zu must be cipher-hash-group", i + 1);
		return false;
	}
	unsigned bits;
	if (alg_parse(KINDS(ALG_AEAD), w[0], &bits, why, why_len)) {
		snprintf(why, why_len, "ike proposal %zu: %s is an AEAD cipher, for ESP only (IKEv1 encrypts with CBC)",
			 i + 1, w[0]);
		return false;
	}
	return (p->cipher = want(KINDS(ALG_CIPHER), w[0], &p->key_bits, why, why_len)) &&
	       (p->hash = want(KINDS(ALG_HASH), w[1], NULL, why, why_len)) &&
	       (p->dh = want(KINDS(ALG_DH), w[2], NULL, why, why_len));
}

static bool is_null_integ(const char *w)
{
	return strcasecmp(w, "null") == 0 || strcasecmp(w, "none") == 0;
}

/* cipher-integ[-group]; an AEAD cipher alone, with "null", or with a group */
static bool fill_esp(void *out, size_t i, char *w[], size_t n, char *why, size_t why_len)
{
	struct esp_proposal *p = &((struct esp_proposals *)out)->p[i];
	p->integ = p->dh = NULL;
	if (n < 1 || n > 3) {
		snprintf(why, why_len, "esp proposal %zu must be cipher-integrity[-group]", i + 1);
		return false;
	}
	p->cipher = want(KINDS(ALG_CIPHER) | KINDS(ALG_AEAD), w[0], &p->key_bits, why, why_len);
	if (!p->cipher)
		return false;
	size_t next = 1;
	if (p->cipher->kind == ALG_AEAD) {
		char name[ALG_NAME_MAX];
		alg_name_at(p->cipher, p->key_bits, name);
		if (n > 1 && is_null_integ(w[1])) {
			next = 2;
		} else if (n > 1 && alg_parse(KINDS(ALG_HASH), w[1], &(unsigned){ 0 }, why, why_len)) {
			snprintf(why, why_len,
				 "esp proposal %zu: %s is an AEAD cipher and takes no integrity algorithm ('%s'); write %s or %s-null",
				 i + 1, name, w[1], name, name);
			return false;
		}
	} else {
		if (n < 2 || is_null_integ(w[1])) {
			snprintf(why, why_len, "esp proposal %zu: cipher %s needs an integrity algorithm (cipher-integrity)",
				 i + 1, w[0]);
			return false;
		}
		if (!(p->integ = want(KINDS(ALG_HASH), w[1], NULL, why, why_len)))
			return false;
		next = 2;
	}
	if (next < n && !(p->dh = want(KINDS(ALG_DH), w[next++], NULL, why, why_len)))
		return false;
	if (next < n) {
		snprintf(why, why_len, "esp proposal %zu: '%s' after the DH group", i + 1, w[next]);
		return false;
	}
	return true;
}

static bool fill_ah(void *out, size_t i, char *w[], size_t n, char *why, size_t why_len)
{
	struct ah_proposal *p = &((struct ah_proposals *)out)->p[i];
	if (n != 1) {
		snprintf(why, why_len, "ah proposal %zu must be one integrity algorithm", i + 1);
		return false;
	}
	return (p->integ = want(KINDS(ALG_HASH), w[0], NULL, why, why_len)) != NULL;
}

bool ike_proposals_parse(const char *s, struct ike_proposals *out, char *why, size_t why_len)
{
	return walk_proposals(s, "ike", out, &out->n, fill_ike, why, why_len);
}

bool esp_proposals_parse(const char *s, struct esp_proposals *out, char *why, size_t why_len)
{
	return walk_proposals(s, "esp", out, &out->n, fill_esp, why, why_len);
}

bool ah_proposals_parse(const char *s, struct ah_proposals *out, char *why, size_t why_len)
{
	return walk_proposals(s, "ah", out, &out->n, fill_ah, why, why_len);
}
