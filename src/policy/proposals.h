/* Proposal building and matching: the seed's spdb.c made a real policy
 * database. Our proposals come from a connection's ike=/esp=/ah= lists;
 * as responder we choose the first of the peer's proposals we accept; as
 * initiator we check that the peer's answer is one we proposed (unlike the
 * man page's pluto, which only checked it was acceptable). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/algs.h"
#include "policy/sa.h"

/* What an ISAKMP SA negotiation settled on. */
struct ike_choice {
	const struct alg *cipher;
	unsigned key_bits;               /* for AES: 128/192/256; 3DES: 192 */
	const struct alg *hash;          /* also the PRF (HMAC) */
	const struct alg *group;
	unsigned auth;                   /* OAKLEY_PRESHARED_KEY or OAKLEY_RSA_SIG */
	uint32_t lifetime;               /* seconds, after capping */
};

/* What an IPsec SA negotiation settled on (one Quick Mode). */
struct ipsec_choice {
	uint8_t protocol;                /* PROTO_IPSEC_ESP or PROTO_IPSEC_AH */
	const struct alg *cipher;        /* ESP only */
	unsigned key_bits;
	const struct alg *integ;
	unsigned encap;                  /* ENCAP_* */
	uint32_t lifetime;               /* seconds, after capping */
	const struct alg *pfs_group;     /* NULL without PFS */
	bool ipcomp;
	uint32_t peer_spi;               /* the SPI the peer chose (it receives on it) */
	uint16_t peer_cpi;               /* IPComp CPI of the peer, when ipcomp */
};

/* Our ISAKMP SA proposal: one proposal, one transform per (ike proposal
 * x auth method in auth_mask), numbered from 1. */
struct ike_policy {
	const struct ike_proposals *proposals;
	unsigned auth_mask;              /* bit (1 << OAKLEY_PRESHARED_KEY) | (1 << OAKLEY_RSA_SIG) */
	uint32_t lifetime;               /* seconds */
};
void ike_sa_build(const struct ike_policy *pol, struct sa_payload *out);

/* Responder: choose from the peer's SA. On success fills *choice and
 * *reply (the peer's chosen proposal with exactly the chosen transform,
 * lifetime capped to ours). On failure returns false with why[]. */
bool ike_sa_select(const struct sa_payload *peer, const struct ike_policy *pol,
		   struct ike_choice *choice, struct sa_payload *reply, char *why, size_t why_len);

/* Initiator: the responder's reply must be one transform we proposed. */
bool ike_sa_check_reply(const struct sa_payload *proposed, const struct sa_payload *reply,
			struct ike_choice *choice, char *why, size_t why_len);

struct ipsec_policy {
	uint8_t protocol;                /* PROTO_IPSEC_ESP or PROTO_IPSEC_AH */
	const struct esp_proposals *esp;
	const struct ah_proposals *ah;
	bool tunnel;                     /* else transport */
	bool udp_encap;                  /* NAT-T: RFC 3947 modes 3/4 */
	bool ipcomp;
	const struct alg *pfs_group;     /* NULL: no PFS */
	uint32_t lifetime;
	uint32_t our_spi;                /* the SPI we receive on */
	uint16_t our_cpi;
};
void ipsec_sa_build(const struct ipsec_policy *pol, struct sa_payload *out);
bool ipsec_sa_select(const struct sa_payload *peer, const struct ipsec_policy *pol,
		     struct ipsec_choice *choice, struct sa_payload *reply, char *why, size_t why_len);
bool ipsec_sa_check_reply(const struct sa_payload *proposed, const struct sa_payload *reply,
			  struct ipsec_choice *choice, char *why, size_t why_len);
