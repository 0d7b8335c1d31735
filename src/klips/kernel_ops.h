/* The interface between kernel.c and its backends (kernel_xfrm.c,
 * kernel_none.c): what an SA and an eroute are, the ops table a backend
 * fills, and the helpers every backend shares. Backends include this, not
 * kernel.h, so kernel.c can pick among them without a cycle. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "common/ip.h"
#include "policy/algs.h"

/* One direction of an IPsec SA as the IKE engine negotiated it. The
 * algorithms are their descriptor rows: the backends take the XFRM name,
 * key, salt and ICV sizes from them. keymat is the cipher key (then, for
 * an AEAD, its salt), then the integrity key (RFC 2409 5.5, RFC 4106
 * 8.1); it is never logged. */
struct kernel_ipsec_sa {
	unsigned serial;             /* the IPsec state */
	bool inbound;
	ip_address src, dst;
	ip_subnet src_client, dst_client;
	uint8_t protocol;            /* PROTO_IPSEC_ESP / PROTO_IPSEC_AH */
	uint32_t spi;
	bool spi_from_kernel;        /* inbound SPI reserved by kernel_get_spi */
	bool tunnel;
	uint32_t reqid;              /* ties the SA to its connection's policies */
	const struct alg *cipher;    /* ESP: CBC or AEAD; NULL for AH */
	unsigned key_bits;           /* the cipher's key length */
	const struct alg *integ;     /* HMAC; NULL with an AEAD cipher */
	const uint8_t *keymat;
	size_t keymat_len;
	bool ipcomp;
	uint16_t cpi;
	/* NAT-T (RFC 3948): ESP in UDP between these ports; encap_oa is the
	 * peer's original address (NAT-OA) when it sent one */
	bool udp_encap;
	uint16_t encap_sport, encap_dport;
	ip_address encap_oa;
};

/* An eroute: one XFRM policy. With a template it sends matching traffic
 * through IPsec (an SA with reqid, or an ACQUIRE when there is none: the
 * man page's TRAP shunt eroute). */
enum kernel_dir { KDIR_OUT, KDIR_IN, KDIR_FWD };
struct kernel_policy {
	ip_subnet src_client, dst_client;  /* the selector */
	enum kernel_dir dir;
	ip_address tmpl_src, tmpl_dst;     /* the template's outer addresses */
	uint8_t protocol;                  /* PROTO_IPSEC_ESP / AH */
	bool tunnel, ipcomp;
	uint32_t reqid;
	uint32_t priority;
};

struct kernel_ops {
	const char *name;
	/* true when this backend can hold an ESP SA here; *why says why not */
	bool (*probe)(char *why, size_t why_len);
	/* open sockets, watch ACQUIREs on the event loop; 0 or -errno */
	int (*init)(char *why, size_t why_len);
	void (*fini)(void);
	/* an inbound SPI for (src -> dst, protocol): 0 or -1 with why */
	int (*get_spi)(const ip_address *src, const ip_address *dst, uint8_t protocol, uint32_t reqid,
		       uint32_t *spi, char *why, size_t why_len);
	int (*add_sa)(const struct kernel_ipsec_sa *sa, char *why, size_t why_len);
	int (*del_sa)(const ip_address *dst, uint8_t protocol, uint32_t spi, char *why, size_t why_len);
	int (*add_policy)(const struct kernel_policy *p, char *why, size_t why_len);
	int (*del_policy)(const struct kernel_policy *p, char *why, size_t why_len);
};
extern const struct kernel_ops kernel_xfrm_ops, kernel_none_ops;

/* Implemented by the xfrm backend (kernel_xfrm.c), called by demux.c:
 * IKE sockets bypass IPsec in both directions, so that an eroute between
 * the two hosts (host-to-host, or a TRAP) does not catch IKE itself.
 * Harmless without XFRM (errors ignored). */
void kernel_bypass_socket(int fd, int family);

/* An ACQUIRE: outbound traffic src -> dst hit a TRAP eroute with no SA. */
typedef void (*kernel_acquire_fn)(const ip_address *src, const ip_address *dst);
void kernel_set_acquire_handler(kernel_acquire_fn fn);
/* For backends: deliver an ACQUIRE. */
void kernel_acquire(const ip_address *src, const ip_address *dst);

/* Where each algorithm's key sits in sa->keymat, checked against the rows
 * (a cipher the kernel has no name for, a keymat of the wrong length):
 * 0, or -1 with a sentence in why. */
struct kernel_keys {
	const uint8_t *cipher_key;   /* key, then salt for an AEAD */
	size_t cipher_key_len;       /* bytes, salt included */
	const uint8_t *integ_key;
	size_t integ_key_len;
};
int kernel_sa_keys(const struct kernel_ipsec_sa *sa, struct kernel_keys *k, char *why, size_t why_len);
/* "aes_gcm128", "aes128-sha1", "sha2_256": what the SA runs, for logs */
void kernel_sa_algs(const struct kernel_ipsec_sa *sa, char *buf, size_t len);
const char *kernel_dir_name(enum kernel_dir d);
