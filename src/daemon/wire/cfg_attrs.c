/* The ATTR payload's attributes as data (cfg_attrs.h): one row per
 * attribute type of draft-ietf-ipsec-isakmp-mode-cfg-05 3.3,
 * draft-beaulieu-ike-xauth-02 6.1 and Cisco Unity, walked by the parser,
 * the builder's callers and the dump alike. */
#include "daemon/wire/cfg_attrs.h"

#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/packet-int.h"

#define TV(t, n, k) { t, n, true, k, 0, 0 }
#define TLV(t, n, k, l, step) { t, n, false, k, l, step }

/* len: the one non-zero length a value may have; step: any multiple of
 * it (then len is 0); both 0: any length */
static const struct cfg_attr_desc cfg_attr_descs[] = {
	TLV(CFG_INTERNAL_IP4_ADDRESS, "INTERNAL_IP4_ADDRESS", CV_IP4, 4, 0),
	TLV(CFG_INTERNAL_IP4_NETMASK, "INTERNAL_IP4_NETMASK", CV_IP4, 4, 0),
	TLV(CFG_INTERNAL_IP4_DNS, "INTERNAL_IP4_DNS", CV_IP4, 4, 0),
	TLV(CFG_INTERNAL_IP4_NBNS, "INTERNAL_IP4_NBNS", CV_IP4, 4, 0),
	TLV(CFG_INTERNAL_ADDRESS_EXPIRY, "INTERNAL_ADDRESS_EXPIRY", CV_SECONDS, 4, 0),
	TLV(CFG_INTERNAL_IP4_DHCP, "INTERNAL_IP4_DHCP", CV_IP4, 4, 0),
	TLV(CFG_APPLICATION_VERSION, "APPLICATION_VERSION", CV_TEXT, 0, 0),
	TLV(CFG_INTERNAL_IP6_ADDRESS, "INTERNAL_IP6_ADDRESS", CV_IP6_PREFIX, 17, 0),
	TLV(CFG_INTERNAL_IP6_NETMASK, "INTERNAL_IP6_NETMASK", CV_IP6, 16, 0),
	TLV(CFG_INTERNAL_IP6_DNS, "INTERNAL_IP6_DNS", CV_IP6, 16, 0),
	TLV(CFG_INTERNAL_IP6_NBNS, "INTERNAL_IP6_NBNS", CV_IP6, 16, 0),
	TLV(CFG_INTERNAL_IP6_DHCP, "INTERNAL_IP6_DHCP", CV_IP6, 16, 0),
	TLV(CFG_INTERNAL_IP4_SUBNET, "INTERNAL_IP4_SUBNET", CV_BYTES, 8, 0),
	TLV(CFG_SUPPORTED_ATTRIBUTES, "SUPPORTED_ATTRIBUTES", CV_TYPES, 0, 2),
	TLV(CFG_INTERNAL_IP6_SUBNET, "INTERNAL_IP6_SUBNET", CV_BYTES, 17, 0),
	TV(XAUTH_TYPE, "XAUTH_TYPE", CV_INT),
	TLV(XAUTH_USER_NAME, "XAUTH_USER_NAME", CV_TEXT, 0, 0),
	TLV(XAUTH_USER_PASSWORD, "XAUTH_USER_PASSWORD", CV_SECRET, 0, 0),
	TLV(XAUTH_PASSCODE, "XAUTH_PASSCODE", CV_SECRET, 0, 0),
	TLV(XAUTH_MESSAGE, "XAUTH_MESSAGE", CV_TEXT, 0, 0),
	TLV(XAUTH_CHALLENGE, "XAUTH_CHALLENGE", CV_BYTES, 0, 0),
	TLV(XAUTH_DOMAIN, "XAUTH_DOMAIN", CV_TEXT, 0, 0),
	TV(XAUTH_STATUS, "XAUTH_STATUS", CV_INT),
	TLV(XAUTH_NEXT_PIN, "XAUTH_NEXT_PIN", CV_SECRET, 0, 0),
	TLV(XAUTH_ANSWER, "XAUTH_ANSWER", CV_SECRET, 0, 0),
	TLV(UNITY_BANNER, "UNITY_BANNER", CV_TEXT, 0, 0),
	TV(UNITY_SAVE_PASSWD, "UNITY_SAVE_PASSWD", CV_INT),
	TLV(UNITY_DEF_DOMAIN, "UNITY_DEF_DOMAIN", CV_TEXT, 0, 0),
	TLV(UNITY_SPLIT_DNS, "UNITY_SPLIT_DNS", CV_TEXT, 0, 0),
	TLV(UNITY_SPLIT_INCLUDE, "UNITY_SPLIT_INCLUDE", CV_SPLIT, 0, UNITY_SPLIT_ENTRY_LEN),
	TV(UNITY_NATT_PORT, "UNITY_NATT_PORT", CV_INT),
	TLV(UNITY_LOCAL_LAN, "UNITY_LOCAL_LAN", CV_SPLIT, 0, UNITY_SPLIT_ENTRY_LEN),
	TV(UNITY_PFS, "UNITY_PFS", CV_INT),
	TLV(UNITY_FW_TYPE, "UNITY_FW_TYPE", CV_BYTES, 0, 0),
	TLV(UNITY_BACKUP_SERVERS, "UNITY_BACKUP_SERVERS", CV_TEXT, 0, 0),
	TLV(UNITY_DDNS_HOSTNAME, "UNITY_DDNS_HOSTNAME", CV_TEXT, 0, 0),
};

