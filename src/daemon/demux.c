#include "daemon/demux.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "common/ifaddr.h"
#include "common/util.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/log_limit.h"
#include "daemon/rxload.h"
#include "daemon/wire/natt_framing.h"
#include "klips/kernel.h"
#include "klips/udp_encap.h"

#define IKE_MAX_PACKET 65536

static uint16_t ike_port = 500;
static uint16_t natt_port = NATT_PORT_DEFAULT;
static bool listening;
static struct iface *ifaces;
static packet_handler_fn packet_handler;

static const char *const *only_ifaces;
static unsigned n_only_ifaces;

void demux_set_port(uint16_t port) { ike_port = port; }
void demux_set_natt_port(uint16_t port) { natt_port = port; }
uint16_t demux_natt_port(void) { return natt_port; }
void demux_set_interfaces(const char *const *names, unsigned n)
{
	only_ifaces = names;
	n_only_ifaces = n;
}

static bool interface_wanted(const char *name)
{
	for (unsigned i = 0; i < n_only_ifaces; i++)
		if (streq(only_ifaces[i], name))
			return true;
	return n_only_ifaces == 0;
}
uint16_t demux_port(void) { return ike_port; }
bool demux_listening(void) { return listening; }
struct iface *demux_interfaces(void) { return ifaces; }

struct iface *demux_iface_for(const ip_address *addr, uint16_t port)
{
	for (struct iface *ifp = ifaces; ifp; ifp = ifp->next)
		if (ifp->fd >= 0 && ifp->port == port && ip_equal(&ifp->addr, addr))
			return ifp;
	return NULL;
}
void demux_set_packet_handler(packet_handler_fn fn) { packet_handler = fn; }
packet_handler_fn demux_packet_handler(void) { return packet_handler; }

/* How long the datagram waited in its socket: the kernel's receive time
 * (SO_TIMESTAMPNS, CLOCK_REALTIME) against now; 0 when there is none or
 * the clock stepped back. */
static uint64_t queued_usec(const struct timespec *rx)
{
	struct timespec now;
	if (!rx->tv_sec || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return 0;
	int64_t d = ((int64_t)now.tv_sec - rx->tv_sec) * 1000000 + (now.tv_nsec - rx->tv_nsec) / 1000;
	return d > 0 ? (uint64_t)d : 0;
}

/* One datagram: its length, the sender, and for overload control
 * (rxload.h) how long it queued and how many the kernel dropped on
 * this socket since the previous one. */
static ssize_t receive(struct iface *ifp, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
		       uint64_t *queued, uint32_t *new_drops)
{
	union {
		char b[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_name = from, .msg_namelen = sizeof(*from), .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control.b, .msg_controllen = sizeof(control.b) };
	ssize_t n = recvmsg(ifp->fd, &mh, MSG_DONTWAIT);
	*queued = 0;
	*new_drops = 0;
	if (n < 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMPNS && cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec rx;
			memcpy(&rx, CMSG_DATA(cm), sizeof(rx));
			*queued = queued_usec(&rx);
		} else if (cm->cmsg_type == SO_RXQ_OVFL && cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			uint32_t drops;
			memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
			*new_drops = drops - ifp->kernel_drops;   /* the counter wraps */
			ifp->kernel_drops = drops;
		}
	}
	return n;
}

static int on_packet(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct iface *ifp = userdata;
	static uint8_t buf[IKE_MAX_PACKET];
	struct sockaddr_storage from;
	uint64_t queued;
	uint32_t new_drops;
	(void)s, (void)fd, (void)revents;
	ssize_t n = receive(ifp, buf, sizeof(buf), &from, &queued, &new_drops);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "receiving on %s failed: %s", ifp->name, strerror(errno));
		return 0;
	}
	rxload_datagram(queued, new_drops);
	ip_address sender;
	uint16_t port;
	ip_from_sockaddr((struct sockaddr *)&from, &sender, &port);
	const uint8_t *msg = buf;
	size_t len = (size_t)n;
	if (ifp->natt) {
		char ab[IP_STR_MAX];
		size_t skip = 0;
		switch (natt_classify(buf, len, &skip)) {
		case NATT_RX_KEEPALIVE:
			DBG(DBG_RAW, NULL, "NAT-T keepalive from %s:%u", ip_str(&sender, ab), port);
			return 0;
		case NATT_RX_ESP:
			/* the kernel did not take it: no SA, or no UDP_ENCAP here */
			DBG(DBG_RAW, NULL, "dropping %zu-byte non-IKE datagram (ESP) from %s:%u on the NAT-T port",
			    len, ip_str(&sender, ab), port);
			return 0;
		case NATT_RX_IKE:
			msg += skip;
			len -= skip;
			break;
		}
	}
	if (packet_handler) {
		packet_handler(ifp, msg, len, &sender, port);
	} else {
		char ab[IP_STR_MAX];
		DBG(DBG_RAW, NULL, "ignoring %zd-byte packet from %s:%u on %s: no IKE engine",
		    n, ip_str(&sender, ab), port, ifp->name);
	}
	return 0;
}

