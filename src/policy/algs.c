#include "policy/algs.h"

#include <stdio.h>
#include <string.h>

/* IKEv1 numbers, checked against the sources:
 *  ciphers: OAKLEY Encryption Algorithm (RFC 2409 appendix A: 3DES-CBC = 5;
 *    RFC 3602 / IANA: AES-CBC = 7) and ESP transform id (RFC 2407 4.4.4:
 *    ESP_3DES = 3; RFC 3602: ESP_AES = 12).
 *  hashes: OAKLEY Hash Algorithm (RFC 2409: MD5 = 1, SHA = 2; IANA / RFC
 *    4868: SHA2-256 = 4, -384 = 5, -512 = 6), IPsec AUTH_ALGORITHM
 *    attribute (RFC 2407 4.5: HMAC-MD5 = 1, HMAC-SHA = 2; RFC 4868:
 *    HMAC-SHA2-256 = 5, -384 = 6, -512 = 7) and AH transform id (RFC 2407
 *    4.4.3: AH_MD5 = 2, AH_SHA = 3; RFC 4868: AH_SHA2_256 = 5, -384 = 6,
 *    -512 = 7). Note the AH ids of MD5/SHA1 differ from their AUTH ids.
 *  groups: OAKLEY Group Description, also the IPsec GROUP_DESCRIPTION for
 *    PFS (RFC 2409: 2 = MODP1024, 5 = MODP1536 (RFC 3526 names it 5);
 *    RFC 3526: 14-18; RFC 5903: ECP 19/20). Curve25519 = 31 is the IKEv2
 *    number (RFC 8031) that strongSwan and libreswan also use in IKEv1.
 * Aliases follow their canonical name so reverse lookups name the latter. */
static const struct alg alg_table[] = {
	{ .name = "3des", .kind = ALG_CIPHER, .ike_id = 5, .esp_id = 3, .key_bits = 192, .legacy = true },
	{ .name = "aes128", .kind = ALG_CIPHER, .ike_id = 7, .esp_id = 12, .key_bits = 128, .key_length_attr = true },
	{ .name = "aes192", .kind = ALG_CIPHER, .ike_id = 7, .esp_id = 12, .key_bits = 192, .key_length_attr = true },
	{ .name = "aes256", .kind = ALG_CIPHER, .ike_id = 7, .esp_id = 12, .key_bits = 256, .key_length_attr = true },
	{ .name = "aes", .kind = ALG_CIPHER, .ike_id = 7, .esp_id = 12, .key_bits = 128, .key_length_attr = true },

	{ .name = "md5", .kind = ALG_HASH, .ike_id = 1, .esp_id = 1, .ah_id = 2, .legacy = true },
	{ .name = "sha1", .kind = ALG_HASH, .ike_id = 2, .esp_id = 2, .ah_id = 3, .legacy = true },
	{ .name = "sha", .kind = ALG_HASH, .ike_id = 2, .esp_id = 2, .ah_id = 3, .legacy = true },
	{ .name = "sha2_256", .kind = ALG_HASH, .ike_id = 4, .esp_id = 5, .ah_id = 5 },
	{ .name = "sha256", .kind = ALG_HASH, .ike_id = 4, .esp_id = 5, .ah_id = 5 },
	{ .name = "sha2_384", .kind = ALG_HASH, .ike_id = 5, .esp_id = 6, .ah_id = 6 },
	{ .name = "sha384", .kind = ALG_HASH, .ike_id = 5, .esp_id = 6, .ah_id = 6 },
	{ .name = "sha2_512", .kind = ALG_HASH, .ike_id = 6, .esp_id = 7, .ah_id = 7 },
	{ .name = "sha512", .kind = ALG_HASH, .ike_id = 6, .esp_id = 7, .ah_id = 7 },

	{ .name = "modp1024", .kind = ALG_DH, .ike_id = 2, .esp_id = 2, .legacy = true },
	{ .name = "modp1536", .kind = ALG_DH, .ike_id = 5, .esp_id = 5, .legacy = true },
	{ .name = "modp2048", .kind = ALG_DH, .ike_id = 14, .esp_id = 14 },
	{ .name = "modp3072", .kind = ALG_DH, .ike_id = 15, .esp_id = 15 },
	{ .name = "modp4096", .kind = ALG_DH, .ike_id = 16, .esp_id = 16 },
	{ .name = "modp6144", .kind = ALG_DH, .ike_id = 17, .esp_id = 17 },
	{ .name = "modp8192", .kind = ALG_DH, .ike_id = 18, .esp_id = 18 },
	{ .name = "ecp256", .kind = ALG_DH, .ike_id = 19, .esp_id = 19 },
	{ .name = "ecp384", .kind = ALG_DH, .ike_id = 20, .esp_id = 20 },
	{ .name = "curve25519", .kind = ALG_DH, .ike_id = 31, .esp_id = 31 },
};
#define ALG_TABLE_LEN (sizeof(alg_table) / sizeof(alg_table[0]))

