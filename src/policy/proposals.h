/* Proposal building and matching: the seed's spdb.c made a real policy
 * database. Our proposals come from a connection's ike=/esp=/ah= lists;
 * as responder we choose the first of the peer's proposals we accept; as
 * initiator we check that the peer's answer is one we proposed (unlike the
 * man page's pluto, which only checked it was acceptable).
 *
 * Decisions (each checked against strongSwan 5.9.8 / libreswan 4.10
 * captures, see tests/unit/test-proposals.c):
 * - Numbering: we number proposals and transforms from 1 (as strongSwan);
 *   libreswan numbers from 0. Numbers are never interpreted: the responder
 *   echoes the peer's numbers, and the initiator ignores the numbers of a
 *   reply, because strongSwan renumbers a libreswan proposal 0/transform 0
 *   into 1/1 in its answer.
 * - Attribute order is free on receipt (libreswan and strongSwan differ);
 *   a reply is compared attribute by attribute, not byte by byte.
 * - A responder's reply echoes the chosen transform as the peer sent it,
 *   INCLUDING the peer's lifetime (both peers do so); the capped lifetime
 *   is only in choice->lifetime (min of ours and the peer's; no lifetime
 *   attribute = RFC 2407/2409 default of 8 hours).
 * - An initiator accepts a reply lifetime equal to or shorter than ours,
 *   never longer; all other attributes must be exactly what we proposed.
 * - Unknown attribute types, repeated attributes, a LIFE_TYPE without its
 *   LIFE_DURATION (or the reverse) make that one transform unacceptable,
 *   not the whole SA.
 * - AES and AES-GCM without KEY_LENGTH are refused (RFC 3602 and RFC
 *   4106 say it MUST be sent); AES-GCM with an AUTH_ALGORITHM is refused
 *   (RFC 4106 section 7: the ICV is GCM's own);
 *   3DES with KEY_LENGTH is refused (RFC 2409: only for variable keys).
 * - ISAKMP SA: a kilobyte lifetime is accepted only together with a
 *   seconds lifetime, and then ignored: pluto does not count phase-1
 *   bytes, and a peer that sends only a volume limit would get an SA whose
 *   end it cannot predict. IPsec SA: a kilobyte lifetime is accepted and
 *   returned in choice->life_kilobytes for the kernel to enforce.
 * - IPsec SPIs 0-255 and IPComp CPIs 0-255 are IANA-reserved: refused.
 * - Encapsulation: tunnel/transport as the policy says; with udp_encap
 *   only the UDP modes: RFC 3947 values 3/4 and the draft values
 *   61443/61444 (choice->encap is normalized to ENCAP_UDP_*).
 * - PFS: when we want PFS the peer's transform must carry exactly our
 *   group (absent = refused). When we do not, a peer asking for PFS with
 *   a group we know gets it (more security, never less; the old pluto did
 *   the same); choice->pfs_group tells the engine to do the KE.
 * - IPComp: the ESP (or AH) and IPCOMP proposals with one number are one
 *   AND-ed bundle, chosen whole. With ipcomp we accept a bundle with or
 *   without IPCOMP (libreswan too accepts plain ESP); without ipcomp a
 *   bundle with IPCOMP is refused (we have no CPI). The IPCOMP transform
 *   may omit the encapsulation mode; if present it must equal the ESP's.
 * - ESP+AH bundles are not supported (refused). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "policy/algs.h"
#include "policy/sa.h"

/* A failed select() whose why[] starts with this prefix was malformed
 * (answer BAD_PROPOSAL_SYNTAX); any other failure is NO_PROPOSAL_CHOSEN. */
#define PROPOSAL_SYNTAX_PREFIX "bad proposal syntax: "
static inline bool proposal_syntax_error(const char *why)
{
	return strncmp(why, PROPOSAL_SYNTAX_PREFIX, sizeof(PROPOSAL_SYNTAX_PREFIX) - 1) == 0;
}

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
	const struct alg *cipher;        /* ESP only: CBC or AEAD */
	unsigned key_bits;
	const struct alg *integ;         /* NULL with an AEAD cipher */
	unsigned encap;                  /* ENCAP_* */
	uint32_t lifetime;               /* seconds, after capping */
	const struct alg *pfs_group;     /* NULL without PFS */
	bool ipcomp;
	uint32_t peer_spi;               /* the SPI the peer chose (it receives on it) */
	uint16_t peer_cpi;               /* IPComp CPI of the peer, when ipcomp */
	uint32_t life_kilobytes;         /* the peer's volume limit; 0 = none */
	bool lifetime_capped;            /* responder: the peer asked for longer than lifetime
					    (RFC 2407 4.6.3.1: say so with RESPONDER-LIFETIME) */
};

