/* The SA payload as pluto reasons about it (RFC 2408 3.4-3.6, RFC 2409
 * appendix A, RFC 2407 4.5): proposals, transforms, attributes. packet.c
 * turns it into bytes and back; proposals.c builds ours from a
 * connection's policy and chooses among the peer's. Nothing here knows
 * the wire layout. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/algs.h"

/* Protocol ids (RFC 2407 4.4.1) */
enum { PROTO_ISAKMP = 1, PROTO_IPSEC_AH = 2, PROTO_IPSEC_ESP = 3, PROTO_IPCOMP = 4 };
/* ISAKMP transform id (RFC 2407 4.4.2) */
enum { KEY_IKE = 1 };
/* IPCOMP transform id (RFC 2407 4.4.5) */
enum { IPCOMP_DEFLATE = 2 };
/* AH transform ids (RFC 2407 4.4.3): by integrity algorithm */
enum { AH_MD5 = 2, AH_SHA = 3, AH_SHA2_256 = 5, AH_SHA2_384 = 6, AH_SHA2_512 = 7 };

/* OAKLEY attribute classes (RFC 2409 appendix A) */
enum {
	OAKLEY_ENCRYPTION_ALGORITHM = 1, OAKLEY_HASH_ALGORITHM = 2,
	OAKLEY_AUTHENTICATION_METHOD = 3, OAKLEY_GROUP_DESCRIPTION = 4,
	OAKLEY_LIFE_TYPE = 11, OAKLEY_LIFE_DURATION = 12, OAKLEY_KEY_LENGTH = 14,
};
enum { OAKLEY_PRESHARED_KEY = 1, OAKLEY_RSA_SIG = 3 };
/* draft-beaulieu-ike-xauth-02: "Init" when the XAUTH client
 * initiates the Main Mode, "Resp" when the XAUTH server does */
enum { XAUTH_INIT_PRESHARED = 65001, XAUTH_RESP_PRESHARED = 65002,
       XAUTH_INIT_RSA = 65005, XAUTH_RESP_RSA = 65006 };
enum { OAKLEY_LIFE_SECONDS = 1, OAKLEY_LIFE_KILOBYTES = 2 };

/* IPsec DOI attribute classes (RFC 2407 4.5) */
enum {
	IPSEC_SA_LIFE_TYPE = 1, IPSEC_SA_LIFE_DURATION = 2, IPSEC_GROUP_DESCRIPTION = 3,
	IPSEC_ENCAPSULATION_MODE = 4, IPSEC_AUTH_ALGORITHM = 5, IPSEC_KEY_LENGTH = 6,
};
enum { SA_LIFE_SECONDS = 1, SA_LIFE_KILOBYTES = 2 };
/* Encapsulation modes: RFC 2407, RFC 3947 (UDP-encapsulated). The
 * draft-ietf-ipsec-nat-t-ike values are still sent by some peers that
 * negotiated NAT-T through a draft vendor ID; we accept them when
 * receiving and never send them. */
enum { ENCAP_TUNNEL = 1, ENCAP_TRANSPORT = 2, ENCAP_UDP_TUNNEL = 3, ENCAP_UDP_TRANSPORT = 4 };
enum { ENCAP_UDP_TUNNEL_DRAFT = 61443, ENCAP_UDP_TRANSPORT_DRAFT = 61444 };
/* RFC 2407 4.5: a lifetime not given defaults to 8 hours */
#define SA_DEFAULT_LIFETIME 28800
/* IANA reserves SPIs 0-255 (RFC 2406/4303) and CPIs 0-255 (RFC 3173) */
#define SPI_RESERVED_MAX 255

#define ISAKMP_DOI_IPSEC 1
#define SIT_IDENTITY_ONLY 1

struct sa_attr {
	uint16_t type;           /* without the AF bit */
	uint32_t value;          /* TV: 16 bits; TLV: up to 4 bytes */
};

#define SA_ATTRS_MAX 16
#define SA_TRANSFORMS_MAX 32     /* libreswan proposes 18 by default */
#define SA_PROPOSALS_MAX 8
#define SA_SPI_MAX 16

struct sa_transform {
	uint8_t number;
	uint8_t id;
	size_t n_attrs;
	struct sa_attr attrs[SA_ATTRS_MAX];
};

struct sa_proposal {
	uint8_t number;          /* equal numbers = one AND-ed proposal (ESP + IPCOMP) */
	uint8_t protocol;        /* PROTO_* */
	uint8_t spi_size;
	uint8_t spi[SA_SPI_MAX];
	size_t n_transforms;
	struct sa_transform transforms[SA_TRANSFORMS_MAX];
};

struct sa_payload {
	uint32_t doi;
	uint32_t situation;
	size_t n_proposals;
	struct sa_proposal proposals[SA_PROPOSALS_MAX];
};

/* Lookup of one attribute in a transform (the first of that type); false
 * when absent. value may be NULL to test for presence. */
bool sa_attr_get(const struct sa_transform *t, uint16_t type, uint32_t *value);
/* Append an attribute; false (and nothing added) when the transform
 * already holds SA_ATTRS_MAX. */
bool sa_attr_add(struct sa_transform *t, uint16_t type, uint32_t value);
