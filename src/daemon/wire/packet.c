/* ISAKMP messages in and out, driven by the structure tables of
 * packet-tables.c: the header check, the payload chain of a received
 * message, and the growing buffer pluto's messages are emitted into. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/packet-int.h"

void why_set(char *why, size_t why_len, const char *fmt, ...)
{
	if (!why || !why_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* --- the field machinery --- */

uint64_t get_be(const uint8_t *in, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | in[i];
	return v;
}

void put_be(uint8_t *out, uint64_t v, unsigned size)
{
	for (unsigned i = size; i-- > 0; v >>= 8)
		out[i] = (uint8_t)v;
}

size_t desc_fixed_len(const struct struct_desc *d)
{
	size_t n = 0;
	for (unsigned i = 0; i < d->n_fields; i++)
		n += d->fields[i].size;
	return n;
}

bool fields_read(const struct struct_desc *d, const uint8_t *buf, size_t len,
		 struct field_values *fv)
{
	size_t fixed = desc_fixed_len(d);
	memset(fv, 0, sizeof(*fv));
	if (len < fixed)
		return false;
	size_t off = 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		fv->v[i] = get_be(buf + off, d->fields[i].size);
		off += d->fields[i].size;
	}
	fv->data = buf + fixed;
	fv->data_len = len - fixed;
	return true;
}

void fields_write(const struct struct_desc *d, const struct field_values *fv, uint8_t *out)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		put_be(out, fv->v[i], d->fields[i].size);
		out += d->fields[i].size;
	}
}

static const char *indent(unsigned depth)
{
	static const char spaces[] = "                    ";
	size_t n = depth * 2 < sizeof(spaces) - 1 ? depth * 2 : sizeof(spaces) - 1;
	return spaces + sizeof(spaces) - 1 - n;
}

void hex_dump(const struct connection *c, unsigned cls, unsigned depth, const char *name,
	      const uint8_t *data, size_t len)
{
	DBG(cls, c, "%s%s: %zu bytes", indent(depth), name, len);
	/* 16 bytes a line, in groups of four */
	for (size_t off = 0; off < len; off += 16) {
		char line[16 * 3 + 8];
		size_t n = 0;
		for (size_t i = off; i < len && i < off + 16; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x%s", data[i],
					      (i % 4 == 3) ? " " : "");
		DBG(cls, c, "%s   %s", indent(depth), line);
	}
}

void fields_dump(const struct connection *c, unsigned cls, unsigned depth,
		 const struct struct_desc *d, const struct field_values *fv)
{
	if (!debugging(cls, c))
		return;
	DBG(cls, c, "%s%s:", indent(depth), d->name);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const struct field *f = &d->fields[i];
		uint64_t v = fv->v[i];
		const char *name;
		switch (f->kind) {
		case FK_COOKIE:
			DBG(cls, c, "%s   %s: %016llx", indent(depth), f->name, (unsigned long long)v);
			break;
		case FK_HEX:
			DBG(cls, c, "%s   %s: 0x%0*llx", indent(depth), f->name, f->size * 2,
			    (unsigned long long)v);
			break;
		case FK_ENUM:
			name = enum_lookup(f->names, (unsigned)v);
			DBG(cls, c, "%s   %s: %s (%llu)", indent(depth), f->name,
			    name ? name : "unknown", (unsigned long long)v);
			break;
		default:
			DBG(cls, c, "%s   %s: %llu", indent(depth), f->name, (unsigned long long)v);
			break;
		}
	}
}

/* --- the header --- */

static bool cookie_is_zero(const uint8_t *c)
{
	static const uint8_t zero[8];
	return memcmp(c, zero, sizeof(zero)) == 0;
}

#define FAIL(code, ...) do { *notify = (code); why_set(why, why_len, __VA_ARGS__); return -1; } while (0)

