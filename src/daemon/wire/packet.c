/* ISAKMP messages in and out, driven by the structure tables of
 * packet-tables.c: the header check, the payload chain of a received
 * message, and the growing buffer pluto's messages are emitted into. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/cfg_attrs.h"
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

/* Integer members are as wide as their fields (packet-tables.c checks
 * that when it compiles); memcpy: the targets need not be aligned. */
static void store(uint8_t *dst, uint64_t v, unsigned size)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	switch (size) {
	case 1: memcpy(dst, &u8, 1); break;
	case 2: memcpy(dst, &u16, 2); break;
	case 4: memcpy(dst, &u32, 4); break;
	default: memcpy(dst, &v, sizeof(v)); break;
	}
}

static uint64_t load(const uint8_t *src, unsigned size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t v;
	switch (size) {
	case 1: memcpy(&u8, src, 1); return u8;
	case 2: memcpy(&u16, src, 2); return u16;
	case 4: memcpy(&u32, src, 4); return u32;
	default: memcpy(&v, src, sizeof(v)); return v;
	}
}

void fields_decode(const struct struct_desc *d, const struct field_values *fv, void *dst)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const struct field *f = &d->fields[i];
		if (f->target == NO_TARGET)
			continue;
		uint8_t *at = (uint8_t *)dst + f->target;
		if (f->kind == FK_COOKIE)
			put_be(at, fv->v[i], f->size);   /* the bytes as they came */
		else
			store(at, fv->v[i], f->size);
	}
}

void fields_encode(const struct struct_desc *d, const void *src, struct field_values *fv)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const struct field *f = &d->fields[i];
		if (f->target == NO_TARGET)
			continue;
		const uint8_t *at = (const uint8_t *)src + f->target;
		fv->v[i] = f->kind == FK_COOKIE ? get_be(at, f->size) : load(at, f->size);
	}
}

int field_of_kind(const struct struct_desc *d, enum field_kind kind)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].kind == kind)
			return (int)i;
	return -1;
}

size_t field_offset_of_kind(const struct struct_desc *d, enum field_kind kind)
{
	size_t off = 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].kind == kind)
			return off;
		off += d->fields[i].size;
	}
	return SIZE_MAX;
}

