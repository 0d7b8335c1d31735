/* The ISAKMP wire format (RFC 2408, RFC 2407, RFC 3947): declarative field
 * tables drive parsing, emitting and the debug dump (debug classes
 * "parsing" and "emitting"). Every length read from the wire is checked
 * before use; a malformed message is refused with a sentence saying what
 * was wrong. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/sa.h"

#define ISAKMP_HDR_LEN 28
#define ISAKMP_VERSION 0x10          /* 1.0 */
#define ISAKMP_MAX_PAYLOADS 32
/* RFC 2408 3.1: payload types 128-255 are reserved for private use.
 * Policy: an unknown payload type below 128 refuses the message with
 * INVALID_PAYLOAD_TYPE (RFC 2408 5.2); a private-use one is recorded
 * (type, raw bytes) and otherwise skipped, since a private agreement we
 * are not part of cannot be an error of the peer's (draft NAT-T 130/131
 * are such). IKEv1 has no "critical" bit: the generic header's RESERVED
 * byte is sent as 0 and ignored on receipt (shown in the dump). */
#define ISAKMP_PRIVATE_PAYLOAD_MIN 128

enum isakmp_payload_type {
	PT_NONE = 0, PT_SA = 1, PT_P = 2, PT_T = 3, PT_KE = 4, PT_ID = 5, PT_CERT = 6,
	PT_CR = 7, PT_HASH = 8, PT_SIG = 9, PT_NONCE = 10, PT_N = 11, PT_D = 12, PT_VID = 13,
	PT_ATTR = 14,                /* draft-ietf-ipsec-isakmp-mode-cfg-05 3.2 */
	PT_NATD = 20, PT_NATOA = 21,
	PT__MAX = 256
};
const char *payload_type_name(unsigned type);

enum isakmp_exchange {
	XCHG_NONE = 0, XCHG_BASE = 1, XCHG_IDPROT = 2 /* Main Mode */, XCHG_AUTHONLY = 3,
	XCHG_AGGRESSIVE = 4, XCHG_INFO = 5,
	XCHG_TRANSACTION = 6,        /* draft-ietf-ipsec-isakmp-mode-cfg-05 3.1 */
	XCHG_QUICK = 32, XCHG_NEWGROUP = 33,
};
const char *exchange_name(unsigned xchg);

enum { ISAKMP_FLAG_ENCRYPTION = 0x01, ISAKMP_FLAG_COMMIT = 0x02, ISAKMP_FLAG_AUTHONLY = 0x04 };

/* Notify message types (RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706) */
enum notify_type {
	N_INVALID_PAYLOAD_TYPE = 1, N_DOI_NOT_SUPPORTED = 2, N_SITUATION_NOT_SUPPORTED = 3,
	N_INVALID_COOKIE = 4, N_INVALID_MAJOR_VERSION = 5, N_INVALID_MINOR_VERSION = 6,
	N_INVALID_EXCHANGE_TYPE = 7, N_INVALID_FLAGS = 8, N_INVALID_MESSAGE_ID = 9,
	N_INVALID_PROTOCOL_ID = 10, N_INVALID_SPI = 11, N_INVALID_TRANSFORM_ID = 12,
	N_ATTRIBUTES_NOT_SUPPORTED = 13, N_NO_PROPOSAL_CHOSEN = 14, N_BAD_PROPOSAL_SYNTAX = 15,
	N_PAYLOAD_MALFORMED = 16, N_INVALID_KEY_INFORMATION = 17, N_INVALID_ID_INFORMATION = 18,
	N_INVALID_CERT_ENCODING = 19, N_INVALID_CERTIFICATE = 20, N_CERT_TYPE_UNSUPPORTED = 21,
	N_INVALID_CERT_AUTHORITY = 22, N_INVALID_HASH_INFORMATION = 23,
	N_AUTHENTICATION_FAILED = 24, N_INVALID_SIGNATURE = 25, N_ADDRESS_NOTIFICATION = 26,
	N_NOTIFY_SA_LIFETIME = 27, N_CERTIFICATE_UNAVAILABLE = 28,
	N_UNSUPPORTED_EXCHANGE_TYPE = 29, N_UNEQUAL_PAYLOAD_LENGTHS = 30,
	N_RESPONDER_LIFETIME = 24576, N_REPLAY_STATUS = 24577, N_INITIAL_CONTACT = 24578,
	N_R_U_THERE = 36136, N_R_U_THERE_ACK = 36137,
};
const char *notify_type_name(unsigned type);