int isakmp_hdr_check(const uint8_t *buf, size_t len, struct isakmp_hdr *hdr,
		     unsigned *notify, char *why, size_t why_len)
{
	unsigned dummy;
	struct field_values fv;
	if (!notify)
		notify = &dummy;
	*notify = 0;
	memset(hdr, 0, sizeof(*hdr));
	if (!fields_read(&isakmp_hdr_desc, buf, len, &fv))
		FAIL(N_PAYLOAD_MALFORMED, "message of %zu bytes is shorter than an ISAKMP header (%u)",
		     len, ISAKMP_HDR_LEN);
	memcpy(hdr->icookie, buf, 8);
	memcpy(hdr->rcookie, buf + 8, 8);
	hdr->np = (uint8_t)fv.v[HDR_NP];
	hdr->version = (uint8_t)fv.v[HDR_VERSION];
	hdr->xchg = (uint8_t)fv.v[HDR_XCHG];
	hdr->flags = (uint8_t)fv.v[HDR_FLAGS];
	hdr->msgid = (uint32_t)fv.v[HDR_MSGID];
	hdr->length = (uint32_t)fv.v[HDR_LENGTH];

	if (hdr->version >> 4 != ISAKMP_VERSION >> 4)
		FAIL(N_INVALID_MAJOR_VERSION, "ISAKMP major version %u is not 1", hdr->version >> 4);
	if ((hdr->version & 0x0f) > (ISAKMP_VERSION & 0x0f))
		FAIL(N_INVALID_MINOR_VERSION, "ISAKMP minor version %u is newer than ours (0)",
		     hdr->version & 0x0f);
	if (hdr->xchg == XCHG_NONE || !strcmp(exchange_name(hdr->xchg), "unknown"))
		FAIL(N_INVALID_EXCHANGE_TYPE, "exchange type %u is not an IKEv1 exchange", hdr->xchg);
	if (hdr->flags & ~(unsigned)(ISAKMP_FLAG_ENCRYPTION | ISAKMP_FLAG_COMMIT |
				     ISAKMP_FLAG_AUTHONLY))
		FAIL(N_INVALID_FLAGS, "undefined flag bits set: 0x%02x", hdr->flags);
	if (cookie_is_zero(hdr->icookie))
		FAIL(N_INVALID_COOKIE, "the initiator cookie is zero");
	if (hdr->length != len)
		FAIL(N_UNEQUAL_PAYLOAD_LENGTHS,
		     "the header says the message is %u bytes long, but %zu arrived",
		     hdr->length, len);
	return 0;
}

int isakmp_hdr_parse(const uint8_t *buf, size_t len, struct isakmp_hdr *hdr,
		     char *why, size_t why_len)
{
	return isakmp_hdr_check(buf, len, hdr, NULL, why, why_len);
}

/* --- the payload chain --- */

void msg_digest_release(struct msg_digest *md)
{
	for (size_t i = 0; i < md->n_payloads && i < ISAKMP_MAX_PAYLOADS; i++) {
		free(md->payloads[i].sa);
		md->payloads[i].sa = NULL;
	}
	md->n_payloads = 0;
	memset(md->first, 0, sizeof(md->first));
}

const struct payload *md_first(const struct msg_digest *md, uint8_t type)
{
	return md->first[type] ? &md->payloads[md->first[type] - 1] : NULL;
}

size_t md_count(const struct msg_digest *md, uint8_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < md->n_payloads; i++)
		n += md->payloads[i].type == type;
	return n;
}

/* The payload-specific checks and decoding of one payload's fixed fields;
 * the variable part is already known to be within bounds. */
