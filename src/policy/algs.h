/* The algorithm registry: every algorithm pluto knows, with its IKEv1
 * numbers, in one table per kind. Proposal strings ("aes128-sha1-modp2048")
 * are parsed against these tables; the engine builds and matches SA
 * payloads from the parsed lists. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum alg_kind { ALG_CIPHER, ALG_HASH, ALG_DH };

struct alg {
	const char *name;        /* as written in ike=/esp=/ah=/pfsgroup= */
	enum alg_kind kind;
	unsigned ike_id;         /* OAKLEY attribute value (0 = not for IKE) */
	unsigned esp_id;         /* cipher: ESP transform id; hash: IPsec AUTH_ALGORITHM
	                          * attribute value; group: GROUP_DESCRIPTION (0 = none) */
	unsigned ah_id;          /* hash: AH transform id (RFC 2407 4.4.3; 0 = none) */
	unsigned key_bits;       /* cipher key length; 0 when fixed or n/a */
	bool key_length_attr;    /* cipher with a variable key: KEY_LENGTH is sent and
	                          * required (RFC 3602); for the others it is refused */
	bool legacy;             /* one of the seed's old algorithms */
};

const struct alg *alg_by_name(enum alg_kind kind, const char *name);
/* Reverse lookups for what a peer sent. key_bits only matters for a cipher
 * with key_length_attr (AES: 128/192/256); the first (canonical) name of
 * the table is returned ("sha1", not "sha"). NULL when unknown. */
const struct alg *alg_by_ike_id(enum alg_kind kind, unsigned id, unsigned key_bits);
const struct alg *alg_by_esp_id(enum alg_kind kind, unsigned id, unsigned key_bits);
const struct alg *alg_by_ah_id(unsigned ah_id);

#define PROPOSALS_MAX 16

struct ike_proposal { const struct alg *cipher, *hash, *dh; };
struct esp_proposal { const struct alg *cipher, *integ, *dh; };  /* dh only with pfs */
struct ah_proposal  { const struct alg *integ; };

struct ike_proposals { size_t n; struct ike_proposal p[PROPOSALS_MAX]; };
struct esp_proposals { size_t n; struct esp_proposal p[PROPOSALS_MAX]; };
struct ah_proposals  { size_t n; struct ah_proposal p[PROPOSALS_MAX]; };

/* Parse "aes128-sha1-modp2048,3des-md5-modp1024". On error returns false
 * and writes a sentence naming the bad element to why[why_len]. */
bool ike_proposals_parse(const char *s, struct ike_proposals *out, char *why, size_t why_len);
bool esp_proposals_parse(const char *s, struct esp_proposals *out, char *why, size_t why_len);
bool ah_proposals_parse(const char *s, struct ah_proposals *out, char *why, size_t why_len);

/* Modern defaults (documented in pluto(8)). */
extern const char default_ike_proposals[];
extern const char default_esp_proposals[];
extern const char default_ah_proposals[];
