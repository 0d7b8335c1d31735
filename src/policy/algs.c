#include "policy/algs.h"

#include <stdio.h>
#include <string.h>

/* IKEv1 numbers: RFC 2409 appendix A (OAKLEY), RFC 2407 (IPsec DOI),
 * RFC 3526 / 5114 / 5903 (groups), RFC 3602 / 4868 (AES, SHA-2). */
static const struct alg alg_table[] = {
	/* ciphers: ike_id = OAKLEY_ENCRYPTION_ALGORITHM, esp_id = ESP transform */
	{ "3des",      ALG_CIPHER, 5, 3, 192, true },
	{ "aes128",    ALG_CIPHER, 7, 12, 128, false },
	{ "aes192",    ALG_CIPHER, 7, 12, 192, false },
	{ "aes256",    ALG_CIPHER, 7, 12, 256, false },
	{ "aes",       ALG_CIPHER, 7, 12, 128, false },
	/* hashes: ike_id = OAKLEY_HASH_ALGORITHM, esp_id = AUTH_ALGORITHM */
	{ "md5",       ALG_HASH, 1, 1, 0, true },
	{ "sha1",      ALG_HASH, 2, 2, 0, true },
	{ "sha",       ALG_HASH, 2, 2, 0, true },
	{ "sha2_256",  ALG_HASH, 4, 5, 0, false },
	{ "sha256",    ALG_HASH, 4, 5, 0, false },
	{ "sha2_384",  ALG_HASH, 5, 6, 0, false },
	{ "sha384",    ALG_HASH, 5, 6, 0, false },
	{ "sha2_512",  ALG_HASH, 6, 7, 0, false },
	{ "sha512",    ALG_HASH, 6, 7, 0, false },
	/* groups: ike_id = OAKLEY_GROUP_DESCRIPTION, esp_id = same for PFS */
	{ "modp1024",  ALG_DH, 2, 2, 0, true },
	{ "modp1536",  ALG_DH, 5, 5, 0, true },
	{ "modp2048",  ALG_DH, 14, 14, 0, false },
	{ "modp3072",  ALG_DH, 15, 15, 0, false },
	{ "modp4096",  ALG_DH, 16, 16, 0, false },
	{ "modp6144",  ALG_DH, 17, 17, 0, false },
	{ "modp8192",  ALG_DH, 18, 18, 0, false },
	{ "ecp256",    ALG_DH, 19, 19, 0, false },
	{ "ecp384",    ALG_DH, 20, 20, 0, false },
	{ "curve25519", ALG_DH, 31, 31, 0, false },
};

const char default_ike_proposals[] = "aes256-sha2_256-modp2048,aes128-sha2_256-modp2048,aes128-sha1-modp2048";
const char default_esp_proposals[] = "aes256-sha2_256,aes128-sha2_256,aes128-sha1";
const char default_ah_proposals[] = "sha2_256,sha1";

static const char *kind_word(enum alg_kind kind)
{
	return kind == ALG_CIPHER ? "cipher" : kind == ALG_HASH ? "integrity algorithm" : "DH group";
}

const struct alg *alg_by_name(enum alg_kind kind, const char *name)
{
	for (size_t i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++)
		if (alg_table[i].kind == kind && strcasecmp(alg_table[i].name, name) == 0)
			return &alg_table[i];
	return NULL;
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