static int payload_decode(struct payload *p, const struct field_values *fv, unsigned *notify,
			  char *why, size_t why_len)
{
	switch (p->type) {
	case PT_SA:
		p->sa = malloc(sizeof(*p->sa));
		if (!p->sa)
			FAIL(N_PAYLOAD_MALFORMED, "out of memory for an SA payload");
		return sa_parse(p->raw + 4, p->raw_len - 4, p->sa, notify, why, why_len);
	case PT_ID:
		p->u.id.id_type = (uint8_t)fv->v[ID_TYPE];
		p->u.id.protocol = (uint8_t)fv->v[ID_PROTOCOL];
		p->u.id.port = (uint16_t)fv->v[ID_PORT];
		return 0;
	case PT_CERT:
	case PT_CR:
		p->u.cert.encoding = (uint8_t)fv->v[CERT_ENCODING];
		return 0;
	case PT_N:
		p->u.n.doi = (uint32_t)fv->v[N_DOI];
		p->u.n.protocol = (uint8_t)fv->v[N_PROTOCOL];
		p->u.n.spi_size = (uint8_t)fv->v[N_SPI_SIZE];
		p->u.n.type = (uint16_t)fv->v[N_TYPE];
		if (p->u.n.spi_size > p->data_len)
			FAIL(N_PAYLOAD_MALFORMED,
			     "Notification payload: SPI size %u but only %zu bytes follow",
			     p->u.n.spi_size, p->data_len);
		p->u.n.spi = p->data;
		p->data += p->u.n.spi_size;
		p->data_len -= p->u.n.spi_size;
		return 0;
	case PT_D:
		p->u.d.doi = (uint32_t)fv->v[D_DOI];
		p->u.d.protocol = (uint8_t)fv->v[D_PROTOCOL];
		p->u.d.spi_size = (uint8_t)fv->v[D_SPI_SIZE];
		p->u.d.n_spis = (uint16_t)fv->v[D_N_SPIS];
		if (p->u.d.spi_size == 0 || p->u.d.n_spis == 0)
			FAIL(N_PAYLOAD_MALFORMED, "Delete payload without SPIs (size %u, count %u)",
			     p->u.d.spi_size, p->u.d.n_spis);
		if ((size_t)p->u.d.spi_size * p->u.d.n_spis != p->data_len)
			FAIL(N_PAYLOAD_MALFORMED,
			     "Delete payload: %u SPIs of %u bytes do not fill its %zu bytes",
			     p->u.d.n_spis, p->u.d.spi_size, p->data_len);
		p->u.d.spis = p->data;
		return 0;
	case PT_NATOA:
		p->u.natoa.id_type = (uint8_t)fv->v[NATOA_ID_TYPE];
		if (!(p->u.natoa.id_type == ID_TYPE_IPV4_ADDR && p->data_len == 4) &&
		    !(p->u.natoa.id_type == ID_TYPE_IPV6_ADDR && p->data_len == 16))
			FAIL(N_PAYLOAD_MALFORMED, "NAT-OA payload: ID type %u with %zu address bytes",
			     p->u.natoa.id_type, p->data_len);
		return 0;
	}
	return 0;
}

int payload_parse_one(struct payload *p, uint8_t type, const uint8_t *buf, size_t len,
			     uint8_t *np, unsigned *notify, char *why, size_t why_len)
{
	struct field_values gen, body;
	memset(p, 0, sizeof(*p));
	p->type = type;
	if (!fields_read(&generic_hdr_desc, buf, len, &gen))
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: only %zu bytes left for its 4-byte header",
		     payload_type_name(type), len);
	size_t plen = gen.v[GEN_LENGTH];
	if (plen < 4)
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: length %zu is shorter than its header",
		     payload_type_name(type), plen);
	if (plen > len)
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: length %zu but only %zu bytes left",
		     payload_type_name(type), plen, len);
	*np = (uint8_t)gen.v[GEN_NP];
	p->raw = buf;
	p->raw_len = plen;
	p->data = buf + 4;
	p->data_len = plen - 4;

	const struct payload_desc *pd = payload_desc_get(type);
	if (!pd) {
		if (type >= ISAKMP_PRIVATE_PAYLOAD_MIN)
			return 0;   /* private use: kept raw, skipped (see packet.h) */
		if (type == PT_P || type == PT_T)
			FAIL(N_INVALID_PAYLOAD_TYPE, "%s payload outside an SA payload",
			     payload_type_name(type));
		FAIL(N_INVALID_PAYLOAD_TYPE, "unknown payload type %u", type);
	}
	if (!fields_read(pd->body, p->data, p->data_len, &body))
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: length %zu is shorter than its %zu fixed bytes",
		     payload_type_name(type), plen, 4 + desc_fixed_len(pd->body));
	p->data = body.data;
	p->data_len = body.data_len;
	if (p->data_len < pd->min_data || p->data_len > pd->max_data)
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: %zu bytes of %s (expected %zu to %zu)",
		     payload_type_name(type), p->data_len, pd->body->data_name, pd->min_data,
		     pd->max_data);
	return payload_decode(p, &body, notify, why, why_len);
}

int payloads_parse(struct msg_digest *md, uint8_t np, const uint8_t *buf, size_t len,
		   bool allow_trailing, unsigned *notify, char *why, size_t why_len)
{
	unsigned dummy;
	if (!notify)
		notify = &dummy;
	*notify = 0;
	md->n_payloads = 0;
	memset(md->first, 0, sizeof(md->first));
	size_t off = 0;
	while (np != PT_NONE) {
		if (md->n_payloads == ISAKMP_MAX_PAYLOADS) {
			*notify = N_PAYLOAD_MALFORMED;
			why_set(why, why_len, "more than %d payloads in one message", ISAKMP_MAX_PAYLOADS);
			goto fail;
		}
		struct payload *p = &md->payloads[md->n_payloads];
		uint8_t type = np;
		/* counted first, so a half-parsed SA is freed on failure */
		md->n_payloads++;
		if (payload_parse_one(p, type, buf + off, len - off, &np, notify, why, why_len) < 0)
			goto fail;
		if (!md->first[type])
			md->first[type] = (uint8_t)md->n_payloads;
		off += p->raw_len;
	}
	if (off < len && !allow_trailing) {
		*notify = N_PAYLOAD_MALFORMED;
		why_set(why, why_len, "%zu bytes after the last payload", len - off);
		goto fail;
	}
	return 0;
fail:
	msg_digest_release(md);
	return -1;
}