/* What overload control (rxload.h) needs of an IKE socket: room for a
 * burst (above the sysctl limit as root, SO_RCVBUFFORCE; else as much of
 * it as rmem_max allows), each datagram's receive time, and the kernel's
 * count of datagrams it dropped for want of room. None is essential:
 * without them the checks that use them never fire. */
static void overload_options(int fd, const struct iface *ifp)
{
	int size = RXLOAD_SOCKET_RCVBUF, on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		DBG(DBG_CONTROL, NULL, "receive buffer of %s port %u: %s", ifp->name, ifp->port, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) < 0)
		DBG(DBG_CONTROL, NULL, "receive time or drop count of %s port %u: %s (overload control sees less)",
		    ifp->name, ifp->port, strerror(errno));
}

static int open_socket(struct iface *ifp, sd_event *event)
{
	struct sockaddr_storage ss;
	socklen_t len = ip_to_sockaddr(&ifp->addr, ifp->port, &ss);
	int fd = socket(ifp->addr.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ifp->addr.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	kernel_bypass_socket(fd, ifp->addr.family);   /* IKE is never caught by an eroute */
	overload_options(fd, ifp);
	if (ifp->natt) {
		/* the kernel decapsulates ESP-in-UDP itself and passes IKE (with
		 * the marker) through; without it ESP reaches us and is dropped */
		int r = kernel_udp_encap_socket(fd);
		if (r < 0)
			DBG(DBG_CONTROL, NULL, "UDP_ENCAP on %s port %u: %s (ESP in UDP not decapsulated by the kernel)",
			    ifp->name, ifp->port, strerror(-r));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = sd_event_add_io(event, &ifp->source, fd, EPOLLIN, on_packet, ifp);
	if (r < 0) {
		close(fd);
		return r;
	}
	ifp->fd = fd;
	return 0;
}

static void close_iface(struct iface *ifp)
{
	char ab[IP_STR_MAX];
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_INTERFACE, "shutting down interface %s %s:%u",
	     ifp->name, ip_str(&ifp->addr, ab), ifp->port);
	sd_event_source_disable_unref(ifp->source);
	if (ifp->fd >= 0)
		close(ifp->fd);
	free(ifp);
}

/* One socket for (address, port): kept from *old when it is there, else
 * opened; appended to *kept. True when one is open. */
static bool listen_on(const char *name, const ip_address *addr, uint16_t port, bool natt,
		      struct iface **old, struct iface **kept, sd_event *event)
{
	struct iface **pp, *match = NULL;
	for (pp = old; *pp; pp = &(*pp)->next) {
		if (ip_equal(&(*pp)->addr, addr) && (*pp)->port == port && streq((*pp)->name, name)) {
			match = *pp;
			*pp = match->next;
			break;
		}
	}
	/* the same address may show twice (aliases): one socket */
	for (struct iface *k = *kept; k && !match; k = k->next)
		if (ip_equal(&k->addr, addr) && k->port == port)
			return false;
	if (!match) {
		char ab[IP_STR_MAX];
		match = xcalloc(1, sizeof(*match));
		snprintf(match->name, sizeof(match->name), "%s", name);
		match->addr = *addr;
		match->port = port;
		match->natt = natt;
		match->fd = -1;
		int r = open_socket(match, event);
		if (r < 0) {
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot listen on %s %s:%u: %s", match->name, ip_str(addr, ab), port,
			     strerror(-r));
			free(match);
			return false;
		}
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_INTERFACE, "adding interface %s %s:%u%s", match->name,
		     ip_str(addr, ab), port, natt ? " (NAT-T)" : "");
	}
	match->next = *kept;
	*kept = match;
	return true;
}

int demux_listen(sd_event *event)
{
	rxload_set_event(event);
	log_limit_set_event(event);
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		return -errno;

	/* mark: keep what is still there, add what is new, drop the rest */
	struct iface *old = ifaces, *kept = NULL;
	ifaces = NULL;
	int opened = 0;
	uint16_t natt = natt_port;
	for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		ip_address addr;
		if (!ifaddr_usable(ifa, &addr) || !interface_wanted(ifa->ifa_name))
			continue;
		opened += listen_on(ifa->ifa_name, &addr, ike_port, false, &old, &kept, event);
		if (natt && natt != ike_port)
			opened += listen_on(ifa->ifa_name, &addr, natt, true, &old, &kept, event);
	}
	freeifaddrs(list);
	while (old) {
		struct iface *gone = old;
		old = old->next;
		close_iface(gone);
	}
	ifaces = kept;
	listening = true;
	return opened;
}

void demux_unlisten(void)
{
	while (ifaces) {
		struct iface *ifp = ifaces;
		ifaces = ifp->next;
		close_iface(ifp);
	}
	listening = false;
}
