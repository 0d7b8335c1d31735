/* The ISAKMP wire format as data: name tables (payload types, exchanges,
 * notifications, attribute classes) and one field table per structure of
 * RFC 2408 section 3, RFC 2407 section 4.6 and RFC 3947 section 5: each
 * field's size, meaning (kind) and the member of the decoded structure
 * it fills (offsetof). The parser, the emitter and the dump all walk
 * these; nothing else in packet*.c knows a field's offset or size, and
 * no payload's fields are copied by hand. */
#include <stddef.h>
#include <stdlib.h>

#include "daemon/wire/cfg_attrs.h"
#include "daemon/wire/packet-int.h"

const char *enum_lookup(const struct enum_table *t, unsigned value)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->names[i].value == value)
			return t->names[i].name;
	return NULL;
}

/* --- names --- */

static const struct enum_name payload_names_[] = {
	{ PT_NONE, "NONE" }, { PT_SA, "SA" }, { PT_P, "P" }, { PT_T, "T" }, { PT_KE, "KE" },
	{ PT_ID, "ID" }, { PT_CERT, "CERT" }, { PT_CR, "CR" }, { PT_HASH, "HASH" },
	{ PT_SIG, "SIG" }, { PT_NONCE, "NONCE" }, { PT_N, "N" }, { PT_D, "D" },
	{ PT_VID, "VID" }, { PT_ATTR, "ATTR" }, { PT_NATD, "NAT-D" }, { PT_NATOA, "NAT-OA" },
};
static const struct enum_table payload_names = ENUM_TABLE(payload_names_);

const char *payload_type_name(unsigned type)
{
	const char *n = enum_lookup(&payload_names, type);
	if (n)
		return n;
	return type >= ISAKMP_PRIVATE_PAYLOAD_MIN && type <= 255 ? "private use" : "unknown";
}

static const struct enum_name exchange_names_[] = {
	{ XCHG_NONE, "NONE" }, { XCHG_BASE, "Base" }, { XCHG_IDPROT, "Main Mode" },
	{ XCHG_AUTHONLY, "Authentication Only" }, { XCHG_AGGRESSIVE, "Aggressive Mode" },
	{ XCHG_INFO, "Informational" }, { XCHG_TRANSACTION, "Transaction" },
	{ XCHG_QUICK, "Quick Mode" },
	{ XCHG_NEWGROUP, "New Group Mode" },
};
static const struct enum_table exchange_names = ENUM_TABLE(exchange_names_);

const char *exchange_name(unsigned xchg)
{
	const char *n = enum_lookup(&exchange_names, xchg);
	return n ? n : "unknown";
}