/* --- emitting --- */

void pbuf_init(struct pbuf *pb)
{
	memset(pb, 0, sizeof(*pb));
	pb->np_offset = SIZE_MAX;
	pb->open_payload = SIZE_MAX;
}

void pbuf_free(struct pbuf *pb)
{
	free(pb->data);
	pbuf_init(pb);
}

bool pbuf_reserve(struct pbuf *pb, size_t more)
{
	if (pb->failed)
		return false;
	if (more > SIZE_MAX / 2 - pb->len) {
		pb->failed = true;
		return false;
	}
	if (pb->len + more <= pb->cap)
		return true;
	size_t cap = pb->cap ? pb->cap : 512;
	while (cap < pb->len + more)
		cap *= 2;
	uint8_t *d = realloc(pb->data, cap);
	if (!d) {
		pb->failed = true;
		return false;
	}
	pb->data = d;
	pb->cap = cap;
	return true;
}

void pbuf_put(struct pbuf *pb, const void *bytes, size_t len)
{
	if (!len || !pbuf_reserve(pb, len))
		return;
	memcpy(pb->data + pb->len, bytes, len);
	pb->len += len;
}

void pbuf_put_fields(struct pbuf *pb, unsigned depth, const struct struct_desc *d,
		     const struct field_values *fv)
{
	size_t n = desc_fixed_len(d);
	if (!pbuf_reserve(pb, n))
		return;
	fields_write(d, fv, pb->data + pb->len);
	pb->len += n;
	fields_dump(pb->conn, DBG_EMITTING, depth, d, fv);
}

static size_t field_offset(const struct struct_desc *d, unsigned index)
{
	size_t off = 0;
	for (unsigned i = 0; i < index; i++)
		off += d->fields[i].size;
	return off;
}

void emit_hdr(struct pbuf *pb, const struct isakmp_hdr *hdr)
{
	struct field_values fv = { .v = {
		[HDR_ICOOKIE] = get_be(hdr->icookie, 8), [HDR_RCOOKIE] = get_be(hdr->rcookie, 8),
		[HDR_NP] = PT_NONE, [HDR_VERSION] = hdr->version ? hdr->version : ISAKMP_VERSION,
		[HDR_XCHG] = hdr->xchg, [HDR_FLAGS] = hdr->flags, [HDR_MSGID] = hdr->msgid,
		[HDR_LENGTH] = 0 } };
	size_t start = pb->len;
	pbuf_put_fields(pb, 0, &isakmp_hdr_desc, &fv);
	if (!pb->failed) {
		pb->np_offset = start + field_offset(&isakmp_hdr_desc, HDR_NP);
		pb->has_header = start == 0;
	}
}

/* Opens a payload of this type: chains it to the previous one and writes
 * its generic header with length 0. */
size_t payload_open(struct pbuf *pb, uint8_t type)
{
	size_t start = pb->len;
	if (pb->np_offset != SIZE_MAX && !pb->failed)
		pb->data[pb->np_offset] = type;
	struct field_values gen = { .v = { [GEN_NP] = PT_NONE } };
	DBG(DBG_EMITTING, pb->conn, "emitting %s payload", payload_type_name(type));
	pbuf_put_fields(pb, 1, &generic_hdr_desc, &gen);
	if (!pb->failed) {
		pb->np_offset = start + field_offset(&generic_hdr_desc, GEN_NP);
		pb->open_payload = start;
	}
	return start;
}

/* Writes the length of the structure started at start (payload, proposal
 * or transform: they share the generic header). */
void pbuf_close_at(struct pbuf *pb, size_t start)
{
	if (pb->failed)
		return;
	size_t n = pb->len - start;
	if (n > 0xffff) {
		pb->failed = true;
		return;
	}
	put_be(pb->data + start + field_offset(&generic_hdr_desc, GEN_LENGTH), n,
	       generic_hdr_desc.fields[GEN_LENGTH].size);
}

