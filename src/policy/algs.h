/* The algorithm descriptors: every algorithm pluto knows, ONE row each,
 * with everything every layer needs to know about it: the names a user
 * may write, the IKEv1 numbers, the key-length rules, the sizes, the
 * name OpenSSL fetches it by (src/daemon/crypto) and the name the Linux
 * crypto API knows it by (src/klips). Nothing else in the tree spells an
 * algorithm's name or number. Proposal strings ("aes128-sha1-modp2048",
 * "aes_gcm256", "aes128gcm16-modp2048") are parsed against this table.
 *
 * A cipher with a variable key is one row (AES-CBC with 128/192/256);
 * wherever it is chosen the key length travels next to the row pointer
 * (struct ike_proposal, ike_choice, ...). A hash row is both IKEv1's PRF
 * (HMAC with that hash, RFC 2409) and the HMAC integrity algorithm of
 * ESP/AH (truncated to icv_bytes). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum alg_kind {
	ALG_CIPHER,     /* CBC cipher: IKE encryption, ESP with an integrity algorithm */
	ALG_AEAD,       /* combined mode (ESP only): no separate integrity algorithm */
	ALG_HASH,       /* hash: IKE hash / PRF (HMAC), ESP/AH HMAC integrity */
	ALG_DH,         /* Diffie-Hellman group */
};

/* How OpenSSL builds a DH group's keys (crypto_dh.c). */
enum alg_dh_family { DH_MODP = 1, DH_ECP, DH_X25519 };

#define ALG_SPELLINGS_MAX 8
#define ALG_KEY_SIZES_MAX 3
#define ALG_NAME_MAX 32          /* a keyed name ("aes_gcm12_256") with its NUL */

struct alg {
	/* --- names --- */
	const char *name;        /* canonical, without a key length: "aes", "aes_gcm12" */
	/* What ike=/esp=/ah=/pfsgroup= accept (case-insensitive). '%' stands
	 * for the key length: nothing (the default), digits, or "_" and
	 * digits ("aes%" takes aes, aes128, aes_256); a key length written as
	 * the next dash-separated word ("aes_gcm_c-256") joins it. */
	const char *spellings[ALG_SPELLINGS_MAX];
	enum alg_kind kind;

	/* --- IKEv1 numbers (0 = not usable there) --- */
	unsigned ike_id;         /* OAKLEY ENCRYPTION / HASH / GROUP attribute value */
	unsigned esp_id;         /* cipher, AEAD: ESP transform id; hash: IPsec AUTH_ALGORITHM
	                          * attribute value; group: GROUP_DESCRIPTION */
	unsigned ah_id;          /* hash: AH transform id (RFC 2407 4.4.3) */

	/* --- key-length rules --- */
	unsigned key_bits;       /* the default; for a fixed key the only length */
	unsigned key_sizes[ALG_KEY_SIZES_MAX];  /* the lengths allowed; none = fixed */
	bool key_length_attr;    /* KEY_LENGTH is sent and required (RFC 3602, RFC 4106);
	                          * for the others it is refused */

	/* --- sizes in bytes --- */
	unsigned block_bytes;    /* cipher block (CBC padding and IV) */
	unsigned hash_bytes;     /* hash / PRF output; also the HMAC integrity key */
	unsigned icv_bytes;      /* ESP/AH ICV: the truncated HMAC, or the AEAD tag */
	unsigned salt_bytes;     /* AEAD: KEYMAT after the key (RFC 4106 8.1: 4) */
	unsigned dh_bytes;       /* group: MODP prime / ECP coordinate / X25519 length */
	unsigned dh_priv_bits;   /* MODP: private exponent length (see crypto_dh.c) */
	enum alg_dh_family dh_family;

	/* --- other APIs' names --- */
	const char *ossl_name;   /* OpenSSL fetch name ('%' = key length), or the
	                          * group / curve name; NULL: none (MODP1024, explicit prime) */
	const char *xfrm_name;   /* Linux crypto API (XFRM) name; NULL: not for the kernel */
};

