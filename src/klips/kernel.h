/* The kernel side ("KLIPS" in the man page): a backend installs SAs,
 * eroutes (XFRM policies) and routes. `none` negotiates but installs
 * nothing and records what it would have done. */
#pragma once
#include <stdbool.h>

#include "common/errors.h"

struct kernel_backend {
	const char *name;
	/* true when this backend can run here; *why says why not */
	bool (*available)(const char **why);
};

/* requested: "xfrm", "none", or NULL for automatic choice. Logs the
 * choice in one line. Fails only when an explicitly requested backend
 * cannot run. */
int kernel_select(const char *requested, struct ctl_error *err);
const char *kernel_backend_name(void);
/* Names accepted by --kernel, for option checking. */
bool kernel_backend_known(const char *name);

/* One direction of an IPsec SA as the IKE engine negotiated it. keymat
 * (encryption key, then integrity key) is never logged. */
#include <stddef.h>
#include <stdint.h>
#include "common/ip.h"
struct kernel_ipsec_sa {
	unsigned serial;             /* the IPsec state */
	bool inbound;
	ip_address src, dst;
	ip_subnet src_client, dst_client;
	uint8_t protocol;            /* PROTO_IPSEC_ESP / PROTO_IPSEC_AH */
	uint32_t spi;
	bool tunnel;
	const char *cipher, *integ;  /* algorithm names, NULL when none */
	const uint8_t *keymat;
	size_t keymat_len;
	bool ipcomp;
	uint16_t cpi;
};
/* The `none` backend installs nothing: it says at debug class "klips"
 * what it would have installed and returns 0. */
int kernel_install_ipsec_sa(const struct kernel_ipsec_sa *sa);
int kernel_delete_ipsec_sa(const struct kernel_ipsec_sa *sa);