static void payload_close(struct pbuf *pb)
{
	if (pb->open_payload == SIZE_MAX)
		return;
	pbuf_close_at(pb, pb->open_payload);
	pb->open_payload = SIZE_MAX;
}

/* A payload whose body is its fixed fields (from its table) and data. */
static size_t emit_simple(struct pbuf *pb, uint8_t type, const struct field_values *fv,
			  const uint8_t *data, size_t len)
{
	const struct payload_desc *pd = payload_desc_get(type);
	size_t start = payload_open(pb, type);
	pbuf_put_fields(pb, 2, pd->body, fv);
	if (len) {
		pbuf_put(pb, data, len);
		hex_dump(pb->conn, DBG_EMITTING, 2, pd->body->data_name, data, len);
	}
	payload_close(pb);
	return start;
}

static const struct field_values no_fields;

size_t emit_ke(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_KE, &no_fields, data, len);
}

size_t emit_nonce(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_NONCE, &no_fields, data, len);
}

size_t emit_id(struct pbuf *pb, uint8_t id_type, uint8_t protocol, uint16_t port,
	       const uint8_t *data, size_t len)
{
	struct field_values fv = { .v = { [ID_TYPE] = id_type, [ID_PROTOCOL] = protocol,
					  [ID_PORT] = port } };
	return emit_simple(pb, PT_ID, &fv, data, len);
}

size_t emit_hash(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_HASH, &no_fields, data, len);
}

size_t emit_sig(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_SIG, &no_fields, data, len);
}

size_t emit_cert(struct pbuf *pb, uint8_t type, uint8_t encoding, const uint8_t *data, size_t len)
{
	struct field_values fv = { .v = { [CERT_ENCODING] = encoding } };
	return emit_simple(pb, type == PT_CR ? PT_CR : PT_CERT, &fv, data, len);
}

size_t emit_vid(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_VID, &no_fields, data, len);
}

size_t emit_natd(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_NATD, &no_fields, data, len);
}

size_t emit_natoa(struct pbuf *pb, uint8_t id_type, const uint8_t *addr, size_t len)
{
	struct field_values fv = { .v = { [NATOA_ID_TYPE] = id_type } };
	return emit_simple(pb, PT_NATOA, &fv, addr, len);
}

size_t emit_notify(struct pbuf *pb, uint32_t doi, uint8_t protocol, uint16_t type,
		   const uint8_t *spi, uint8_t spi_size, const uint8_t *data, size_t len)
{
	struct field_values fv = { .v = { [N_DOI] = doi, [N_PROTOCOL] = protocol,
					  [N_SPI_SIZE] = spi_size, [N_TYPE] = type } };
	size_t start = payload_open(pb, PT_N);
	pbuf_put_fields(pb, 2, payload_desc_get(PT_N)->body, &fv);
	if (spi_size) {
		pbuf_put(pb, spi, spi_size);
		hex_dump(pb->conn, DBG_EMITTING, 2, "SPI", spi, spi_size);
	}
	if (len) {
		pbuf_put(pb, data, len);
		hex_dump(pb->conn, DBG_EMITTING, 2, "notification data", data, len);
	}
	payload_close(pb);
	return start;
}

size_t emit_delete(struct pbuf *pb, uint32_t doi, uint8_t protocol, uint8_t spi_size,
		   const uint8_t *spis, uint16_t n_spis)
{
	struct field_values fv = { .v = { [D_DOI] = doi, [D_PROTOCOL] = protocol,
					  [D_SPI_SIZE] = spi_size, [D_N_SPIS] = n_spis } };
	return emit_simple(pb, PT_D, &fv, spis, (size_t)spi_size * n_spis);
}

size_t pbuf_finish(struct pbuf *pb)
{
	payload_close(pb);
	if (pb->failed)
		return 0;
	if (!pb->has_header)
		return pb->len;   /* a body alone (tests, fragments): no length to set */
	put_be(pb->data + field_offset(&isakmp_hdr_desc, HDR_LENGTH), pb->len,
	       isakmp_hdr_desc.fields[HDR_LENGTH].size);
	DBG(DBG_EMITTING, pb->conn, "emitting length of ISAKMP message: %zu", pb->len);
	return pb->len;
}

size_t emit_sa(struct pbuf *pb, const struct sa_payload *sa)
{
	size_t start = payload_open(pb, PT_SA);
	sa_emit_body(pb, sa);
	payload_close(pb);
	return start;
}