/* The table, for tests and for code that lists what we support. */
const struct alg *alg_table_get(size_t *n);

/* The row a word names, whatever key length it carries; kind ALG_CIPHER
 * also finds AEAD rows. NULL when unknown or the key length is invalid. */
const struct alg *alg_by_name(enum alg_kind kind, const char *name);
/* The row and key length a word names; *key_bits gets the length written
 * or the row's default (0 for rows without a key). NULL with a sentence in
 * why[] naming what was wrong. kinds: a bit mask of (1 << ALG_*). */
const struct alg *alg_parse(unsigned kinds, const char *word, unsigned *key_bits,
			    char *why, size_t why_len);
/* true when key_bits is allowed for the row (0 = the default) */
bool alg_key_ok(const struct alg *a, unsigned key_bits);
/* The name with its key length: "aes128", "aes_gcm12_256", "sha1"; 0 =
 * the default. Returns buf (ALG_NAME_MAX bytes). */
const char *alg_name_at(const struct alg *a, unsigned key_bits, char *buf);
/* A name of another API with '%' replaced by the key length in bits
 * ("AES-%-CBC" -> "AES-256-CBC"); returns buf, or NULL if pattern is NULL. */
const char *alg_fill_key(const char *pattern, unsigned key_bits, char *buf, size_t size);
/* Bytes of KEYMAT one direction of an ESP/AH SA needs for this cipher
 * (or AEAD) at key_bits and this integrity algorithm (either may be
 * NULL): the cipher key (+ the AEAD salt), then the HMAC key. */
size_t alg_keymat_len(const struct alg *cipher, unsigned key_bits, const struct alg *integ);

/* Reverse lookups for what a peer sent. key_bits matters for a row with
 * KEY_LENGTH: it must be allowed (0 is never allowed there). The canonical
 * row is returned. NULL when unknown. For ESP, ALG_CIPHER finds AEAD
 * rows too (the ESP transform id says which). */
#define ALG_ANY_KEY (~0u)      /* as key_bits: the row whatever the length */
const struct alg *alg_by_ike_id(enum alg_kind kind, unsigned id, unsigned key_bits);
const struct alg *alg_by_esp_id(enum alg_kind kind, unsigned id, unsigned key_bits);
const struct alg *alg_by_ah_id(unsigned ah_id);

#define PROPOSALS_MAX 16

struct ike_proposal { const struct alg *cipher, *hash, *dh; unsigned key_bits; };
/* integ is NULL with an AEAD cipher; dh only with pfs */
struct esp_proposal { const struct alg *cipher, *integ, *dh; unsigned key_bits; };
struct ah_proposal  { const struct alg *integ; };

struct ike_proposals { size_t n; struct ike_proposal p[PROPOSALS_MAX]; };
struct esp_proposals { size_t n; struct esp_proposal p[PROPOSALS_MAX]; };
struct ah_proposals  { size_t n; struct ah_proposal p[PROPOSALS_MAX]; };

/* Parse "aes128-sha1-modp2048,3des-md5-modp1024". esp= takes
 * cipher-integrity[-group], or an AEAD cipher alone, with "null" as its
 * integrity, or with a group ("aes_gcm128-modp2048"). On error returns
 * false and writes a sentence naming the bad element to why[why_len]. */
bool ike_proposals_parse(const char *s, struct ike_proposals *out, char *why, size_t why_len);
bool esp_proposals_parse(const char *s, struct esp_proposals *out, char *why, size_t why_len);
bool ah_proposals_parse(const char *s, struct ah_proposals *out, char *why, size_t why_len);

/* Modern defaults (documented in pluto(8)). */
extern const char default_ike_proposals[];
extern const char default_esp_proposals[];
extern const char default_ah_proposals[];
