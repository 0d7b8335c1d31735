#include "klips/rtnl_route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "klips/netlink_msg.h"

static int req_fd = -1;
static uint32_t seq;

struct rtreq {
	struct nl_request req;
	union {
		struct nlmsghdr h;
		unsigned char buf[NLMSG_HDRLEN + 256];
	} msg;
};

static int open_socket(char *why, size_t why_len)
{
	if (req_fd >= 0)
		return 0;
	req_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (req_fd < 0) {
		int e = errno;
		snprintf(why, why_len, "cannot open an rtnetlink socket: %s", strerror(e));
		return -e;
	}
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(req_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(req_fd);
		req_fd = -1;
		snprintf(why, why_len, "cannot bind an rtnetlink socket: %s", strerror(e));
		return -e;
	}
	int one = 1;
	setsockopt(req_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return 0;
}

void rtnl_route_close(void)
{
	if (req_fd >= 0)
		close(req_fd);
	req_fd = -1;
}

/* Send one request, read until its ack: 0 or -errno (with why). */
static int talk(struct rtreq *r, char *why, size_t why_len)
{
	int ret = open_socket(why, why_len);
	if (ret < 0)
		return ret;
	if (r->req.overflowed) {
		snprintf(why, why_len, "rtnetlink request does not fit: not sent");
		return -EMSGSIZE;
	}
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(req_fd, &r->msg.h, r->msg.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		int e = errno;
		snprintf(why, why_len, "rtnetlink send: %s", strerror(e));
		return -e;
	}
	for (;;) {
		union {
			struct nlmsghdr h;
			char buf[4096];
		} in;
		ssize_t n = recv(req_fd, in.buf, sizeof(in.buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			snprintf(why, why_len, "rtnetlink receive: %s", strerror(e));
			return -e;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = &in.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->msg.h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (e->error == 0)
				return 0;
			netlink_error_text(h, -e->error, why, why_len);
			return e->error;
		}
	}
}

static size_t addr_len(const ip_address *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static struct rtmsg *route_msg(struct rtreq *r, uint16_t type, uint16_t flags, const ip_subnet *dst,
			       const ip_address *gateway, int ifindex)
{
	struct rtmsg *rt = nlreq_start(&r->req, r->msg.buf, sizeof(r->msg.buf), type,
				       NLM_F_REQUEST | NLM_F_ACK | flags, ++seq, sizeof(*rt));
	rt->rtm_family = (unsigned char)dst->addr.family;
	rt->rtm_dst_len = (unsigned char)dst->prefix;
	rt->rtm_table = RT_TABLE_MAIN;
	nlreq_attr(&r->req, RTA_DST, &dst->addr.u, addr_len(&dst->addr));
	if (gateway && ip_is_set(gateway) && gateway->family == dst->addr.family)
		nlreq_attr(&r->req, RTA_GATEWAY, &gateway->u, addr_len(gateway));
	if (ifindex > 0) {
		uint32_t oif = (uint32_t)ifindex;
		nlreq_attr(&r->req, RTA_OIF, &oif, sizeof(oif));
	}
	return rt;
}

int rtnl_route_set(const ip_subnet *dst, const ip_address *gateway, int ifindex,
		   const ip_address *prefsrc, bool create, char *why, size_t why_len)
{
	struct rtreq r;
	struct rtmsg *rt = route_msg(&r, RTM_NEWROUTE, NLM_F_REPLACE | (create ? NLM_F_CREATE : 0),
				     dst, gateway, ifindex);
	rt->rtm_protocol = RTPROT_BOOT;   /* what ip(8) route add gives a route */
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	if (prefsrc && ip_is_set(prefsrc))
		nlreq_attr(&r.req, RTA_PREFSRC, &prefsrc->u, addr_len(prefsrc));
	return talk(&r, why, why_len);
}

int rtnl_route_del(const ip_subnet *dst, const ip_address *gateway, int ifindex, bool *removed,
		   char *why, size_t why_len)
{
	struct rtreq r;
	struct rtmsg *rt = route_msg(&r, RTM_DELROUTE, 0, dst, gateway, ifindex);
	rt->rtm_scope = RT_SCOPE_NOWHERE;   /* any scope, as ip route del */
	int ret = talk(&r, why, why_len);
	*removed = ret == 0;
	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

static int addr_msg(uint16_t type, uint16_t flags, const ip_address *a, int ifindex, char *why,
		    size_t why_len)
{
	struct rtreq r;
	struct ifaddrmsg *ifa = nlreq_start(&r.req, r.msg.buf, sizeof(r.msg.buf), type,
					    NLM_F_REQUEST | NLM_F_ACK | flags, ++seq, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = (unsigned char)(addr_len(a) * 8);
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	nlreq_attr(&r.req, IFA_LOCAL, &a->u, addr_len(a));
	nlreq_attr(&r.req, IFA_ADDRESS, &a->u, addr_len(a));
	return talk(&r, why, why_len);
}

int rtnl_addr_add(const ip_address *a, int ifindex, bool *changed, char *why, size_t why_len)
{
	int ret = addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a, ifindex, why, why_len);
	*changed = ret == 0;
	return ret == -EEXIST ? 0 : ret;
}

int rtnl_addr_del(const ip_address *a, int ifindex, bool *changed, char *why, size_t why_len)
{
	int ret = addr_msg(RTM_DELADDR, 0, a, ifindex, why, why_len);
	*changed = ret == 0;
	return ret == -EADDRNOTAVAIL || ret == -ENODEV ? 0 : ret;
}
