/* pluto's facts -> NM's IP configuration (nm-ipconfig.h) */
#include "nm-ipconfig.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"

static struct nmp_ipx *family_of(struct nmp_ipconfig *c, int family)
{
	return family == AF_INET ? &c->ip4 : &c->ip6;
}

/* "10.9.0.1/32" or a bare address (then a host prefix) */
static bool parse_address_prefix(const char *s, ip_address *a, unsigned *prefix)
{
	char buf[IP_STR_MAX];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!ip_parse(buf, a))
		return false;
	unsigned max = a->family == AF_INET ? 32 : 128;
	unsigned long long p = max;
	if (slash && !parse_uint(slash + 1, max, &p))
		return false;
	if (p == 0)
		return false;
	*prefix = (unsigned)p;
	return true;
}

static int set_inner(struct nmp_ipconfig *c, const struct nmp_facts *f, char *err, size_t errlen)
{
	ip_address a;
	unsigned prefix;
	if (f->virtual_address && *f->virtual_address) {
		if (!parse_address_prefix(f->virtual_address, &a, &prefix))
			return fail_msg(err, errlen, "Mode Config address \"%s\" is not an address/prefix",
					f->virtual_address);
	} else if (f->local && *f->local) {
		if (!parse_address_prefix(f->local, &a, &prefix))
			return fail_msg(err, errlen, "local address \"%s\" is not an address", f->local);
		prefix = a.family == AF_INET ? 32 : 128;
	} else {
		return fail_msg(err, errlen, "no inner address: no Mode Config address and no local address");
	}
	struct nmp_ipx *x = family_of(c, a.family);
	x->present = true;
	x->address = a;
	x->prefix = prefix;
	x->never_default = true;
	x->domains = true;
	return 0;
}

/* The routes: the split include, else rightsubnet. A route of a family
 * without an inner address cannot be carried by NM: left out. */
static int set_routes(struct nmp_ipconfig *c, const struct nmp_facts *f, char *err, size_t errlen)
{
	const char *const *nets = f->split_include;
	size_t n = f->n_split;
	const char *one[1] = { f->rightsubnet };
	if (n == 0 && f->rightsubnet && *f->rightsubnet) {
		nets = one;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		ip_subnet s;
		const char *why = NULL;
		if (!subnet_parse(nets[i], &s, &why))
			return fail_msg(err, errlen, "route \"%s\": %s", nets[i], why ? why : "not a subnet");
		struct nmp_ipx *x = family_of(c, s.addr.family);
		if (!x->present)
			continue;
		if (s.prefix == 0) {
			x->never_default = false;   /* everything goes through the tunnel */
			continue;
		}
		if (x->n_routes < NMP_LIST_MAX)
			x->routes[x->n_routes++] = s;
	}
	return 0;
}

static int set_dns(struct nmp_ipconfig *c, const struct nmp_facts *f, char *err, size_t errlen)
{
	for (size_t i = 0; i < f->n_dns; i++) {
		ip_address a;
		if (!ip_parse(f->dns[i], &a))
			return fail_msg(err, errlen, "DNS server \"%s\" is not an address", f->dns[i]);
		struct nmp_ipx *x = family_of(c, a.family);
		if (x->present && x->n_dns < NMP_LIST_MAX)
			x->dns[x->n_dns++] = a;
	}
	return 0;
}

int nmp_ipconfig_build(const struct nmp_facts *f, struct nmp_ipconfig *out, char *err, size_t errlen)
{
	*out = (struct nmp_ipconfig){ 0 };
	if (!f->gateway || !ip_parse(f->gateway, &out->gateway))
		return fail_msg(err, errlen, "gateway \"%s\" is not an address", f->gateway ? f->gateway : "");
	if (set_inner(out, f, err, errlen) < 0 || set_routes(out, f, err, errlen) < 0 ||
	    set_dns(out, f, err, errlen) < 0)
		return -1;
	out->banner = f->banner && *f->banner ? f->banner : NULL;
	out->domains = f->domains;
	out->n_domains = f->n_domains;
	return 0;
}
