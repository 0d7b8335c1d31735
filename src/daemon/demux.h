/* UDP sockets on the public interfaces: Listen finds every configured
 * address (IPv4 and IPv6, not link-local) and opens one socket per address
 * on the IKE port, and one on the NAT-T port (4500 unless --natt-port says
 * otherwise or 0); a repeated Listen notices added and removed addresses.
 *
 * On the NAT-T port every IKE message follows the 4-byte non-ESP marker
 * (RFC 3948 2.2, wire/natt_framing.h). On Linux the socket is set to
 * UDP_ENCAP_ESPINUDP (klips/udp_encap.h), so the kernel takes ESP (no
 * marker) and keepalives (one 0xFF byte) itself; whatever of those still
 * reaches us is dropped quietly. The marker is
 * stripped before the engine sees the message; ifp->port tells the engine
 * which port it came in on. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/ip.h"

struct sd_event;

struct iface {
	char name[32];
	ip_address addr;
	uint16_t port;
	bool natt;                   /* the NAT-T port: datagrams carry the non-ESP marker */
	int fd;
	uint32_t kernel_drops;       /* SO_RXQ_OVFL: datagrams the kernel dropped on fd so far */
	struct sd_event_source *source;
	struct iface *next;
};

void demux_set_port(uint16_t port);
/* --natt-port: the second port of every interface (0 = none; the default,
 * NATT_PORT_DEFAULT, is in options.h). */
void demux_set_natt_port(uint16_t port);
uint16_t demux_natt_port(void);
/* --interface: only listen on these (NULL/0 = all) */
void demux_set_interfaces(const char *const *names, unsigned n);
uint16_t demux_port(void);
/* (Re)scan interfaces; returns the number of sockets open, or -errno. */
int demux_listen(struct sd_event *event);
void demux_unlisten(void);
bool demux_listening(void);
struct iface *demux_interfaces(void);
/* The socket bound to exactly this address and port, or NULL. */
struct iface *demux_iface_for(const ip_address *addr, uint16_t port);
/* (local_address(), which orientation uses: common/ifaddr.h) */

/* Handler the engine installs for incoming IKE packets. */
typedef void (*packet_handler_fn)(struct iface *ifp, const uint8_t *buf, size_t len,
				  const ip_address *from, uint16_t from_port);
void demux_set_packet_handler(packet_handler_fn fn);
/* The handler installed (tests feed datagrams through it without sockets). */
packet_handler_fn demux_packet_handler(void);
