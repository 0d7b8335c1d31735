/* Known vendor IDs and the capability each announces (vendor.h). */
#include "daemon/ikev1/vendor.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/log.h"
#include "daemon/wire/packet.h"

struct known_vid {
	const char *name;
	unsigned cap;
	uint8_t len;          /* bytes compared: a prefix when the VID carries flags after it */
	const uint8_t bytes[16];
};

/* The values are MD5 hashes of the names (RFC 3706 and RFC 3947 list
 * them); the FRAGMENTATION VID is followed by 4 flag bytes in
 * strongSwan's version and compared by prefix. */
static const struct known_vid known_vids[] = {
	{ "RFC 3706 DPD", VID_DPD, 16,
	  { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 } },
	{ "RFC 3947 NAT-T", VID_NATT_RFC, 16,
	  { 0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f } },
	{ "draft-ietf-ipsec-nat-t-ike-02\\n", VID_NATT_DRAFT, 16,
	  { 0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f } },
	{ "draft-ietf-ipsec-nat-t-ike-02", VID_NATT_DRAFT, 16,
	  { 0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48 } },
	{ "draft-ietf-ipsec-nat-t-ike-03", VID_NATT_DRAFT, 16,
	  { 0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17, 0x9d, 0x92, 0x15, 0x52, 0x9d, 0x56 } },
	{ "XAUTH", VID_XAUTH, 8,
	  { 0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12 } },
	{ "Cisco Unity", VID_UNITY, 16,
	  { 0x12, 0xf5, 0xf2, 0x8c, 0x45, 0x71, 0x68, 0xa9, 0x70, 0x2d, 0x9f, 0xe2, 0x74, 0xcc, 0x01, 0x00 } },
	{ "FRAGMENTATION", VID_FRAGMENTATION, 16,
	  { 0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3 } },
};

static const struct known_vid *vid_by_cap(unsigned cap)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_vids); i++)
		if (known_vids[i].cap == cap)
			return &known_vids[i];
	return NULL;
}

static void emit_known(struct pbuf *pb, unsigned cap)
{
	const struct known_vid *v = vid_by_cap(cap);
	if (v)
		emit_vid(pb, v->bytes, v->len);
}

void vid_emit_ours(struct pbuf *pb, unsigned peer_caps, int initiator)
{
	emit_known(pb, VID_DPD);
	/* encapsulation=no: no NAT traversal, so it is not announced */
	bool natt_off = pb->conn && pb->conn->cfg.encapsulation == ENCAPS_NO;
	if ((initiator || (peer_caps & VID_NATT_RFC)) && !natt_off)
		emit_known(pb, VID_NATT_RFC);
	const struct end *me = pb->conn && pb->conn->this >= 0 ? END_THIS(pb->conn) : NULL;
	if (me && (me->xauthclient || me->xauthserver))
		emit_known(pb, VID_XAUTH);
	if (me && (me->modecfgclient || me->modecfgserver))
		emit_known(pb, VID_UNITY);
}

unsigned vid_scan(const struct msg_digest *md, const struct connection *c)
{
	unsigned caps = 0;
	for (size_t i = 0; i < md->n_payloads; i++) {
		const struct payload *p = &md->payloads[i];
		if (p->type != PT_VID)
			continue;
		const struct known_vid *hit = NULL;
		for (size_t k = 0; k < ARRAY_SIZE(known_vids) && !hit; k++)
			if (p->data_len >= known_vids[k].len &&
			    memcmp(p->data, known_vids[k].bytes, known_vids[k].len) == 0)
				hit = &known_vids[k];
		if (hit) {
			caps |= hit->cap;
			DBG(DBG_CONTROL, c, "received Vendor ID payload [%s]", hit->name);
		} else {
			DBG(DBG_CONTROL, c, "ignoring unknown Vendor ID payload (%zu bytes)", p->data_len);
		}
	}
	return caps;
}

const char *vid_caps_str(unsigned caps, char *out, size_t len)
{
	static const struct { unsigned cap; const char *name; } names[] = {
		{ VID_DPD, "DPD" }, { VID_NATT_RFC, "RFC 3947 NAT-T" }, { VID_NATT_DRAFT, "draft NAT-T" },
		{ VID_XAUTH, "XAUTH" }, { VID_FRAGMENTATION, "FRAGMENTATION" }, { VID_UNITY, "Cisco Unity" },
	};
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names) && k < len; i++)
		if (caps & names[i].cap)
			k += (size_t)snprintf(out + k, len - k, "%s%s", k ? ", " : "", names[i].name);
	if (!k)
		snprintf(out, len, "none");
	return out;
}
