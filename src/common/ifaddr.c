#include "common/ifaddr.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

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

static struct ifaddrs *held;    /* the snapshot, NULL = none (or it failed) */
static unsigned n_holds;

void local_addresses_hold(void)
{
	if (n_holds++ == 0 && getifaddrs(&held) < 0)
		held = NULL;   /* ask the kernel each time, as without a hold */
}

void local_addresses_release(void)
{
	if (n_holds && --n_holds == 0 && held) {
		freeifaddrs(held);
		held = NULL;
	}
}

bool local_address(const ip_address *a)
{
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