void field_put_kind(const struct struct_desc *d, enum field_kind kind, uint8_t *out, uint64_t v)
{
	int i = field_of_kind(d, kind);
	if (i >= 0)
		put_be(out + field_offset_of_kind(d, kind), v, d->fields[i].size);
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
	/* the lines are formatted byte by byte: only for someone reading */
	if (!debugging(cls, c))
		return;
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
		case FK_RESERVED:
			DBG(cls, c, "%s   %s: 0x%0*llx", indent(depth), f->name, f->size * 2,
			    (unsigned long long)v);
			break;
		case FK_ENUM:
		case FK_NP:
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
	fields_decode(&isakmp_hdr_desc, &fv, hdr);

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

void isakmp_hdr_mark_encrypted(uint8_t *msg, size_t total)
{
	struct field_values fv;
	struct isakmp_hdr hdr;
	if (!fields_read(&isakmp_hdr_desc, msg, total, &fv))
		return;
	fields_decode(&isakmp_hdr_desc, &fv, &hdr);
	hdr.flags |= ISAKMP_FLAG_ENCRYPTION;
	hdr.length = (uint32_t)total;
	fields_encode(&isakmp_hdr_desc, &hdr, &fv);
	fields_write(&isakmp_hdr_desc, &fv, msg);
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

/* The SPI(s) at the start of the variable part (Notification, Delete):
 * with a count they are the whole of it, without one the rest is the
 * payload's data. */
static void split_spis(struct payload *p, const struct struct_desc *d, const struct field_values *fv)
{
	int size = field_of_kind(d, FK_SPI_SIZE), count = field_of_kind(d, FK_COUNT);
	if (d->spi_target == NO_TARGET || size < 0)
		return;
	const uint8_t *spi = p->data;
	memcpy((uint8_t *)p + d->spi_target, &spi, sizeof(spi));
	if (count < 0) {
		p->data += fv->v[size];
		p->data_len -= fv->v[size];
	}
}

int payload_parse_one(struct payload *p, uint8_t type, const uint8_t *buf, size_t len,
			     uint8_t *np, unsigned *notify, char *why, size_t why_len)
{
	struct field_values gen, body;
	struct generic_hdr g;
	memset(p, 0, sizeof(*p));
	p->type = type;
	size_t hlen = desc_fixed_len(&generic_hdr_desc);
	if (!fields_read(&generic_hdr_desc, buf, len, &gen))
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: only %zu bytes left for its %zu-byte header",
		     payload_type_name(type), len, hlen);
	fields_decode(&generic_hdr_desc, &gen, &g);
	size_t plen = g.length;
	if (plen < hlen)
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: length %zu is shorter than its header",
		     payload_type_name(type), plen);
	if (plen > len)
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: length %zu but only %zu bytes left",
		     payload_type_name(type), plen, len);
	*np = g.np;
	p->raw = buf;
	p->raw_len = plen;
	p->body = p->data = buf + hlen;
	p->body_len = p->data_len = plen - hlen;

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
		     payload_type_name(type), plen, hlen + desc_fixed_len(pd->body));
	p->data = body.data;
	p->data_len = body.data_len;
	if (p->data_len < pd->min_data || p->data_len > pd->max_data)
		FAIL(N_PAYLOAD_MALFORMED, "%s payload: %zu bytes of %s (expected %zu to %zu)",
		     payload_type_name(type), p->data_len, pd->body->data_name, pd->min_data,
		     pd->max_data);
	if (!pd->own_struct)
		fields_decode(pd->body, &body, p);
	if (pd->check && pd->check(p, notify, why, why_len) < 0)
		return -1;
	split_spis(p, pd->body, &body);
	return 0;
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

void emit_hdr(struct pbuf *pb, const struct isakmp_hdr *hdr)
{
	/* next payload and length are filled in as payloads follow */
	struct isakmp_hdr h = *hdr;
	h.np = PT_NONE;
	h.length = 0;
	if (!h.version)
		h.version = ISAKMP_VERSION;
	struct field_values fv = { 0 };
	fields_encode(&isakmp_hdr_desc, &h, &fv);
	size_t start = pb->len;
	pbuf_put_fields(pb, 0, &isakmp_hdr_desc, &fv);
	if (!pb->failed) {
		pb->np_offset = start + field_offset_of_kind(&isakmp_hdr_desc, FK_NP);
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
	struct field_values gen = { 0 };   /* next payload NONE, length 0 for now */
	DBG(DBG_EMITTING, pb->conn, "emitting %s payload", payload_type_name(type));
	pbuf_put_fields(pb, 1, &generic_hdr_desc, &gen);
	if (!pb->failed) {
		pb->np_offset = start + field_offset_of_kind(&generic_hdr_desc, FK_NP);
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
	field_put_kind(&generic_hdr_desc, FK_LENGTH, pb->data + start, n);
}

static void payload_close(struct pbuf *pb)
{
	if (pb->open_payload == SIZE_MAX)
		return;
	pbuf_close_at(pb, pb->open_payload);
	pb->open_payload = SIZE_MAX;
}

/* A payload whose body is its fixed fields, taken from p's members by
 * its table, and data. */
static size_t emit_simple(struct pbuf *pb, uint8_t type, const struct payload *p, const uint8_t *data,
			  size_t len)
{
	const struct payload_desc *pd = payload_desc_get(type);
	struct field_values fv = { 0 };
	fields_encode(pd->body, p, &fv);
	size_t start = payload_open(pb, type);
	pbuf_put_fields(pb, 2, pd->body, &fv);
	if (len) {
		pbuf_put(pb, data, len);
		hex_dump(pb->conn, DBG_EMITTING, 2, pd->body->data_name, data, len);
	}
	payload_close(pb);
	return start;
}

static const struct payload no_fields;

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
	struct payload p = { .u.id = { .id_type = id_type, .protocol = protocol, .port = port } };
	return emit_simple(pb, PT_ID, &p, data, len);
}

size_t id_body_encode(uint8_t id_type, uint8_t protocol, uint16_t port, const uint8_t *data, size_t len,
		      uint8_t *out, size_t cap)
{
	const struct struct_desc *d = payload_desc_get(PT_ID)->body;
	struct payload p = { .u.id = { .id_type = id_type, .protocol = protocol, .port = port } };
	struct field_values fv = { 0 };
	size_t fixed = desc_fixed_len(d);
	if (len > cap || fixed > cap - len)
		return 0;
	fields_encode(d, &p, &fv);
	fields_write(d, &fv, out);
	memcpy(out + fixed, data, len);
	return fixed + len;
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
	struct payload p = { .u.cert = { .encoding = encoding } };
	return emit_simple(pb, type == PT_CR ? PT_CR : PT_CERT, &p, data, len);
}

size_t emit_vid(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_VID, &no_fields, data, len);
}