/* Our ISAKMP SA proposal: one proposal, one transform per (ike proposal
 * x auth method in auth_mask), numbered from 1, attributes in strongSwan's
 * order (ENC, KEY_LENGTH for AES, HASH, GROUP, AUTH, LIFE_TYPE seconds,
 * LIFE_DURATION). auth_mask must not be 0; lifetime 0 means 8 hours. */
/* XAUTH (draft-beaulieu-ike-xauth-02) travels in the authentication
 * method: a Main Mode between an XAUTH client and server names the base
 * method (PSK, RSA) as XAUTHInit* when the client initiates, XAUTHResp*
 * when the server does. ike_choice.auth stays the base method (keys and
 * proofs are those of the base method). */
enum ike_xauth_role { IKE_XAUTH_NONE = 0, IKE_XAUTH_CLIENT, IKE_XAUTH_SERVER };

struct ike_policy {
	const struct ike_proposals *proposals;
	unsigned auth_mask;              /* bit (1 << OAKLEY_PRESHARED_KEY) | (1 << OAKLEY_RSA_SIG) */
	uint32_t lifetime;               /* seconds */
	enum ike_xauth_role xauth;       /* we propose the XAUTH method of our role; as
					    responder we accept it and the plain one */
};
void ike_sa_build(const struct ike_policy *pol, struct sa_payload *out);

/* Responder: choose from the peer's SA. On success fills *choice and
 * *reply (the peer's proposal with exactly the chosen transform, numbers
 * and attributes as the peer sent them; choice->lifetime is capped to
 * ours). On failure returns false with one sentence in why[] naming what
 * the peer offered and what we accept (give it 512 bytes or more; it is
 * truncated, never overflowed). Exactly one ISAKMP proposal is expected:
 * anything else fails with why[] starting "bad proposal syntax: " (the
 * engine answers BAD_PROPOSAL_SYNTAX then, NO_PROPOSAL_CHOSEN otherwise). */
bool ike_sa_select(const struct sa_payload *peer, const struct ike_policy *pol,
		   struct ike_choice *choice, struct sa_payload *reply, char *why, size_t why_len);

/* Initiator: the responder's reply must be one proposal with one
 * transform equal to one we proposed (numbers and order aside; lifetime
 * may be shorter). choice->lifetime is the reply's. */
bool ike_sa_check_reply(const struct sa_payload *proposed, const struct sa_payload *reply,
			struct ike_choice *choice, char *why, size_t why_len);

/* The ENCAP_* of an Encapsulation Mode value from the wire: RFC 3947's
 * UDP modes also under their draft numbers (61443/61444); 0 when unknown. */
unsigned ipsec_encap_normalize(uint32_t mode);

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
/* The PFS group we ask for: pfs_group, else the first group written in
 * esp= (e.g. "aes128-sha1-modp2048"), else NULL. One Quick Mode has one KE
 * payload, so one group serves every transform. */
const struct alg *ipsec_policy_pfs_group(const struct ipsec_policy *pol);
/* Quick Mode SA: proposal 1 (ESP or AH, our 4-byte SPI), one transform per
 * esp=/ah= proposal (strongSwan's order: KEY_LENGTH, AUTH_ALGORITHM,
 * GROUP_DESCRIPTION, ENCAPSULATION_MODE, SA_LIFE_TYPE, SA_LIFE_DURATION);
 * with ipcomp also proposal 1 again, protocol IPCOMP, our 2-byte CPI, one
 * IPCOMP_DEFLATE transform with the same mode and lifetime. */
void ipsec_sa_build(const struct ipsec_policy *pol, struct sa_payload *out);
/* Responder / initiator for Quick Mode: as for the ISAKMP SA (see the
 * decisions above). The reply carries our SPI (and CPI) in place of the
 * peer's; choice->peer_spi / peer_cpi record the peer's. */
bool ipsec_sa_select(const struct sa_payload *peer, const struct ipsec_policy *pol,
		     struct ipsec_choice *choice, struct sa_payload *reply, char *why, size_t why_len);
bool ipsec_sa_check_reply(const struct sa_payload *proposed, const struct sa_payload *reply,
			  struct ipsec_choice *choice, char *why, size_t why_len);
