/* Helpers shared by proposals-ike.c and proposals-ipsec.c (private to
 * src/policy): a bounded sentence builder for why[], the decoding of
 * life type/duration pairs (one grammar for OAKLEY and IPsec DOI
 * attributes), and algorithm labels for those sentences. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/algs.h"

/* why[] builder: appends, truncates, never overflows. */
struct text {
	char *buf;
	size_t size;
	size_t len;
};
void text_init(struct text *t, char *buf, size_t size);
void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ", " before every item but the first of a list */
void text_sep(struct text *t, bool *first, const char *sep);

/* Life type values are the same in both DOIs (RFC 2409 A, RFC 2407 4.5). */
enum { LIFE_SECONDS = 1, LIFE_KILOBYTES = 2 };

struct life {
	bool seconds_given, kilobytes_given;
	uint32_t seconds, kilobytes;
};

/* RFC 2407 4.5 / RFC 2409 A: a duration belongs to the type before it. */
struct life_decoder {
	struct life life;
	uint32_t pending_type;     /* 0 = no type waiting for its duration */
};
/* Each returns NULL, or a short reason the transform is unusable. */
const char *life_type(struct life_decoder *d, uint32_t type);
const char *life_duration(struct life_decoder *d, uint32_t value);
const char *life_end(struct life_decoder *d);

/* The lifetime we run with: the peer's seconds (or the 8 h default)
 * capped to ours (0 = 8 h). */
uint32_t life_capped(const struct life *peer, uint32_t ours);
/* Compare a reply's lifetime with what we proposed: NULL when equal or
 * shorter, else a reason. */
const char *life_reply_check(const struct life *proposed, const struct life *reply);

/* "AES128", "SHA2_256", "MODP2048": the name at that key length (0 =
 * the default) in capitals. */
void alg_label(const struct alg *a, unsigned key_bits, char *out, size_t size);
/* The same for a key length the row may not allow (what a peer sent):
 * "AES512"; with key_len 0 the name alone ("AES"). */
void alg_label_bare(const struct alg *a, unsigned key_len, char *out, size_t size);

struct sa_payload;
/* DOI and situation, the same for ISAKMP and IPsec SAs: NULL or why not. */
const char *sa_envelope_check(const struct sa_payload *sa);
