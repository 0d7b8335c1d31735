/* The `none` backend (the man page's pluto "compiled without KLIPS"): it
 * negotiates but never asks the kernel for anything. Each operation says
 * at debug class "klips" what it would have done; kernel.c records it as
 * if installed, so status and tests see the SAs and eroutes that a real
 * kernel would hold. */
#include <stdio.h>

#include "common/random.h"
#include "common/util.h"
#include "daemon/log.h"
#include "klips/kernel_ops.h"

static bool none_probe(char *why, size_t why_len)
{
	return true;
}

static int none_init(char *why, size_t why_len)
{
	return 0;
}

static void none_fini(void)
{
}

static int none_get_spi(const ip_address *src, const ip_address *dst, uint8_t protocol, uint32_t reqid,
			uint32_t *spi, char *why, size_t why_len)
{
	/* the man page: 0..0xFF are IANA's, 0x100..0xFFF are for manual keying */
	do
		random_bytes(spi, sizeof(*spi));
	while (*spi <= 0xFFF);
	return 0;
}

static int none_add_sa(const struct kernel_ipsec_sa *sa, char *why, size_t why_len)
{
	char s[IP_STR_MAX], d[IP_STR_MAX], sc[IP_STR_MAX], dc[IP_STR_MAX], algs[2 * ALG_NAME_MAX];
	kernel_sa_algs(sa, algs, sizeof(algs));
	DBG(DBG_KLIPS, NULL,
	    "none backend: would install %s %s SA 0x%08x %s->%s (%s mode %s===%s, %s, reqid %u, %zu bytes of key material%s) for #%u",
	    sa->inbound ? "inbound" : "outbound", sa->protocol == 2 ? "AH" : "ESP", (unsigned)sa->spi,
	    ip_str(&sa->src, s), ip_str(&sa->dst, d), sa->tunnel ? "tunnel" : "transport",
	    subnet_str(&sa->src_client, sc), subnet_str(&sa->dst_client, dc), algs, (unsigned)sa->reqid,
	    sa->keymat_len, sa->ipcomp ? ", IPComp" : "", sa->serial);
	if (sa->udp_encap)
		DBG(DBG_KLIPS, NULL, "none backend: ... with UDP encapsulation (ESP in UDP) %u->%u", sa->encap_sport,
		    sa->encap_dport);
	return 0;
}

static int none_del_sa(const ip_address *dst, uint8_t protocol, uint32_t spi, char *why, size_t why_len)
{
	char d[IP_STR_MAX];
	DBG(DBG_KLIPS, NULL, "none backend: would delete SA proto %u 0x%08x to %s", protocol, (unsigned)spi,
	    ip_str(dst, d));
	return 0;
}

static void say_policy(const char *verb, const struct kernel_policy *p)
{
	char s[IP_STR_MAX], d[IP_STR_MAX], ts[IP_STR_MAX], td[IP_STR_MAX];
	DBG(DBG_KLIPS, NULL, "none backend: would %s eroute %s %s->%s via %s->%s reqid %u", verb,
	    kernel_dir_name(p->dir), subnet_str(&p->src_client, s), subnet_str(&p->dst_client, d),
	    ip_str(&p->tmpl_src, ts), ip_str(&p->tmpl_dst, td), (unsigned)p->reqid);
}

static int none_add_policy(const struct kernel_policy *p, char *why, size_t why_len)
{
	say_policy("install", p);
	return 0;
}

static int none_del_policy(const struct kernel_policy *p, char *why, size_t why_len)
{
	say_policy("remove", p);
	return 0;
}

const struct kernel_ops kernel_none_ops = {
	.name = "none",
	.probe = none_probe,
	.init = none_init,
	.fini = none_fini,
	.get_spi = none_get_spi,
	.add_sa = none_add_sa,
	.del_sa = none_del_sa,
	.add_policy = none_add_policy,
	.del_policy = none_del_policy,
};
