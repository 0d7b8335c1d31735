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

/* One direction of an IPsec SA as the IKE engine negotiated it. keymat
 * (encryption key, then integrity key) is never logged. */
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
	const char *cipher, *integ;  /* algorithm names, NULL when none */
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

/* Algorithm names as the Linux crypto API spells them, with key and ICV
 * lengths; NULL for names the kernel layer does not know. */
struct kernel_alg {
	const char *pluto_name, *kernel_name;
	unsigned key_bytes;      /* integrity: key length; cipher: 0 = from keymat */
	unsigned trunc_bits;     /* integrity: ICV length */
};
const struct kernel_alg *kernel_integ_alg(const char *name);
const struct kernel_alg *kernel_cipher_alg(const char *name);
const char *kernel_dir_name(enum kernel_dir d);