const struct cfg_attr_desc *cfg_attr_desc_get(uint16_t type)
{
	for (size_t i = 0; i < sizeof(cfg_attr_descs) / sizeof(cfg_attr_descs[0]); i++)
		if (cfg_attr_descs[i].type == type)
			return &cfg_attr_descs[i];
	return NULL;
}

const char *cfg_attr_name(uint16_t type)
{
	const struct cfg_attr_desc *d = cfg_attr_desc_get(type);
	return d ? d->name : "unknown";
}

const char *cfg_msg_type_name(unsigned type)
{
	static const char *const names[] = {
		[CFG_REQUEST] = "ISAKMP_CFG_REQUEST", [CFG_REPLY] = "ISAKMP_CFG_REPLY",
		[CFG_SET] = "ISAKMP_CFG_SET", [CFG_ACK] = "ISAKMP_CFG_ACK",
	};
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

/* ATTR payload fixed part: type, reserved, identifier (draft 3.2) */
#define CFG_FIXED_LEN 4
#define CFG_ATTR_HDR_LEN 4

static bool length_fits(const struct cfg_attr_desc *d, size_t len)
{
	if (len == 0)
		return true;          /* a REQUEST asks with empty values */
	if (d->kind == CV_SPLIT && len == UNITY_SPLIT_SHORT_LEN)
		return true;          /* strongSwan's split_include pool attribute */
	if (d->len_step)
		return len % d->len_step == 0;
	return d->len == 0 || len == d->len;
}

/* libreswan pads its ATTR payload to a multiple of 4 bytes with zeros
 * (inside the payload length): fewer zero bytes than an attribute header
 * end the list. */
static bool attr_padding(const uint8_t *buf, size_t len)
{
	if (len >= CFG_ATTR_HDR_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* One attribute at buf[len]: its type, format and value; *used its size.
 * -1 with why[] when it does not fit. */
static int attr_next(const uint8_t *buf, size_t len, struct cfg_attr *a, size_t *used, char *why,
		     size_t why_len)
{
	if (len < CFG_ATTR_HDR_LEN) {
		why_set(why, why_len, "attribute header truncated (%zu of %d bytes)", len, CFG_ATTR_HDR_LEN);
		return -1;
	}
	uint16_t raw = (uint16_t)get_be(buf, 2);
	bool tv = raw & ATTR_AF;
	a->type = raw & ~ATTR_AF;
	a->desc = cfg_attr_desc_get(a->type);
	if (tv) {
		a->value = (uint16_t)get_be(buf + 2, 2);
		a->data = NULL;
		a->len = 0;
		*used = CFG_ATTR_HDR_LEN;
	} else {
		size_t vlen = get_be(buf + 2, 2);
		if (vlen > len - CFG_ATTR_HDR_LEN) {
			why_set(why, why_len, "attribute %s (%u) says %zu bytes but only %zu follow",
				cfg_attr_name(a->type), a->type, vlen, len - CFG_ATTR_HDR_LEN);
			return -1;
		}
		a->value = 0;
		a->data = buf + CFG_ATTR_HDR_LEN;
		a->len = vlen;
		*used = CFG_ATTR_HDR_LEN + vlen;
	}
	if (!a->desc)
		return 0;
	/* strongSwan acknowledges XAUTH_STATUS as an empty TLV: like the
	 * empty values of a REQUEST, it names the attribute without a value */
	if (a->desc->tv && !tv && a->len == 0)
		return 0;
	if (a->desc->tv != tv) {
		why_set(why, why_len, "attribute %s must be %s", a->desc->name,
			a->desc->tv ? "TV (basic)" : "TLV (variable)");
		return -1;
	}
	if (!tv && !length_fits(a->desc, a->len)) {
		why_set(why, why_len, "attribute %s with a value of %zu bytes", a->desc->name, a->len);
		return -1;
	}
	return 0;
}

int cfg_attrs_parse(const uint8_t *body, size_t len, struct cfg_attrs *out, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	if (len < CFG_FIXED_LEN) {
		why_set(why, why_len, "ATTR payload of %zu bytes is shorter than its %d fixed bytes", len,
			CFG_FIXED_LEN);
		return -1;
	}
	out->msg_type = body[0];
	out->identifier = (uint16_t)get_be(body + 2, 2);
	for (size_t off = CFG_FIXED_LEN; off < len && !attr_padding(body + off, len - off);) {
		struct cfg_attr a;
		size_t used;
		if (attr_next(body + off, len - off, &a, &used, why, why_len) < 0)
			return -1;
		off += used;
		if (!a.desc) {
			out->n_unknown++;
			continue;
		}
		if (out->n == CFG_ATTRS_MAX) {
			why_set(why, why_len, "more than %d attributes", CFG_ATTRS_MAX);
			return -1;
		}
		out->attrs[out->n++] = a;
	}
	return 0;
}

const struct cfg_attr *cfg_attrs_find(const struct cfg_attrs *a, uint16_t type)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->attrs[i].type == type)
			return &a->attrs[i];
	return NULL;
}

void cfg_put_tv(struct cfg_builder *b, uint16_t type, uint16_t value)
{
	if (b->len + CFG_ATTR_HDR_LEN > sizeof(b->buf)) {
		b->overflow = true;
		return;
	}
	put_be(b->buf + b->len, ATTR_AF | type, 2);
	put_be(b->buf + b->len + 2, value, 2);
	b->len += CFG_ATTR_HDR_LEN;
}

void cfg_put_tlv(struct cfg_builder *b, uint16_t type, const void *data, size_t len)
{
	if (len > 0xffff || b->len + CFG_ATTR_HDR_LEN + len > sizeof(b->buf)) {
		b->overflow = true;
		return;
	}
	put_be(b->buf + b->len, type & ~ATTR_AF, 2);
	put_be(b->buf + b->len + 2, len, 2);
	if (len)
		memcpy(b->buf + b->len + CFG_ATTR_HDR_LEN, data, len);
	b->len += CFG_ATTR_HDR_LEN + len;
}

static const char *dump_indent(unsigned depth)
{
	static const char spaces[] = "                    ";
	size_t n = depth * 2 < sizeof(spaces) - 1 ? depth * 2 : sizeof(spaces) - 1;
	return spaces + sizeof(spaces) - 1 - n;
}

/* a value as one line: what kind it is says how */
static void value_str(const struct cfg_attr *a, char *out, size_t cap)
{
	out[0] = '\0';
	if (a->desc && a->desc->kind == CV_SECRET) {
		snprintf(out, cap, "(masked, %zu bytes)", a->len);
		return;
	}
	if (!a->data) {
		snprintf(out, cap, "%u", a->value);
		return;
	}
	if (a->len == 0) {
		snprintf(out, cap, "(empty)");
		return;
	}
	unsigned kind = a->desc ? a->desc->kind : CV_BYTES;
	switch (kind) {
	case CV_IP4:
		snprintf(out, cap, "%u.%u.%u.%u", a->data[0], a->data[1], a->data[2], a->data[3]);
		return;
	case CV_SECONDS:
		snprintf(out, cap, "%llu", (unsigned long long)get_be(a->data, 4));
		return;
	case CV_TEXT: {
		size_t k = 0;
		for (size_t i = 0; i < a->len && k + 5 < cap; i++) {
			uint8_t ch = a->data[i];
			k += (size_t)snprintf(out + k, cap - k, ch >= 0x20 && ch < 0x7f && ch != '\\' ? "%c" : "\\x%02x",
					      ch);
		}
		return;
	}
	default: {
		size_t k = 0;
		for (size_t i = 0; i < a->len && k + 3 < cap; i++)
			k += (size_t)snprintf(out + k, cap - k, "%02x", a->data[i]);
		return;
	}
	}
}

void cfg_attrs_dump(const struct connection *c, unsigned cls, unsigned depth, const uint8_t *buf,
		    size_t len)
{
	if (!debugging(cls, c))
		return;
	for (size_t off = 0; off < len && !attr_padding(buf + off, len - off);) {
		struct cfg_attr a;
		size_t used;
		char why[160], val[200];
		if (attr_next(buf + off, len - off, &a, &used, why, sizeof(why)) < 0) {
			DBG(cls, c, "%smalformed: %s", dump_indent(depth), why);
			return;
		}
		value_str(&a, val, sizeof(val));
		DBG(cls, c, "%s%s (%u, %s): %s", dump_indent(depth), cfg_attr_name(a.type), a.type,
		    a.data ? "TLV" : "TV", val);
		off += used;
	}
}

size_t cfg_split_include_parse(const uint8_t *data, size_t len, ip_subnet *out, size_t *n, size_t max)
{
	size_t step = len == UNITY_SPLIT_SHORT_LEN ? UNITY_SPLIT_SHORT_LEN : UNITY_SPLIT_ENTRY_LEN;
	size_t dropped = 0;
	for (size_t off = 0; off + UNITY_SPLIT_SHORT_LEN <= len && *n < max; off += step) {
		const uint8_t *e = data + off;
		uint32_t mask = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
		unsigned prefix = 0;
		while (prefix < 32 && (mask & (0x80000000u >> prefix)))
			prefix++;
		if (prefix < 32 && (mask << prefix) != 0) {
			dropped++;
			continue;
		}
		uint32_t net = ((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3]) & mask;
		ip_subnet *sn = &out[(*n)++];
		*sn = (ip_subnet){ .addr = { .family = AF_INET }, .prefix = prefix };
		sn->addr.u.bytes[0] = (uint8_t)(net >> 24);
		sn->addr.u.bytes[1] = (uint8_t)(net >> 16);
		sn->addr.u.bytes[2] = (uint8_t)(net >> 8);
		sn->addr.u.bytes[3] = (uint8_t)net;
	}
	return dropped;
}