size_t emit_natd(struct pbuf *pb, const uint8_t *data, size_t len)
{
	return emit_simple(pb, PT_NATD, &no_fields, data, len);
}

size_t emit_attr(struct pbuf *pb, uint8_t type, uint16_t identifier, const uint8_t *attrs, size_t len)
{
	struct payload p = { .u.attr = { .type = type, .identifier = identifier } };
	const struct struct_desc *d = payload_desc_get(PT_ATTR)->body;
	struct field_values fv = { 0 };
	fields_encode(d, &p, &fv);
	size_t start = payload_open(pb, PT_ATTR);
	pbuf_put_fields(pb, 2, d, &fv);
	if (len) {
		pbuf_put(pb, attrs, len);
		cfg_attrs_dump(pb->conn, DBG_EMITTING, 2, attrs, len);   /* never hex: passwords */
	}
	payload_close(pb);
	return start;
}

size_t emit_natoa(struct pbuf *pb, uint8_t id_type, const uint8_t *addr, size_t len)
{
	struct payload p = { .u.natoa = { .id_type = id_type } };
	return emit_simple(pb, PT_NATOA, &p, addr, len);
}

size_t emit_notify(struct pbuf *pb, uint32_t doi, uint8_t protocol, uint16_t type,
		   const uint8_t *spi, uint8_t spi_size, const uint8_t *data, size_t len)
{
	struct payload p = { .u.n = { .doi = doi, .protocol = protocol, .spi_size = spi_size, .type = type } };
	const struct struct_desc *d = payload_desc_get(PT_N)->body;
	struct field_values fv = { 0 };
	fields_encode(d, &p, &fv);
	size_t start = payload_open(pb, PT_N);
	pbuf_put_fields(pb, 2, d, &fv);
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
	struct payload p = { .u.d = { .doi = doi, .protocol = protocol, .spi_size = spi_size,
				      .n_spis = n_spis } };
	return emit_simple(pb, PT_D, &p, spis, (size_t)spi_size * n_spis);
}

uint8_t *pbuf_payload_body(struct pbuf *pb, size_t off, size_t *len)
{
	struct field_values gen;
	struct generic_hdr g;
	size_t hlen = desc_fixed_len(&generic_hdr_desc);
	if (pb->failed || off > pb->len || !fields_read(&generic_hdr_desc, pb->data + off, pb->len - off, &gen))
		return NULL;
	fields_decode(&generic_hdr_desc, &gen, &g);
	if (g.length < hlen || g.length > pb->len - off)
		return NULL;
	*len = g.length - hlen;
	return pb->data + off + hlen;
}

size_t pbuf_finish(struct pbuf *pb)
{
	payload_close(pb);
	if (pb->failed)
		return 0;
	if (!pb->has_header)
		return pb->len;   /* a body alone (tests, fragments): no length to set */
	field_put_kind(&isakmp_hdr_desc, FK_LENGTH, pb->data, pb->len);
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
