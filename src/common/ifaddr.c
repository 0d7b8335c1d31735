#include "common/ifaddr.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

bool ifaddr_usable(const struct ifaddrs *ifa, ip_address *out)
{
	if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP))
		return false;
	if (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6)
		return false;
	ip_from_sockaddr(ifa->ifa_addr, out, NULL);
	if (out->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&out->u.v6))
		return false;
	return true;
}

/* --- the tracked table ---
 * A host has a handful of links and addresses (a gateway that puts lent
 * addresses on lo has one per client at most): flat arrays, searched
 * linearly, are the simple and sufficient index. */
struct link { int ifindex; bool up; char name[IF_NAMESIZE]; };
struct addr { int ifindex; ip_address a; };

static bool tracking;
static struct link *links;
static size_t n_links, cap_links;
static struct addr *addrs;
static size_t n_addrs, cap_addrs;

static struct link *link_of(int ifindex)
{
	for (size_t i = 0; i < n_links; i++)
		if (links[i].ifindex == ifindex)
			return &links[i];
	return NULL;
}

void ifaddr_track(bool on)
{
	tracking = on;
	n_links = n_addrs = 0;
	if (!on) {
		free(links);
		free(addrs);
		links = NULL;
		addrs = NULL;
		cap_links = cap_addrs = 0;
	}
}

bool ifaddr_tracked(void)
{
	return tracking;
}

size_t ifaddr_count(void)
{
	return n_addrs;
}

void ifaddr_link_set(int ifindex, const char *name, bool up)
{
	struct link *l = link_of(ifindex);
	if (!l) {
		if (n_links == cap_links) {
			cap_links = cap_links ? 2 * cap_links : 8;
			links = xrealloc(links, cap_links * sizeof(*links));
		}
		l = &links[n_links++];
		l->ifindex = ifindex;
		l->name[0] = '\0';
	}
	l->up = up;
	if (name)
		snprintf(l->name, sizeof(l->name), "%s", name);
}

void ifaddr_link_del(int ifindex)
{
	for (size_t i = 0; i < n_addrs;)
		if (addrs[i].ifindex == ifindex)
			addrs[i] = addrs[--n_addrs];
		else
			i++;
	struct link *l = link_of(ifindex);
	if (l)
		*l = links[--n_links];
}

static struct addr *addr_of(int ifindex, const ip_address *a)
{
	for (size_t i = 0; i < n_addrs; i++)
		if (addrs[i].ifindex == ifindex && ip_equal(&addrs[i].a, a))
			return &addrs[i];
	return NULL;
}

void ifaddr_addr_add(int ifindex, const ip_address *a)
{
	if (addr_of(ifindex, a))
		return;
	if (n_addrs == cap_addrs) {
		cap_addrs = cap_addrs ? 2 * cap_addrs : 16;
		addrs = xrealloc(addrs, cap_addrs * sizeof(*addrs));
	}
	addrs[n_addrs++] = (struct addr){ .ifindex = ifindex, .a = *a };
}

void ifaddr_addr_del(int ifindex, const ip_address *a)
{
	struct addr *x = addr_of(ifindex, a);
	if (x)
		*x = addrs[--n_addrs];
}

/* --- getifaddrs, when nothing tracks the addresses --- */

static struct ifaddrs *held;    /* the snapshot, NULL = none (or it failed) */
static unsigned n_holds;

void local_addresses_hold(void)
{
	if (tracking)
		return;
	if (n_holds++ == 0 && getifaddrs(&held) < 0)
		held = NULL;   /* ask the kernel each time, as without a hold */
}

void local_addresses_release(void)
{
	if (tracking)
		return;
	if (n_holds && --n_holds == 0 && held) {
		freeifaddrs(held);
		held = NULL;
	}
}

static bool usable_tracked(const struct addr *x)
{
	const struct link *l = link_of(x->ifindex);
	if (!l || !l->up)
		return false;
	return !(x->a.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&x->a.u.v6));
}

bool local_address(const ip_address *a)
{
	if (tracking) {
		for (size_t i = 0; i < n_addrs; i++)
			if (ip_equal(&addrs[i].a, a) && usable_tracked(&addrs[i]))
				return true;
		return false;
	}
	struct ifaddrs *list = held;
	bool found = false;
	if (!list && getifaddrs(&list) < 0)
		return false;
	for (struct ifaddrs *ifa = list; ifa && !found; ifa = ifa->ifa_next) {
		ip_address addr;
		if (ifaddr_usable(ifa, &addr) && ip_equal(&addr, a))
			found = true;
	}
	if (list != held)
		freeifaddrs(list);
	return found;
}

bool local_address_interface(const ip_address *a, char *name, size_t name_len, int *ifindex)
{
	if (name_len)
		name[0] = '\0';
	if (tracking) {
		for (size_t i = 0; i < n_addrs; i++) {
			if (!ip_equal(&addrs[i].a, a))
				continue;
			const struct link *l = link_of(addrs[i].ifindex);
			if (name_len)
				snprintf(name, name_len, "%s", l ? l->name : "");
			if (ifindex)
				*ifindex = addrs[i].ifindex;
			return true;
		}
		return false;
	}
	struct ifaddrs *list = held;
	bool found = false;
	if (!list && getifaddrs(&list) < 0)
		return false;
	for (struct ifaddrs *ifa = list; ifa && !found; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != a->family)
			continue;
		ip_address x;
		ip_from_sockaddr(ifa->ifa_addr, &x, NULL);
		if (!ip_equal(&x, a))
			continue;
		found = true;
		if (name_len)
			snprintf(name, name_len, "%s", ifa->ifa_name);
		if (ifindex)
			*ifindex = (int)if_nametoindex(ifa->ifa_name);
	}
	if (list != held)
		freeifaddrs(list);
	return found;
}
