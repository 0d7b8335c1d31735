/* The ATTR payload of the transaction exchange (ISAKMP payload 14,
 * draft-ietf-ipsec-isakmp-mode-cfg-05 3.2) and its data attributes:
 * Mode Config (draft section 3.3), XAUTH (draft-beaulieu-ike-xauth-02
 * 6.1) and the Cisco Unity ones strongSwan and libreswan send. One table
 * names every known attribute with its format (TV or TLV) and what its
 * value holds; the parser checks each attribute against it, skips types
 * it does not know, and never reads past the payload. Passwords are
 * shown as "(masked)" in every dump. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ip.h"

/* ATTR payload "Type" (draft 3.2) */
enum cfg_msg_type {
	CFG_REQUEST = 1, CFG_REPLY = 2, CFG_SET = 3, CFG_ACK = 4,
};
const char *cfg_msg_type_name(unsigned type);

/* Attribute types */
enum cfg_attr_type {
	CFG_INTERNAL_IP4_ADDRESS = 1, CFG_INTERNAL_IP4_NETMASK = 2, CFG_INTERNAL_IP4_DNS = 3,
	CFG_INTERNAL_IP4_NBNS = 4, CFG_INTERNAL_ADDRESS_EXPIRY = 5, CFG_INTERNAL_IP4_DHCP = 6,
	CFG_APPLICATION_VERSION = 7, CFG_INTERNAL_IP6_ADDRESS = 8, CFG_INTERNAL_IP6_NETMASK = 9,
	CFG_INTERNAL_IP6_DNS = 10, CFG_INTERNAL_IP6_NBNS = 11, CFG_INTERNAL_IP6_DHCP = 12,
	CFG_INTERNAL_IP4_SUBNET = 13, CFG_SUPPORTED_ATTRIBUTES = 14, CFG_INTERNAL_IP6_SUBNET = 15,
	XAUTH_TYPE = 16520, XAUTH_USER_NAME = 16521, XAUTH_USER_PASSWORD = 16522,
	XAUTH_PASSCODE = 16523, XAUTH_MESSAGE = 16524, XAUTH_CHALLENGE = 16525,
	XAUTH_DOMAIN = 16526, XAUTH_STATUS = 16527, XAUTH_NEXT_PIN = 16528, XAUTH_ANSWER = 16529,
	UNITY_BANNER = 28672, UNITY_SAVE_PASSWD = 28673, UNITY_DEF_DOMAIN = 28674,
	UNITY_SPLIT_DNS = 28675, UNITY_SPLIT_INCLUDE = 28676, UNITY_NATT_PORT = 28677,
	UNITY_LOCAL_LAN = 28678, UNITY_PFS = 28679, UNITY_FW_TYPE = 28680,
	UNITY_BACKUP_SERVERS = 28681, UNITY_DDNS_HOSTNAME = 28682,
};
enum { XAUTH_TYPE_GENERIC = 0 };
enum { XAUTH_STATUS_FAIL = 0, XAUTH_STATUS_OK = 1 };
/* one Unity split include entry: address, mask, then protocol and ports
 * (sent as zero: any) */
#define UNITY_SPLIT_ENTRY_LEN 14
/* one subnet as address and mask only, without protocol and ports: what
 * strongSwan 5.9 sends for a split_include attribute of its pool */
#define UNITY_SPLIT_SHORT_LEN 8

/* What a value holds, for the checks and the dump. */
enum cfg_value_kind {
	CV_INT,          /* TV: a 16-bit number */
	CV_IP4,          /* 4 bytes */
	CV_IP6_PREFIX,   /* 16 address bytes and a prefix length (INTERNAL_IP6_ADDRESS) */
	CV_IP6,          /* 16 bytes */
	CV_TEXT,         /* printable text, not NUL terminated */
	CV_SECRET,       /* a password: never shown */
	CV_BYTES,        /* opaque */
	CV_TYPES,        /* a list of 16-bit attribute types */
	CV_SPLIT,        /* Unity split include: 14-byte entries */
	CV_SECONDS,      /* 4-byte number */
};

struct cfg_attr_desc {
	uint16_t type;
	const char *name;
	bool tv;                     /* always TV (Basic); else always TLV (Variable) */
	uint8_t kind;                /* enum cfg_value_kind */
	/* TLV: the lengths a value may have besides 0 (an empty value asks
	 * for one in a REQUEST); len_step > 0: any multiple of it */
	uint16_t len, len_step;
};
/* NULL when the type is unknown */
const struct cfg_attr_desc *cfg_attr_desc_get(uint16_t type);
const char *cfg_attr_name(uint16_t type);

#define CFG_ATTRS_MAX 64
struct cfg_attr {
	const struct cfg_attr_desc *desc;
	uint16_t type;
	uint16_t value;              /* TV */
	const uint8_t *data;         /* TLV: points into the parsed buffer */
	size_t len;
};
struct cfg_attrs {
	uint8_t msg_type;            /* enum cfg_msg_type */
	uint16_t identifier;
	size_t n;
	struct cfg_attr attrs[CFG_ATTRS_MAX];
	size_t n_unknown;            /* attributes of types we do not know: skipped */
};

/* The ATTR payload's body (after the generic header): its type,
 * identifier and attributes. -1 with why[] for a body shorter than its
 * fixed part, a truncated attribute, a known attribute in the wrong
 * format (TV/TLV) or with a length its kind cannot have, or more than
 * CFG_ATTRS_MAX known attributes. */
int cfg_attrs_parse(const uint8_t *body, size_t len, struct cfg_attrs *out, char *why, size_t why_len);
/* The first attribute of that type, NULL when absent. */
const struct cfg_attr *cfg_attrs_find(const struct cfg_attrs *a, uint16_t type);

/* The networks of a UNITY_SPLIT_INCLUDE value data[len] appended to
 * out[*n] (at most max): entries of IPv4 address and netmask (then
 * protocol and ports, ignored), or strongSwan's single 8-byte entry; the
 * address's host bits are cleared. Returns how many entries were dropped
 * because their netmask is not a prefix (and so no subnet). */
size_t cfg_split_include_parse(const uint8_t *data, size_t len, ip_subnet *out, size_t *n, size_t max);

/* Building a list of attributes (the ATTR payload's variable part). */
struct cfg_builder {
	uint8_t buf[2048];
	size_t len;
	bool overflow;
};
void cfg_put_tv(struct cfg_builder *b, uint16_t type, uint16_t value);
void cfg_put_tlv(struct cfg_builder *b, uint16_t type, const void *data, size_t len);

/* "| " lines naming each attribute of buf[len] (the ATTR payload's
 * attributes), passwords masked, at debug class cls for c. */
struct connection;
void cfg_attrs_dump(const struct connection *c, unsigned cls, unsigned depth, const uint8_t *buf,
		    size_t len);