/* ID types (RFC 2407 4.6.2.1) */
enum {
	ID_TYPE_IPV4_ADDR = 1, ID_TYPE_FQDN = 2, ID_TYPE_USER_FQDN = 3, ID_TYPE_IPV4_ADDR_SUBNET = 4,
	ID_TYPE_IPV6_ADDR = 5, ID_TYPE_IPV6_ADDR_SUBNET = 6, ID_TYPE_IPV4_ADDR_RANGE = 7,
	ID_TYPE_IPV6_ADDR_RANGE = 8, ID_TYPE_DER_ASN1_DN = 9, ID_TYPE_DER_ASN1_GN = 10,
	ID_TYPE_KEY_ID = 11,
};

struct isakmp_hdr {
	uint8_t icookie[8];
	uint8_t rcookie[8];
	uint8_t np;                  /* first payload */
	uint8_t version;
	uint8_t xchg;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
};

/* One payload of a received message: fixed fields decoded, variable
 * data pointing into the message buffer (valid while it lives). */
struct payload {
	uint8_t type;
	const uint8_t *raw;          /* generic header included */
	size_t raw_len;
	const uint8_t *body;         /* after the generic header (what HASHes cover) */
	size_t body_len;
	const uint8_t *data;         /* the variable part after the fixed fields */
	size_t data_len;
	union {
		struct { uint8_t id_type, protocol; uint16_t port; } id;            /* PT_ID */
		struct { uint8_t encoding; } cert;                                   /* PT_CERT, PT_CR */
		struct { uint32_t doi; uint8_t protocol, spi_size; uint16_t type;
			 const uint8_t *spi; } n;                                    /* PT_N */
		struct { uint32_t doi; uint8_t protocol, spi_size; uint16_t n_spis;
			 const uint8_t *spis; } d;                                   /* PT_D */
		struct { uint8_t id_type; } natoa;                                   /* PT_NATOA */
		struct { uint8_t type; uint16_t identifier; } attr;                  /* PT_ATTR */
	} u;
	struct sa_payload *sa;       /* PT_SA: parsed (owned by the digest) */
};

/* A parsed message. */
struct msg_digest {
	struct isakmp_hdr hdr;
	size_t n_payloads;
	struct payload payloads[ISAKMP_MAX_PAYLOADS];
	/* index+1 of the first payload of each type, 0 = absent */
	uint8_t first[PT__MAX];
};

/* An emitted message whose body was just encrypted in place: sets the
 * header's encryption flag and its length to total. */
void isakmp_hdr_mark_encrypted(uint8_t *msg, size_t total);
/* Header only: checks version, exchange-independent sanity and that the
 * header length matches len (trailing bytes refused). */
int isakmp_hdr_parse(const uint8_t *buf, size_t len, struct isakmp_hdr *hdr,
		     char *why, size_t why_len);
/* The same, also saying which notification the RFC calls for:
 * datagram shorter than a header: PAYLOAD_MALFORMED; major version not 1:
 * INVALID_MAJOR_VERSION; minor version not 0 (RFC 2408 3.1: "SHOULD never
 * accept packets with a minor version number larger than its own"):
 * INVALID_MINOR_VERSION; exchange type not one of enum isakmp_exchange:
 * INVALID_EXCHANGE_TYPE; flag bits other than E/C/A: INVALID_FLAGS;
 * initiator cookie all zero: INVALID_COOKIE; length field != len:
 * UNEQUAL_PAYLOAD_LENGTHS. */
int isakmp_hdr_check(const uint8_t *buf, size_t len, struct isakmp_hdr *hdr,
		     unsigned *notify, char *why, size_t why_len);
/* Payload chain starting with type np over buf[len] (the body after the
 * header, decrypted if it was encrypted). allow_trailing: bytes after
 * the last payload are padding (encrypted messages). md->hdr must be set
 * by the caller. Returns 0, or -1 with why[] and *notify set to the
 * notification the RFC calls for (INVALID_PAYLOAD_TYPE,
 * PAYLOAD_MALFORMED, BAD_PROPOSAL_SYNTAX, ...). */
int payloads_parse(struct msg_digest *md, uint8_t np, const uint8_t *buf, size_t len,
		   bool allow_trailing, unsigned *notify, char *why, size_t why_len);
void msg_digest_release(struct msg_digest *md);   /* frees the parsed SAs */
const struct payload *md_first(const struct msg_digest *md, uint8_t type);
size_t md_count(const struct msg_digest *md, uint8_t type);

/* Name of an SA attribute type (ISAKMP protocol: OAKLEY classes, else
 * the IPsec DOI's), NULL when unknown. */
const char *sa_attr_name(uint8_t protocol, uint16_t type);

/* --- emitting ---
 * Attributes: TV (AF bit set, 2-byte value) when the value is <= 0xffff,
 * otherwise TLV with a 4-byte value, as strongSwan and libreswan do for
 * Life-Duration. Proposals carry "next payload" 2 when another proposal
 * follows, transforms 3 when another transform follows, else 0.
 * Each emit_* writes "| " lines at DBG_EMITTING for pb->conn. */
