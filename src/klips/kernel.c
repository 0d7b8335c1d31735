#include "klips/kernel.h"

#include <stddef.h>
#include <string.h>

#include "common/util.h"
#include "daemon/log.h"

static bool none_available(const char **why)
{
	return true;
}

static bool xfrm_available(const char **why)
{
	/* The XFRM netlink backend arrives with the kernel-layer work; until
	 * then say so rather than pretend. */
	*why = "the xfrm backend is not part of this build yet";
	return false;
}

static const struct kernel_backend backends[] = {
	{ "xfrm", xfrm_available },
	{ "none", none_available },
};

static const struct kernel_backend *current = &backends[1];

bool kernel_backend_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (streq(backends[i].name, name))
			return true;
	return false;
}

int kernel_select(const char *requested, struct ctl_error *err)
{
	const char *why = NULL;
	if (requested) {
		for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
			if (!streq(backends[i].name, requested))
				continue;
			if (!backends[i].available(&why))
				return ctl_fail(err, PE_INTERNAL, "kernel backend %s cannot be used: %s",
						requested, why);
			current = &backends[i];
			plog("kernel backend: %s (as requested)", current->name);
			return 0;
		}
		return ctl_fail(err, PE_INVALID_OPTION, "unknown kernel backend '%s' (xfrm or none)", requested);
	}
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (backends[i].available(&why)) {
			current = &backends[i];
			break;
		}
		plog("kernel backend %s not usable: %s", backends[i].name, why);
	}
	plog("kernel backend: %s%s", current->name,
	     streq(current->name, "none") ? " (SAs are negotiated but not installed in the kernel)" : "");
	return 0;
}

const char *kernel_backend_name(void)
{
	return current->name;
}

static void describe_sa(const char *verb, const struct kernel_ipsec_sa *sa)
{
	char s[IP_STR_MAX], d[IP_STR_MAX], sc[IP_STR_MAX], dc[IP_STR_MAX];
	DBG(DBG_KLIPS, NULL, "%s backend: would %s %s %s SA 0x%08x %s->%s (%s mode %s===%s, %s%s%s, %zu bytes of key material%s) for #%u",
	    current->name, verb, sa->inbound ? "inbound" : "outbound",
	    sa->protocol == 2 ? "AH" : "ESP", (unsigned)sa->spi, ip_str(&sa->src, s), ip_str(&sa->dst, d),
	    sa->tunnel ? "tunnel" : "transport", subnet_str(&sa->src_client, sc), subnet_str(&sa->dst_client, dc),
	    sa->cipher ? sa->cipher : "", sa->cipher && sa->integ ? "-" : "", sa->integ ? sa->integ : "",
	    sa->keymat_len, sa->ipcomp ? ", IPComp" : "", sa->serial);
}

int kernel_install_ipsec_sa(const struct kernel_ipsec_sa *sa)
{
	/* only `none` exists so far: nothing reaches the kernel */
	describe_sa("install", sa);
	return 0;
}

int kernel_delete_ipsec_sa(const struct kernel_ipsec_sa *sa)
{
	describe_sa("delete", sa);
	return 0;
}
