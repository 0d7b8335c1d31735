/* The kernel side ("KLIPS" in the man page): a backend installs SAs and
 * eroutes (XFRM policies). Two backends share one ops table:
 *   xfrm  Linux XFRM over netlink (kernel_xfrm.c)
 *   none  negotiates but installs nothing; it says at debug class "klips"
 *         what it would have done, and the record below still lists it
 *         (kernel_none.c), so tests can read what would be in the kernel.
 * kernel.c chooses the backend, keeps the record of everything installed
 * (so shutdown removes all of it) and hands ACQUIREs to routing.c. */
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

/* requested: "xfrm", "none", or NULL for automatic choice. The automatic
 * choice probes whether the kernel can hold an ESP SA and, when it
 * cannot, says so in one log line and uses `none`. Fails only when an
 * explicitly requested backend cannot start. */
int kernel_select(const char *requested, struct ctl_error *err);
/* Listen re-runs the automatic probe (an explicit --kernel stays). */
void kernel_recheck(void);
const char *kernel_backend_name(void);
bool kernel_backend_installs(void);   /* false for `none` */
/* Names accepted by --kernel, for option checking. */
bool kernel_backend_known(const char *name);
/* Removes everything still recorded as installed and closes the backend. */
void kernel_shutdown(void);

/* SPI allocation: from the kernel with xfrm, random above 0xFFF with
 * none (the man page leaves 0..0xFFF to IANA and manual keying). The
 * reservation is recorded for state serial, so it is released with it. */
int kernel_get_spi(unsigned serial, const ip_address *src, const ip_address *dst, uint8_t protocol,
		   uint32_t reqid, uint32_t *spi, struct ctl_error *err);
/* Install / remove one direction of an IPsec SA (and its IPComp SA).
 * Failures fill err with the kernel's words. */
int kernel_install_ipsec_sa(const struct kernel_ipsec_sa *sa, struct ctl_error *err);
/* Removes every SA recorded for this IPsec state (both directions). */
void kernel_delete_state_sas(unsigned serial);
int kernel_add_policy(const struct kernel_policy *p, struct ctl_error *err);
int kernel_del_policy(const struct kernel_policy *p, struct ctl_error *err);

/* IKE sockets bypass IPsec in both directions, so that an eroute between
 * the two hosts (host-to-host, or a TRAP) does not catch IKE itself.
 * Harmless without XFRM (errors ignored). */
void kernel_bypass_socket(int fd, int family);

/* The record: how many SAs / policies are installed (or, with none, would
 * be), and a one-line description of each for status and tests. */
size_t kernel_record_count(bool policies);
void kernel_record_foreach(void (*fn)(const char *line, void *ud), void *ud);

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
