/* NAT traversal for IKEv1 (RFC 3947, with RFC 3948 UDP encapsulation of
 * ESP): NAT-D detection in Main Mode, the float to the NAT-T port, the
 * 4-byte non-ESP marker, UDP-encapsulated modes in Quick Mode, NAT-OA
 * and keepalives. The engine calls these at fixed points:
 *
 *   MI2/MR2 built      natt_emit_natd()      two NAT-D payloads (peer, us)
 *   MR2/MI2 received   natt_check_natd()     who is behind a NAT
 *   MI3 about to go    natt_float()          initiator moves to the NAT-T port
 *   authenticated msg  natt_follow()         the peer's (new) port, on 4500
 *   ISAKMP SA up       natt_established()    status text, keepalive timer
 *   state freed        natt_state_free()     timer gone
 *   datagram out/in    natt_frame()/natt_classify()  the non-ESP marker
 *                      (wire/natt_framing.h)
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ip.h"
#include "daemon/wire/natt_framing.h"

struct alg;
struct pbuf;
struct state;
struct v1_state;
struct v1_msg;
struct kernel_ipsec_sa;


/* What NAT-D found, on the ISAKMP SA (v1_state.nat). */
enum natt_flags {
	NATT_NEGOTIATED = 1u << 0,   /* both announced RFC 3947: NAT-D payloads were exchanged */
	NATT_US_BEHIND  = 1u << 1,   /* our NAT-D hash did not match: a NAT rewrites our address */
	NATT_PEER_BEHIND= 1u << 2,   /* none of the peer's hashes matched where it came from */
	NATT_FORCED     = 1u << 3,   /* encapsulation=yes: we pretended to be behind a NAT */
};
#define NATT_DETECTED (NATT_US_BEHIND | NATT_PEER_BEHIND)

/* --- daemon settings (--natt-port, --keep-alive; defaults in options.h) --- */
/* The NAT-T port is demux's (demux_set_natt_port(), it opens the sockets);
 * these read and set it there. */
void natt_set_port(uint16_t port);        /* 0: no NAT-T port is opened */
uint16_t natt_port(void);
void natt_set_keepalive(unsigned seconds);
unsigned natt_keepalive(void);

/* (encapsulation=auto|yes|no is parsed by conn_options.c; the engine reads
 * connection_config.encapsulation) */

/* --- NAT-D (RFC 3947 3.2) --- */
/* HASH(CKY-I | CKY-R | IP | Port) with the phase-1 hash; 0 or -1. */
int natt_hash(const struct alg *hash, const uint8_t icookie[8], const uint8_t rcookie[8],
	      const ip_address *addr, uint16_t port, uint8_t *out, size_t *out_len);
/* Both sides announced RFC 3947 and the connection does not say
 * encapsulation=no. */
bool natt_wanted(const struct v1_state *s);
/* Emits NAT-D for the peer (the packet's destination), then for us. */
void natt_emit_natd(struct v1_state *s, struct pbuf *pb);
/* Compares the NAT-D payloads of m with what we see; sets s->nat. */
void natt_check_natd(struct v1_state *s, const struct v1_msg *m);

/* --- ports --- */
/* Initiator before MI3: when a NAT was found, send from and to the NAT-T
 * port from now on. */
void natt_float(struct v1_state *s);
/* An authenticated message arrived on the NAT-T port: the state (and its
 * ISAKMP SA) answers from that port to the port it came from. */
void natt_follow(struct v1_state *s, const struct v1_msg *m);
/* Phase 2 may use the UDP-encapsulated modes. */
bool natt_udp_encap(const struct v1_state *isakmp);

/* --- datagrams --- */
/* Datagrams from or to the NAT-T port carry the marker. */
bool natt_needs_marker(uint16_t local_port, uint16_t peer_port);
/* (the marker itself, natt_frame() and natt_classify(): wire/natt_framing.h) */

/* --- Quick Mode encapsulation modes (RFC 3947 3.3, draft values) --- */
/* The Encapsulation Mode we propose. */
unsigned natt_encap_mode(bool tunnel, bool udp);
/* (a wire value back to ENCAP_*: ipsec_encap_normalize, policy/proposals.h) */

/* NAT-OA (RFC 3947 5.2): in transport mode over UDP both Quick Mode
 * messages carry the initiator's and the responder's original address.
 * Emits them when want; reading keeps the peer's in s->peer_natoa (false
 * with m->notify set when they are malformed). */
void natt_emit_natoa(const struct v1_state *s, struct pbuf *pb, bool want);
bool natt_read_natoa(struct v1_state *s, struct v1_msg *m);

/* --- phase 1 done, status, kernel, cleanup --- */
void natt_established(struct v1_state *s);
/* "NAT-T: peer behind NAT, port 4500" into out ("" without NAT-T). */
const char *natt_status(const struct v1_state *s, char *out, size_t len);
/* The UDP encapsulation of one direction of an IPsec SA. */
void natt_kernel_sa(const struct v1_state *s, bool inbound, struct kernel_ipsec_sa *sa);
void natt_state_free(struct v1_state *s);
