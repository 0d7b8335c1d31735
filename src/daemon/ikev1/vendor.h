/* Vendor ID payloads (RFC 2408 3.16): the capabilities a peer announces
 * with a well-known hash, and the ones we announce. One table maps each
 * known VID to a capability bit; everything else is logged at debug
 * level and ignored. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct pbuf;
struct msg_digest;
struct connection;

enum vid_cap {
	VID_DPD          = 1u << 0,   /* RFC 3706 Dead Peer Detection */
	VID_NATT_RFC     = 1u << 1,   /* RFC 3947 NAT traversal */
	VID_NATT_DRAFT   = 1u << 2,   /* draft-ietf-ipsec-nat-t-ike-02/02\n/03 */
	VID_XAUTH        = 1u << 3,
	VID_FRAGMENTATION= 1u << 4,
	VID_UNITY        = 1u << 5,   /* Cisco Unity: Mode Config with the Unity attributes */
};

/* Our VIDs for the first message of each side: DPD always (we answer
 * R-U-THERE whether or not we send them), RFC 3947 NAT-T when we
 * initiate or when the initiator announced it (RFC 3947 3.1), XAUTH
 * when our end is an XAUTH client or server, Cisco Unity when it is a
 * Mode Config client or server (pb->conn's ends say). */
void vid_emit_ours(struct pbuf *pb, unsigned peer_caps, int initiator);
/* The capabilities the VIDs in md announce (OR of enum vid_cap). */
unsigned vid_scan(const struct msg_digest *md, const struct connection *c);
/* "DPD, RFC 3947 NAT-T" for log lines; out must hold 80 bytes. */
const char *vid_caps_str(unsigned caps, char *out, size_t len);
