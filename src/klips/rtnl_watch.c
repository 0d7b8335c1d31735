#include "klips/rtnl_watch.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "common/ifaddr.h"
#include "daemon/log.h"

static int mc_fd = -1;
static sd_event_source *mc_source;

static void on_link(const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	if (h->nlmsg_type == RTM_DELLINK) {
		ifaddr_link_del(ifi->ifi_index);
		return;
	}
	const char *name = NULL;
	int len = (int)IFLA_PAYLOAD(h);
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 &&
		    memchr(RTA_DATA(a), '\0', RTA_PAYLOAD(a)))
			name = RTA_DATA(a);
	ifaddr_link_set(ifi->ifi_index, name, ifi->ifi_flags & IFF_UP);
}

static void on_addr(const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
	const void *local = NULL, *address = NULL;
	int len = (int)IFA_PAYLOAD(h);
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) != want)
			continue;
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
	}
	/* on a point-to-point link IFA_ADDRESS is the peer's; IFA_LOCAL is ours */
	const void *ours = local ? local : address;
	if (!ours)
		return;
	ip_address x = { .family = ifa->ifa_family };
	memcpy(&x.u, ours, want);
	if (h->nlmsg_type == RTM_NEWADDR)
		ifaddr_addr_add((int)ifa->ifa_index, &x);
	else
		ifaddr_addr_del((int)ifa->ifa_index, &x);
}

/* Feeds a buffer of messages to the table; false at NLMSG_DONE. */
static bool feed(const void *buf, size_t len, int *error)
{
	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			return false;
		case NLMSG_ERROR:
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				*error = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
			return false;
		case RTM_NEWLINK:
		case RTM_DELLINK:
			on_link(h);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			on_addr(h);
			break;
		}
	}
	return true;
}

/* One dump (links or addresses) on a socket of its own, read to its end. */
static int dump(uint16_t type)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = {
		.h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)), .nlmsg_type = type,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.g = { .rtgen_family = AF_UNSPEC },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int error = 0;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		error = -errno;
		goto out;
	}
	for (;;) {
		union {
			struct nlmsghdr h;
			char buf[32768];
		} in;
		ssize_t n = recv(fd, in.buf, sizeof(in.buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = n < 0 ? -errno : -EIO;
			break;
		}
		if (!feed(in.buf, (size_t)n, &error))
			break;
	}
out:
	close(fd);
	return error;
}

/* The whole table anew: at start, and after announcements were lost. */
static int resync(void)
{
	ifaddr_track(true);
	int r = dump(RTM_GETLINK);
	if (r == 0)
		r = dump(RTM_GETADDR);
	if (r < 0) {
		ifaddr_track(false);   /* getifaddrs again rather than a half table */
		llog(GLOBAL_LOGGER, LS_WARNING, MSGID_INTERFACE,
		     "cannot read the interfaces over rtnetlink (%s): asking getifaddrs per question",
		     strerror(-r));
		return r;
	}
	DBG(DBG_KLIPS, NULL, "rtnetlink: %zu local addresses known", ifaddr_count());
	return 0;
}

static int on_announcement(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	for (;;) {
		union {
			struct nlmsghdr h;
			char buf[16384];
		} in;
		ssize_t n = recv(fd, in.buf, sizeof(in.buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* the kernel dropped announcements: what we hold may be stale */
			resync();
			continue;
		}
		if (n <= 0)
			return 0;
		int ignored = 0;
		feed(in.buf, (size_t)n, &ignored);
	}
}

int rtnl_watch_start(sd_event *event)
{
	if (mc_fd >= 0)
		return 0;
	/* subscribe before the dump: a change between the two then shows up
	 * as an announcement, and applying it twice is harmless */
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	int r = sd_event_add_io(event, &mc_source, fd, EPOLLIN, on_announcement, NULL);
	if (r < 0) {
		close(fd);
		return r;
	}
	mc_fd = fd;
	r = resync();
	if (r < 0)
		rtnl_watch_stop();
	return r;
}

void rtnl_watch_stop(void)
{
	mc_source = sd_event_source_disable_unref(mc_source);
	if (mc_fd >= 0)
		close(mc_fd);
	mc_fd = -1;
	ifaddr_track(false);
}