static const struct enum_name notify_names_[] = {
	{ N_INVALID_PAYLOAD_TYPE, "INVALID_PAYLOAD_TYPE" },
	{ N_DOI_NOT_SUPPORTED, "DOI_NOT_SUPPORTED" },
	{ N_SITUATION_NOT_SUPPORTED, "SITUATION_NOT_SUPPORTED" },
	{ N_INVALID_COOKIE, "INVALID_COOKIE" },
	{ N_INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION" },
	{ N_INVALID_MINOR_VERSION, "INVALID_MINOR_VERSION" },
	{ N_INVALID_EXCHANGE_TYPE, "INVALID_EXCHANGE_TYPE" },
	{ N_INVALID_FLAGS, "INVALID_FLAGS" },
	{ N_INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID" },
	{ N_INVALID_PROTOCOL_ID, "INVALID_PROTOCOL_ID" },
	{ N_INVALID_SPI, "INVALID_SPI" },
	{ N_INVALID_TRANSFORM_ID, "INVALID_TRANSFORM_ID" },
	{ N_ATTRIBUTES_NOT_SUPPORTED, "ATTRIBUTES_NOT_SUPPORTED" },
	{ N_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN" },
	{ N_BAD_PROPOSAL_SYNTAX, "BAD_PROPOSAL_SYNTAX" },
	{ N_PAYLOAD_MALFORMED, "PAYLOAD_MALFORMED" },
	{ N_INVALID_KEY_INFORMATION, "INVALID_KEY_INFORMATION" },
	{ N_INVALID_ID_INFORMATION, "INVALID_ID_INFORMATION" },
	{ N_INVALID_CERT_ENCODING, "INVALID_CERT_ENCODING" },
	{ N_INVALID_CERTIFICATE, "INVALID_CERTIFICATE" },
	{ N_CERT_TYPE_UNSUPPORTED, "CERT_TYPE_UNSUPPORTED" },
	{ N_INVALID_CERT_AUTHORITY, "INVALID_CERT_AUTHORITY" },
	{ N_INVALID_HASH_INFORMATION, "INVALID_HASH_INFORMATION" },
	{ N_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED" },
	{ N_INVALID_SIGNATURE, "INVALID_SIGNATURE" },
	{ N_ADDRESS_NOTIFICATION, "ADDRESS_NOTIFICATION" },
	{ N_NOTIFY_SA_LIFETIME, "NOTIFY_SA_LIFETIME" },
	{ N_CERTIFICATE_UNAVAILABLE, "CERTIFICATE_UNAVAILABLE" },
	{ N_UNSUPPORTED_EXCHANGE_TYPE, "UNSUPPORTED_EXCHANGE_TYPE" },
	{ N_UNEQUAL_PAYLOAD_LENGTHS, "UNEQUAL_PAYLOAD_LENGTHS" },
	{ N_RESPONDER_LIFETIME, "RESPONDER_LIFETIME" },
	{ N_REPLAY_STATUS, "REPLAY_STATUS" },
	{ N_INITIAL_CONTACT, "INITIAL_CONTACT" },
	{ N_R_U_THERE, "R_U_THERE" },
	{ N_R_U_THERE_ACK, "R_U_THERE_ACK" },
};
static const struct enum_table notify_names = ENUM_TABLE(notify_names_);

const char *notify_type_name(unsigned type)
{
	const char *n = enum_lookup(&notify_names, type);
	return n ? n : "unknown";
}

static const struct enum_name doi_names_[] = { { 0, "ISAKMP" }, { ISAKMP_DOI_IPSEC, "IPSEC" } };
static const struct enum_table doi_names = ENUM_TABLE(doi_names_);

static const struct enum_name protocol_names_[] = {
	{ 0, "none" }, { PROTO_ISAKMP, "ISAKMP" }, { PROTO_IPSEC_AH, "IPSEC_AH" },
	{ PROTO_IPSEC_ESP, "IPSEC_ESP" }, { PROTO_IPCOMP, "IPCOMP" },
};
static const struct enum_table protocol_names = ENUM_TABLE(protocol_names_);

const char *protocol_name(unsigned proto)
{
	const char *n = enum_lookup(&protocol_names, proto);
	return n ? n : "unknown";
}

static const struct enum_name id_type_names_[] = {
	{ ID_TYPE_IPV4_ADDR, "ID_IPV4_ADDR" }, { ID_TYPE_FQDN, "ID_FQDN" },
	{ ID_TYPE_USER_FQDN, "ID_USER_FQDN" }, { ID_TYPE_IPV4_ADDR_SUBNET, "ID_IPV4_ADDR_SUBNET" },
	{ ID_TYPE_IPV6_ADDR, "ID_IPV6_ADDR" }, { ID_TYPE_IPV6_ADDR_SUBNET, "ID_IPV6_ADDR_SUBNET" },
	{ ID_TYPE_IPV4_ADDR_RANGE, "ID_IPV4_ADDR_RANGE" },
	{ ID_TYPE_IPV6_ADDR_RANGE, "ID_IPV6_ADDR_RANGE" },
	{ ID_TYPE_DER_ASN1_DN, "ID_DER_ASN1_DN" }, { ID_TYPE_DER_ASN1_GN, "ID_DER_ASN1_GN" },
	{ ID_TYPE_KEY_ID, "ID_KEY_ID" },
};
static const struct enum_table id_type_names = ENUM_TABLE(id_type_names_);

/* RFC 2408 3.9 */
static const struct enum_name cert_encoding_names_[] = {
	{ 0, "NONE" }, { 1, "PKCS #7 wrapped X.509" }, { 2, "PGP" }, { 3, "DNS signed key" },
	{ 4, "X.509 signature" }, { 5, "X.509 key exchange" }, { 6, "Kerberos token" },
	{ 7, "CRL" }, { 8, "ARL" }, { 9, "SPKI" }, { 10, "X.509 attribute" },
	{ 11, "raw RSA key" },
};
static const struct enum_table cert_encoding_names = ENUM_TABLE(cert_encoding_names_);

/* --- SA attributes: classes and the values worth naming --- */

static const struct enum_name oakley_attr_names_[] = {
	{ OAKLEY_ENCRYPTION_ALGORITHM, "Encryption-Algorithm" },
	{ OAKLEY_HASH_ALGORITHM, "Hash-Algorithm" },
	{ OAKLEY_AUTHENTICATION_METHOD, "Authentication-Method" },
	{ OAKLEY_GROUP_DESCRIPTION, "Group-Description" },
	{ OAKLEY_LIFE_TYPE, "Life-Type" }, { OAKLEY_LIFE_DURATION, "Life-Duration" },
	{ OAKLEY_KEY_LENGTH, "Key-Length" },
};
static const struct enum_table oakley_attr_names = ENUM_TABLE(oakley_attr_names_);

static const struct enum_name ipsec_attr_names_[] = {
	{ IPSEC_SA_LIFE_TYPE, "SA-Life-Type" }, { IPSEC_SA_LIFE_DURATION, "SA-Life-Duration" },
	{ IPSEC_GROUP_DESCRIPTION, "Group-Description" },
	{ IPSEC_ENCAPSULATION_MODE, "Encapsulation-Mode" },
	{ IPSEC_AUTH_ALGORITHM, "Authentication-Algorithm" }, { IPSEC_KEY_LENGTH, "Key-Length" },
};
static const struct enum_table ipsec_attr_names = ENUM_TABLE(ipsec_attr_names_);

const char *sa_attr_name(uint8_t protocol, uint16_t type)
{
	return enum_lookup(protocol == PROTO_ISAKMP ? &oakley_attr_names : &ipsec_attr_names, type);
}

static const struct enum_name oakley_enc_names_[] = {
	{ 1, "DES-CBC" }, { 5, "3DES-CBC" }, { 7, "AES-CBC" },
};
static const struct enum_name oakley_hash_names_[] = {
	{ 1, "MD5" }, { 2, "SHA" }, { 4, "SHA2-256" }, { 5, "SHA2-384" }, { 6, "SHA2-512" },
};
static const struct enum_name oakley_auth_names_[] = {
	{ OAKLEY_PRESHARED_KEY, "Pre-shared key" }, { OAKLEY_RSA_SIG, "RSA signatures" },
};
static const struct enum_name group_names_[] = {
	{ 1, "MODP768" }, { 2, "MODP1024" }, { 5, "MODP1536" }, { 14, "MODP2048" },
	{ 15, "MODP3072" }, { 16, "MODP4096" }, { 17, "MODP6144" }, { 18, "MODP8192" },
	{ 19, "ECP256" }, { 20, "ECP384" }, { 21, "ECP521" },
};
static const struct enum_name life_type_names_[] = {
	{ 1, "seconds" }, { 2, "kilobytes" },
};
static const struct enum_name encap_names_[] = {
	{ ENCAP_TUNNEL, "Tunnel" }, { ENCAP_TRANSPORT, "Transport" },
	{ ENCAP_UDP_TUNNEL, "UDP-Encapsulated-Tunnel" },
	{ ENCAP_UDP_TRANSPORT, "UDP-Encapsulated-Transport" },
};
static const struct enum_name ipsec_auth_names_[] = {
	{ 1, "HMAC-MD5" }, { 2, "HMAC-SHA" }, { 5, "HMAC-SHA2-256" }, { 6, "HMAC-SHA2-384" },
	{ 7, "HMAC-SHA2-512" },
};
static const struct enum_table oakley_enc_names = ENUM_TABLE(oakley_enc_names_);
static const struct enum_table oakley_hash_names = ENUM_TABLE(oakley_hash_names_);
static const struct enum_table oakley_auth_names = ENUM_TABLE(oakley_auth_names_);
static const struct enum_table group_names = ENUM_TABLE(group_names_);
static const struct enum_table life_type_names = ENUM_TABLE(life_type_names_);
static const struct enum_table encap_names = ENUM_TABLE(encap_names_);
static const struct enum_table ipsec_auth_names = ENUM_TABLE(ipsec_auth_names_);

const struct enum_table *sa_attr_values(uint8_t protocol, uint16_t type)
{
	if (protocol == PROTO_ISAKMP) {
		switch (type) {
		case OAKLEY_ENCRYPTION_ALGORITHM: return &oakley_enc_names;
		case OAKLEY_HASH_ALGORITHM: return &oakley_hash_names;
		case OAKLEY_AUTHENTICATION_METHOD: return &oakley_auth_names;
		case OAKLEY_GROUP_DESCRIPTION: return &group_names;
		case OAKLEY_LIFE_TYPE: return &life_type_names;
		}
		return NULL;
	}
	switch (type) {
	case IPSEC_SA_LIFE_TYPE: return &life_type_names;
	case IPSEC_GROUP_DESCRIPTION: return &group_names;
	case IPSEC_ENCAPSULATION_MODE: return &encap_names;
	case IPSEC_AUTH_ALGORITHM: return &ipsec_auth_names;
	}
	return NULL;
}

/* --- structures --- */

/* storage: "static" for the payload bodies only this file walks, empty
 * for the structures packet.c and packet-sa.c use directly */
#define DESC(storage, var, title, data, spi, ...) \
	static const struct field var##_fields[] = { __VA_ARGS__ }; \
	storage const struct struct_desc var = { title, var##_fields, \
		sizeof(var##_fields) / sizeof(var##_fields[0]), data, spi }

/* offsetof(type, member), refused at compile time unless the member is
 * exactly as wide as the field it decodes */
#define AT(type, member, size) \
	(uint16_t)(offsetof(type, member) + \
		   0 * sizeof(char[sizeof(((type *)0)->member) == (size) ? 1 : -1]))
/* a field of size bytes decoded into type.member */
#define INTO(name, size, kind, names, type, member) { name, size, kind, names, AT(type, member, size) }
/* a field that decodes into nothing */
#define ONLY(name, size, kind, names) { name, size, kind, names, NO_TARGET }
#define PL struct payload

/* RFC 2408 3.1 */
DESC(, isakmp_hdr_desc, "ISAKMP header", NULL, NO_TARGET,
	INTO("initiator cookie", 8, FK_COOKIE, NULL, struct isakmp_hdr, icookie),
	INTO("responder cookie", 8, FK_COOKIE, NULL, struct isakmp_hdr, rcookie),
	INTO("next payload type", 1, FK_NP, &payload_names, struct isakmp_hdr, np),
	INTO("ISAKMP version", 1, FK_HEX, NULL, struct isakmp_hdr, version),
	INTO("exchange type", 1, FK_ENUM, &exchange_names, struct isakmp_hdr, xchg),
	INTO("flags", 1, FK_HEX, NULL, struct isakmp_hdr, flags),
	INTO("message ID", 4, FK_HEX, NULL, struct isakmp_hdr, msgid),
	INTO("length", 4, FK_LENGTH, NULL, struct isakmp_hdr, length));

/* RFC 2408 3.2: the start of every payload, proposals and transforms too */
DESC(, generic_hdr_desc, "generic payload header", NULL, NO_TARGET,
	INTO("next payload type", 1, FK_NP, &payload_names, struct generic_hdr, np),
	INTO("reserved", 1, FK_RESERVED, NULL, struct generic_hdr, reserved),
	INTO("length", 2, FK_LENGTH, NULL, struct generic_hdr, length));

/* RFC 2408 3.4 with the IPsec DOI's 4-byte situation (RFC 2407 4.6.1);
 * decoded into struct sa_payload by packet-sa.c */
DESC(static, sa_desc, "Security Association Payload", "proposals", NO_TARGET,
	INTO("DOI", 4, FK_ENUM, &doi_names, struct sa_payload, doi),
	INTO("situation", 4, FK_HEX, NULL, struct sa_payload, situation));

/* RFC 2408 3.5; the SPI is copied into sa_proposal.spi[] by packet-sa.c */
DESC(, proposal_desc, "Proposal Payload", "SPI", NO_TARGET,
	INTO("proposal number", 1, FK_INT, NULL, struct sa_proposal, number),
	INTO("protocol ID", 1, FK_ENUM, &protocol_names, struct sa_proposal, protocol),
	INTO("SPI size", 1, FK_SPI_SIZE, NULL, struct sa_proposal, spi_size),
	ONLY("number of transforms", 1, FK_COUNT, NULL));

/* RFC 2408 3.6 */
DESC(, transform_desc, "Transform Payload", "attributes", NO_TARGET,
	INTO("transform number", 1, FK_INT, NULL, struct sa_transform, number),
	INTO("transform ID", 1, FK_INT, NULL, struct sa_transform, id),
	ONLY("reserved", 2, FK_RESERVED, NULL));

/* RFC 2408 3.3: the AF bit decides what the second field is (packet-sa.c) */
DESC(, attribute_desc, "Data Attribute", "value", NO_TARGET,
	[ATTR_TYPE] = ONLY("AF + type", 2, FK_HEX, NULL),
	[ATTR_VALUE] = ONLY("value / length", 2, FK_INT, NULL));

/* RFC 2408 3.7 */
DESC(static, ke_desc, "Key Exchange Payload", "key exchange data", NO_TARGET);

/* RFC 2407 4.6.2 */
DESC(static, id_desc, "Identification Payload", "identification data", NO_TARGET,
	INTO("ID type", 1, FK_ENUM, &id_type_names, PL, u.id.id_type),
	INTO("protocol ID", 1, FK_INT, NULL, PL, u.id.protocol),
	INTO("port", 2, FK_INT, NULL, PL, u.id.port));

/* RFC 2408 3.9, 3.10 */
DESC(static, cert_desc, "Certificate Payload", "certificate data", NO_TARGET,
	INTO("cert encoding", 1, FK_ENUM, &cert_encoding_names, PL, u.cert.encoding));
DESC(static, cr_desc, "Certificate Request Payload", "certificate authority", NO_TARGET,
	INTO("cert type", 1, FK_ENUM, &cert_encoding_names, PL, u.cert.encoding));

/* RFC 2408 3.11-3.13 */
DESC(static, hash_desc, "Hash Payload", "hash data", NO_TARGET);
DESC(static, sig_desc, "Signature Payload", "signature data", NO_TARGET);
DESC(static, nonce_desc, "Nonce Payload", "nonce data", NO_TARGET);

/* RFC 2408 3.14: the SPI, then the notification data */
DESC(static, n_desc, "Notification Payload", "SPI + notification data", offsetof(PL, u.n.spi),
	INTO("DOI", 4, FK_ENUM, &doi_names, PL, u.n.doi),
	INTO("protocol ID", 1, FK_ENUM, &protocol_names, PL, u.n.protocol),
	INTO("SPI size", 1, FK_SPI_SIZE, NULL, PL, u.n.spi_size),
	INTO("notify message type", 2, FK_ENUM, &notify_names, PL, u.n.type));

/* RFC 2408 3.15: nothing but SPIs */
DESC(static, d_desc, "Delete Payload", "SPIs", offsetof(PL, u.d.spis),
	INTO("DOI", 4, FK_ENUM, &doi_names, PL, u.d.doi),
	INTO("protocol ID", 1, FK_ENUM, &protocol_names, PL, u.d.protocol),
	INTO("SPI size", 1, FK_SPI_SIZE, NULL, PL, u.d.spi_size),
	INTO("number of SPIs", 2, FK_COUNT, NULL, PL, u.d.n_spis));

/* RFC 2408 3.16 */
DESC(static, vid_desc, "Vendor ID Payload", "vendor ID", NO_TARGET);

/* draft-ietf-ipsec-isakmp-mode-cfg-05 3.2: the attributes are checked
 * by attr_check (cfg_attrs.c) */
static const struct enum_name cfg_type_names_[] = {
	{ CFG_REQUEST, "ISAKMP_CFG_REQUEST" }, { CFG_REPLY, "ISAKMP_CFG_REPLY" },
	{ CFG_SET, "ISAKMP_CFG_SET" }, { CFG_ACK, "ISAKMP_CFG_ACK" },
};
static const struct enum_table cfg_type_names = ENUM_TABLE(cfg_type_names_);
DESC(static, attr_desc, "Attribute Payload", "attributes", NO_TARGET,
	INTO("type", 1, FK_ENUM, &cfg_type_names, PL, u.attr.type),
	ONLY("reserved", 1, FK_RESERVED, NULL),
	INTO("identifier", 2, FK_INT, NULL, PL, u.attr.identifier));

/* RFC 3947 3.2, 5.2 */
DESC(static, natd_desc, "NAT-D Payload", "hash of address and port", NO_TARGET);
DESC(static, natoa_desc, "NAT-OA Payload", "original address", NO_TARGET,
	INTO("ID type", 1, FK_ENUM, &id_type_names, PL, u.natoa.id_type),
	ONLY("reserved", 3, FK_RESERVED, NULL));

#define FAIL(code, ...) do { *notify = (code); why_set(why, why_len, __VA_ARGS__); return -1; } while (0)

/* --- what the fields cannot say --- */

static int sa_check(struct payload *p, unsigned *notify, char *why, size_t why_len)
{
	p->sa = malloc(sizeof(*p->sa));
	if (!p->sa)
		FAIL(N_PAYLOAD_MALFORMED, "out of memory for an SA payload");
	return sa_parse(p->body, p->body_len, p->sa, notify, why, why_len);
}

static int n_check(struct payload *p, unsigned *notify, char *why, size_t why_len)
{
	if (p->u.n.spi_size > p->data_len)
		FAIL(N_PAYLOAD_MALFORMED, "Notification payload: SPI size %u but only %zu bytes follow",
		     p->u.n.spi_size, p->data_len);
	return 0;
}

static int d_check(struct payload *p, unsigned *notify, char *why, size_t why_len)
{
	if (p->u.d.spi_size == 0 || p->u.d.n_spis == 0)
		FAIL(N_PAYLOAD_MALFORMED, "Delete payload without SPIs (size %u, count %u)",
		     p->u.d.spi_size, p->u.d.n_spis);
	if ((size_t)p->u.d.spi_size * p->u.d.n_spis != p->data_len)
		FAIL(N_PAYLOAD_MALFORMED, "Delete payload: %u SPIs of %u bytes do not fill its %zu bytes",
		     p->u.d.n_spis, p->u.d.spi_size, p->data_len);
	return 0;
}

static int attr_check(struct payload *p, unsigned *notify, char *why, size_t why_len)
{
	struct cfg_attrs attrs;
	if (cfg_attrs_parse(p->body, p->body_len, &attrs, why, why_len) < 0) {
		*notify = N_PAYLOAD_MALFORMED;
		return -1;
	}
	return 0;
}

static int natoa_check(struct payload *p, unsigned *notify, char *why, size_t why_len)
{
	if (!(p->u.natoa.id_type == ID_TYPE_IPV4_ADDR && p->data_len == 4) &&
	    !(p->u.natoa.id_type == ID_TYPE_IPV6_ADDR && p->data_len == 16))
		FAIL(N_PAYLOAD_MALFORMED, "NAT-OA payload: ID type %u with %zu address bytes",
		     p->u.natoa.id_type, p->data_len);
	return 0;
}

/* The payloads of a message. Data bounds: RFC 2409 5 (nonces of 8 to 256
 * bytes); the others must not be empty, except VID and CR (a CR without
 * an authority asks for any) and N (a notification without data). */
static const struct payload_desc payload_descs[] = {
	{ PT_SA, &sa_desc, true, 8, SIZE_MAX, sa_check },
	{ PT_KE, &ke_desc, false, 1, SIZE_MAX, NULL },
	{ PT_ID, &id_desc, false, 1, SIZE_MAX, NULL },
	{ PT_CERT, &cert_desc, false, 1, SIZE_MAX, NULL },
	{ PT_CR, &cr_desc, false, 0, SIZE_MAX, NULL },
	{ PT_HASH, &hash_desc, false, 1, SIZE_MAX, NULL },
	{ PT_SIG, &sig_desc, false, 1, SIZE_MAX, NULL },
	{ PT_NONCE, &nonce_desc, false, 8, 256, NULL },
	{ PT_N, &n_desc, false, 0, SIZE_MAX, n_check },
	{ PT_D, &d_desc, false, 1, SIZE_MAX, d_check },
	{ PT_VID, &vid_desc, false, 0, SIZE_MAX, NULL },
	{ PT_ATTR, &attr_desc, false, 0, SIZE_MAX, attr_check },
	{ PT_NATD, &natd_desc, false, 1, SIZE_MAX, NULL },
	{ PT_NATOA, &natoa_desc, false, 4, 16, natoa_check },
};

const struct payload_desc *payload_desc_get(unsigned type)
{
	for (size_t i = 0; i < sizeof(payload_descs) / sizeof(payload_descs[0]); i++)
		if (payload_descs[i].type == type)
			return &payload_descs[i];
	return NULL;
}