const char default_ike_proposals[] = "aes256-sha2_256-modp2048,aes128-sha2_256-modp2048,aes128-sha1-modp2048";
const char default_esp_proposals[] = "aes256-sha2_256,aes128-sha2_256,aes128-sha1";
const char default_ah_proposals[] = "sha2_256,sha1";

static const char *kind_word(enum alg_kind kind)
{
	return kind == ALG_CIPHER ? "cipher" : kind == ALG_HASH ? "integrity algorithm" : "DH group";
}

const struct alg *alg_by_name(enum alg_kind kind, const char *name)
{
	for (size_t i = 0; i < ALG_TABLE_LEN; i++)
		if (alg_table[i].kind == kind && strcasecmp(alg_table[i].name, name) == 0)
			return &alg_table[i];
	return NULL;
}

/* Which number of an entry a reverse lookup compares. */
enum alg_number { NUM_IKE, NUM_ESP, NUM_AH };

static const struct alg *alg_by_number(enum alg_kind kind, enum alg_number which,
				       unsigned id, unsigned key_bits)
{
	if (id == 0)
		return NULL;
	for (size_t i = 0; i < ALG_TABLE_LEN; i++) {
		const struct alg *a = &alg_table[i];
		unsigned num = which == NUM_IKE ? a->ike_id : which == NUM_ESP ? a->esp_id : a->ah_id;
		if (a->kind != kind || num != id)
			continue;
		if (a->key_length_attr && a->key_bits != key_bits)
			continue;
		return a;
	}
	return NULL;
}

const struct alg *alg_by_ike_id(enum alg_kind kind, unsigned id, unsigned key_bits)
{
	return alg_by_number(kind, NUM_IKE, id, key_bits);
}

const struct alg *alg_by_esp_id(enum alg_kind kind, unsigned id, unsigned key_bits)
{
	return alg_by_number(kind, NUM_ESP, id, key_bits);
}

const struct alg *alg_by_ah_id(unsigned ah_id)
{
	return alg_by_number(ALG_HASH, NUM_AH, ah_id, 0);
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

static const struct alg *want(enum alg_kind kind, const char *word, char *why, size_t why_len)
{
	const struct alg *a = alg_by_name(kind, word);
	if (!a)
		snprintf(why, why_len, "unknown %s '%s'", kind_word(kind), word);
	return a;
}

static bool fill_ike(void *out, size_t i, char *w[], size_t n, char *why, size_t why_len)
{
	struct ike_proposal *p = &((struct ike_proposals *)out)->p[i];
	if (n != 3) {
		snprintf(why, why_len, "ike proposal %zu must be cipher-hash-group", i + 1);
		return false;
	}
	return (p->cipher = want(ALG_CIPHER, w[0], why, why_len)) &&
	       (p->hash = want(ALG_HASH, w[1], why, why_len)) &&
	       (p->dh = want(ALG_DH, w[2], why, why_len));
}

static bool fill_esp(void *out, size_t i, char *w[], size_t n, char *why, size_t why_len)
{
	struct esp_proposal *p = &((struct esp_proposals *)out)->p[i];
	if (n != 2 && n != 3) {
		snprintf(why, why_len, "esp proposal %zu must be cipher-integrity[-group]", i + 1);
		return false;
	}
	p->dh = NULL;
	return (p->cipher = want(ALG_CIPHER, w[0], why, why_len)) &&
	       (p->integ = want(ALG_HASH, w[1], why, why_len)) &&
	       (n == 2 || (p->dh = want(ALG_DH, w[2], why, why_len)));
}

static bool fill_ah(void *out, size_t i, char *w[], size_t n, char *why, size_t why_len)
{
	struct ah_proposal *p = &((struct ah_proposals *)out)->p[i];
	if (n != 1) {
		snprintf(why, why_len, "ah proposal %zu must be one integrity algorithm", i + 1);
		return false;
	}
	return (p->integ = want(ALG_HASH, w[0], why, why_len)) != NULL;
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