struct pbuf {
	uint8_t *data;
	size_t len, cap;
	size_t np_offset;            /* where the next payload type goes */
	size_t open_payload;         /* start of the payload being written, or SIZE_MAX */
	const struct connection *conn;   /* for debug output; NULL = global debugging */
	bool has_header;             /* emit_hdr was called: pbuf_finish sets its length */
	bool failed;                 /* out of memory or a payload over 65535 bytes:
					pbuf_finish returns 0 */
};
void pbuf_init(struct pbuf *pb);
void pbuf_free(struct pbuf *pb);
/* Header with length 0 (filled by pbuf_finish). */
void emit_hdr(struct pbuf *pb, const struct isakmp_hdr *hdr);
/* Payloads: each chains itself to the previous one's np and returns the
 * offset of its generic header (the body starts 4 bytes later), so the
 * engine can hash SAi_b, IDii_b and the like from what it sent. */
size_t emit_sa(struct pbuf *pb, const struct sa_payload *sa);
size_t emit_ke(struct pbuf *pb, const uint8_t *data, size_t len);
size_t emit_nonce(struct pbuf *pb, const uint8_t *data, size_t len);
size_t emit_id(struct pbuf *pb, uint8_t id_type, uint8_t protocol, uint16_t port,
	     const uint8_t *data, size_t len);
/* The body of that ID payload (fixed fields, then data), as HASH_I and
 * HASH_R cover it, into out[cap]: its length, 0 when it does not fit. */
size_t id_body_encode(uint8_t id_type, uint8_t protocol, uint16_t port, const uint8_t *data, size_t len,
		      uint8_t *out, size_t cap);
size_t emit_hash(struct pbuf *pb, const uint8_t *data, size_t len);
size_t emit_sig(struct pbuf *pb, const uint8_t *data, size_t len);
size_t emit_cert(struct pbuf *pb, uint8_t type, uint8_t encoding, const uint8_t *data, size_t len);
size_t emit_vid(struct pbuf *pb, const uint8_t *data, size_t len);
size_t emit_natd(struct pbuf *pb, const uint8_t *data, size_t len);
size_t emit_notify(struct pbuf *pb, uint32_t doi, uint8_t protocol, uint16_t type,
		 const uint8_t *spi, uint8_t spi_size, const uint8_t *data, size_t len);
size_t emit_delete(struct pbuf *pb, uint32_t doi, uint8_t protocol, uint8_t spi_size,
		 const uint8_t *spis, uint16_t n_spis);
/* ATTR (draft-ietf-ipsec-isakmp-mode-cfg-05 3.2): type (enum
 * cfg_msg_type), identifier and the encoded attributes (cfg_attrs.h);
 * the dump shows each attribute, passwords masked. */
size_t emit_attr(struct pbuf *pb, uint8_t type, uint16_t identifier, const uint8_t *attrs, size_t len);
/* NAT-OA (RFC 3947 5.2): ID type and address bytes. */
size_t emit_natoa(struct pbuf *pb, uint8_t id_type, const uint8_t *addr, size_t len);
/* A bare list of data attributes (the data of RESPONDER-LIFETIME): parse
 * into out->attrs (-1 with why[] when malformed), or encode t's attributes
 * (TV/TLV as emit_sa does) into out[cap]: the length, 0 when it does not
 * fit. */
int sa_attrs_parse(uint8_t protocol, const uint8_t *buf, size_t len, struct sa_transform *out, char *why,
		   size_t why_len);
size_t sa_attrs_encode(uint8_t protocol, const struct sa_transform *t, uint8_t *out, size_t cap);
/* The body (after the generic header) of the payload emitted at off,
 * *len its length; NULL when there is no whole payload there. HASH_I/R
 * cover SAi_b, Quick Mode and Informational HASHes what follows theirs. */
uint8_t *pbuf_payload_body(struct pbuf *pb, size_t off, size_t *len);
/* Sets the header length field. Returns the total length, 0 when
 * pb->failed (nothing usable was built). */
size_t pbuf_finish(struct pbuf *pb);
/* Offset of the first byte after the header (start of the body), for
 * HASH computations over "the rest of the message". */
#define PBUF_BODY ISAKMP_HDR_LEN

/* Debug dump of a received message ("| " lines naming every field),
 * through the log at DBG_PARSING for connection c: the header, then the
 * payloads (unless encrypted_body: then only the body's length). It
 * never fails: a malformed part is named and the dump stops there. What
 * we send is dumped field by field by emit_* at DBG_EMITTING. */
struct connection;
void packet_dump(const struct connection *c, const char *what, const uint8_t *buf, size_t len,
		 bool encrypted_body);
