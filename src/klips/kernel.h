/* The kernel side ("KLIPS" in the man page): a backend installs SAs and
 * eroutes (XFRM policies). Two backends share one ops table:
 *   xfrm  Linux XFRM over netlink (kernel_xfrm.c)
 *   none  negotiates but installs nothing; it says at debug class "klips"
 *         what it would have done, and the record below still lists it
 *         (kernel_none.c), so tests can read what would be in the kernel.
 * kernel.c chooses the backend, keeps the record of everything installed
 * (so shutdown removes all of it); kernel_ops.c hands ACQUIREs to
 * routing.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "common/ip.h"
#include "klips/kernel_ops.h"   /* the SA, eroute and backend types */
#include "policy/algs.h"

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

/* The record: how many SAs / policies are installed (or, with none, would
 * be), and a one-line description of each for status and tests. */
size_t kernel_record_count(bool policies);
void kernel_record_foreach(void (*fn)(const char *line, void *ud), void *ud);
