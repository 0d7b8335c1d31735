#include "common/ip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

bool ip_parse(const char *s, ip_address *out)
{
	ip_address a = { .family = AF_UNSPEC };
	if (!s)
		return false;
	if (inet_pton(AF_INET, s, &a.u.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.u.v6) == 1)
		a.family = AF_INET6;
	else
		return false;
	*out = a;
	return true;
}

const char *ip_str(const ip_address *a, char buf[IP_STR_MAX])
{
	if (!a || a->family == AF_UNSPEC)
		snprintf(buf, IP_STR_MAX, "%%none");
	else if (!inet_ntop(a->family, a->u.bytes, buf, IP_STR_MAX))
		snprintf(buf, IP_STR_MAX, "<bad address>");
	return buf;
}

size_t ip_len(const ip_address *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

bool ip_equal(const ip_address *a, const ip_address *b)
{
	return a->family == b->family && memcmp(a->u.bytes, b->u.bytes, ip_len(a)) == 0;
}

bool ip_is_set(const ip_address *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

void ip_from_sockaddr(const struct sockaddr *sa, ip_address *out, uint16_t *port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		out->family = AF_INET;
		out->u.v4 = sin->sin_addr;
		if (port)
			*port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		out->family = AF_INET6;
		out->u.v6 = sin6->sin6_addr;
		if (port)
			*port = ntohs(sin6->sin6_port);
	} else {
		out->family = AF_UNSPEC;
		if (port)
			*port = 0;
	}
}

socklen_t ip_to_sockaddr(const ip_address *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->u.v6;
		return sizeof(*sin6);
	}
	return 0;
}

bool subnet_parse(const char *s, ip_subnet *out, const char **why)
{
	char buf[IP_STR_MAX];
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t alen = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
	const char *dummy;
	if (!why)
		why = &dummy;
	if (alen == 0 || alen >= sizeof(buf)) {
		*why = "not an address/prefix";
		return false;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	ip_subnet sn;
	if (!ip_parse(buf, &sn.addr)) {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	unsigned maxbits = (unsigned)ip_len(&sn.addr) * 8;
	unsigned long long prefix = maxbits;
	if (slash && !parse_uint(slash + 1, maxbits, &prefix)) {
		*why = "prefix length out of range";
		return false;
	}
	sn.prefix = (unsigned)prefix;
	for (unsigned bit = sn.prefix; bit < maxbits; bit++) {
		if (sn.addr.u.bytes[bit / 8] & (0x80 >> (bit % 8))) {
			*why = "host bits set after the prefix";
			return false;
		}
	}
	*out = sn;
	return true;
}

const char *subnet_str(const ip_subnet *s, char buf[IP_STR_MAX])
{
	char a[IP_STR_MAX];
	snprintf(buf, IP_STR_MAX, "%s/%u", ip_str(&s->addr, a), s->prefix);
	return buf;
}

bool subnet_equal(const ip_subnet *a, const ip_subnet *b)
{
	return a->prefix == b->prefix && ip_equal(&a->addr, &b->addr);
}

void subnet_from_address(const ip_address *a, ip_subnet *out)
{
	out->addr = *a;
	out->prefix = (unsigned)ip_len(a) * 8;
}
