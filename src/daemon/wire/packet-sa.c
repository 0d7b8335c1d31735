/* The SA payload's nesting (RFC 2408 3.4-3.6, 3.3): proposals holding
 * transforms holding data attributes, to and from struct sa_payload.
 * Each level's length must be consistent with its parent's and with its
 * "next payload" chain; counts must match what is present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/packet-int.h"

/* Where a walk reports to: parse only (c unused, dump false) or also dump. */
struct walk {
	const struct connection *c;
	bool dump;
	unsigned *notify;
	char *why;
	size_t why_len;
};

#define WFAIL(w, code, ...) do { *(w)->notify = (code); \
	why_set((w)->why, (w)->why_len, __VA_ARGS__); return -1; } while (0)

static void attr_dump(const struct walk *w, uint8_t protocol, uint16_t type, uint32_t value,
		      bool tv)
{
	if (!w->dump)
		return;
	const char *tname = sa_attr_name(protocol, type);
	const char *vname = enum_lookup(sa_attr_values(protocol, type), value);
	DBG(DBG_PARSING, w->c, "        attribute %s (%u), %s: %u%s%s%s", tname ? tname : "unknown",
	    type, tv ? "TV" : "TLV", value, vname ? " (" : "", vname ? vname : "",
	    vname ? ")" : "");
}

static int attrs_walk(const struct walk *w, uint8_t protocol, const uint8_t *buf, size_t len,
		      struct sa_transform *t, unsigned pn, unsigned tn)
{
	size_t off = 0;
	while (off < len) {
		struct field_values fv;
		if (!fields_read(&attribute_desc, buf + off, len - off, &fv))
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX,
			      "proposal %u transform %u: %zu stray bytes after the attributes", pn, tn,
			      len - off);
		uint16_t type = fv.v[ATTR_TYPE] & ~ATTR_AF;
		bool tv = fv.v[ATTR_TYPE] & ATTR_AF;
		uint32_t value;
		size_t alen = desc_fixed_len(&attribute_desc);
		if (tv) {
			value = (uint32_t)fv.v[ATTR_VALUE];
		} else {
			size_t vlen = fv.v[ATTR_VALUE];
			if (vlen > fv.data_len)
				WFAIL(w, N_BAD_PROPOSAL_SYNTAX,
				      "proposal %u transform %u: attribute %u claims %zu value bytes, %zu left",
				      pn, tn, type, vlen, fv.data_len);
			if (vlen == 0)
				WFAIL(w, N_BAD_PROPOSAL_SYNTAX,
				      "proposal %u transform %u: attribute %u has an empty value", pn, tn,
				      type);
			if (vlen > 4)
				WFAIL(w, N_ATTRIBUTES_NOT_SUPPORTED,
				      "proposal %u transform %u: attribute %u has a %zu-byte value (at most 4 supported)",
				      pn, tn, type, vlen);
			value = (uint32_t)get_be(fv.data, (unsigned)vlen);
			alen += vlen;
		}
		if (t->n_attrs == SA_ATTRS_MAX)
			WFAIL(w, N_ATTRIBUTES_NOT_SUPPORTED,
			      "proposal %u transform %u: more than %d attributes", pn, tn, SA_ATTRS_MAX);
		t->attrs[t->n_attrs].type = type;
		t->attrs[t->n_attrs].value = value;
		t->n_attrs++;
		attr_dump(w, protocol, type, value, tv);
		off += alen;
	}
	return 0;
}

/* A proposal, transform or the chain they form: generic header + fields. */
static int sub_read(const struct walk *w, const struct struct_desc *d, const uint8_t *buf,
		    size_t len, struct generic_hdr *g, struct field_values *fv, const char *what)
{
	struct field_values gen_fv, *gen = &gen_fv;
	size_t hlen = desc_fixed_len(&generic_hdr_desc);
	size_t fixed = hlen + desc_fixed_len(d);
	if (!fields_read(&generic_hdr_desc, buf, len, gen) || len < fixed)
		WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "%s: only %zu bytes left, need %zu", what, len, fixed);
	fields_decode(&generic_hdr_desc, gen, g);
	size_t plen = g->length;
	if (plen < fixed || plen > len)
		WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "%s: length %zu outside %zu..%zu", what, plen, fixed,
		      len);
	fields_read(d, buf + hlen, plen - hlen, fv);
	if (w->dump) {
		fields_dump(w->c, DBG_PARSING, 2, &generic_hdr_desc, gen);
		fields_dump(w->c, DBG_PARSING, 3, d, fv);
	}
	return 0;
}

/* RFC 2407 4.6.1 / RFC 2409: SPI sizes per protocol. ISAKMP: none or
 * both cookies; ESP and AH: 4; IPCOMP: a 2-byte CPI (4 tolerated). */
static int spi_check(const struct walk *w, unsigned pn, uint8_t protocol, uint8_t spi_size)
{
	bool ok;
	switch (protocol) {
	case PROTO_ISAKMP: ok = spi_size == 0 || spi_size == 16; break;
	case PROTO_IPSEC_AH:
	case PROTO_IPSEC_ESP: ok = spi_size == 4; break;
	case PROTO_IPCOMP: ok = spi_size == 2 || spi_size == 4; break;
	default:
		WFAIL(w, N_INVALID_PROTOCOL_ID, "proposal %u: unknown protocol ID %u", pn, protocol);
	}
	if (!ok)
		WFAIL(w, N_INVALID_SPI, "proposal %u: SPI size %u is wrong for %s", pn, spi_size,
		      protocol_name(protocol));
	return 0;
}

static int transforms_walk(const struct walk *w, const uint8_t *buf, size_t len,
			   struct sa_proposal *p, unsigned expected)
{
	size_t off = 0;
	unsigned pn = p->number;
	for (;;) {
		char what[64];
		snprintf(what, sizeof(what), "proposal %u transform #%zu", pn, p->n_transforms + 1);
		struct generic_hdr gen;
		struct field_values fv;
		if (sub_read(w, &transform_desc, buf + off, len - off, &gen, &fv, what) < 0)
			return -1;
		struct sa_transform *t = &p->transforms[p->n_transforms++];
		fields_decode(&transform_desc, &fv, t);
		if (attrs_walk(w, p->protocol, fv.data, fv.data_len, t, pn, t->number) < 0)
			return -1;
		off += gen.length;
		bool last = p->n_transforms == expected;
		if (gen.np != (last ? PT_NONE : PT_T))
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX,
			      "%s of %u: next payload %u where %u belongs", what, expected,
			      (unsigned)gen.np, last ? PT_NONE : PT_T);
		if (last)
			break;
	}
	if (off != len)
		WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "proposal %u: %zu bytes after its %u transforms", pn,
		      len - off, expected);
	return 0;
}

static int sa_walk(const struct walk *w, const uint8_t *body, size_t len, struct sa_payload *sa)
{
	struct field_values fv;
	memset(sa, 0, sizeof(*sa));
	const struct struct_desc *d = payload_desc_get(PT_SA)->body;
	if (!fields_read(d, body, len, &fv))
		WFAIL(w, N_PAYLOAD_MALFORMED, "SA payload: %zu bytes, shorter than DOI and situation",
		      len);
	fields_decode(d, &fv, sa);
	if (sa->doi != ISAKMP_DOI_IPSEC)
		WFAIL(w, N_DOI_NOT_SUPPORTED, "SA payload: DOI %u is not IPsec (1)", sa->doi);
	if (sa->situation != SIT_IDENTITY_ONLY)
		WFAIL(w, N_SITUATION_NOT_SUPPORTED,
		      "SA payload: situation 0x%x is not SIT_IDENTITY_ONLY", sa->situation);

	const uint8_t *buf = fv.data;
	size_t rest = fv.data_len, off = 0;
	for (;;) {
		char what[32];
		snprintf(what, sizeof(what), "proposal #%zu", sa->n_proposals + 1);
		if (sa->n_proposals == SA_PROPOSALS_MAX)
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "SA payload: more than %d proposals",
			      SA_PROPOSALS_MAX);
		struct generic_hdr gen;
		struct field_values pf;
		if (sub_read(w, &proposal_desc, buf + off, rest - off, &gen, &pf, what) < 0)
			return -1;
		struct sa_proposal *p = &sa->proposals[sa->n_proposals];
		fields_decode(&proposal_desc, &pf, p);
		unsigned n_transforms = (unsigned)pf.v[field_of_kind(&proposal_desc, FK_COUNT)];
		if (sa->n_proposals && p->number < sa->proposals[sa->n_proposals - 1].number)
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX,
			      "SA payload: proposal number %u after %u (must not decrease)", p->number,
			      sa->proposals[sa->n_proposals - 1].number);
		sa->n_proposals++;
		if (spi_check(w, p->number, p->protocol, p->spi_size) < 0)
			return -1;
		if (p->spi_size > pf.data_len)
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "proposal %u: SPI of %u bytes, %zu left",
			      p->number, p->spi_size, pf.data_len);
		memcpy(p->spi, pf.data, p->spi_size);
		if (w->dump && p->spi_size)
			hex_dump(w->c, DBG_PARSING, 3, "SPI", p->spi, p->spi_size);
		if (n_transforms == 0)
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "proposal %u has no transforms", p->number);
		if (n_transforms > SA_TRANSFORMS_MAX)
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX,
			      "proposal %u has %u transforms, more than %d (the most pluto accepts)",
			      p->number, n_transforms, SA_TRANSFORMS_MAX);
		if (transforms_walk(w, pf.data + p->spi_size, pf.data_len - p->spi_size, p,
				    n_transforms) < 0)
			return -1;
		off += gen.length;
		if (gen.np == PT_NONE)
			break;
		if (gen.np != PT_P)
			WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "%s: next payload %u inside an SA payload", what,
			      (unsigned)gen.np);
	}
	if (off != rest)
		WFAIL(w, N_BAD_PROPOSAL_SYNTAX, "SA payload: %zu bytes after the last proposal",
		      rest - off);
	return 0;
}

int sa_parse(const uint8_t *body, size_t len, struct sa_payload *sa, unsigned *notify,
	     char *why, size_t why_len)
{
	struct walk w = { .notify = notify, .why = why, .why_len = why_len };
	return sa_walk(&w, body, len, sa);
}

void sa_dump(const struct connection *c, unsigned cls, unsigned depth, const uint8_t *body,
	     size_t len)
{
	(void)cls;
	(void)depth;
	unsigned notify;
	char why[200];
	struct walk w = { .c = c, .dump = true, .notify = &notify, .why = why,
			  .why_len = sizeof(why) };
	struct sa_payload *sa = malloc(sizeof(*sa));
	if (!sa)
		return;
	if (sa_walk(&w, body, len, sa) < 0)
		DBG(DBG_PARSING, c, "    malformed SA payload (%s): %s", notify_type_name(notify), why);
	free(sa);
}

/* --- emitting --- */

static void attr_emit(struct pbuf *pb, uint8_t protocol, const struct sa_attr *a)
{
	/* TV when the value fits 16 bits, else TLV with 4 bytes: what
	 * strongSwan and libreswan send for Life-Duration */
	bool tv = a->value <= 0xffff;
	struct field_values fv = { .v = {
		[ATTR_TYPE] = (a->type & ~ATTR_AF) | (tv ? ATTR_AF : 0),
		[ATTR_VALUE] = tv ? a->value : 4 } };
	size_t n = desc_fixed_len(&attribute_desc);
	if (!pbuf_reserve(pb, n + 4))
		return;
	fields_write(&attribute_desc, &fv, pb->data + pb->len);
	pb->len += n;
	if (!tv) {
		put_be(pb->data + pb->len, a->value, 4);
		pb->len += 4;
	}
	if (debugging(DBG_EMITTING, pb->conn)) {
		const char *tname = sa_attr_name(protocol, a->type);
		const char *vname = enum_lookup(sa_attr_values(protocol, a->type), a->value);
		DBG(DBG_EMITTING, pb->conn, "        attribute %s (%u), %s: %u%s%s%s",
		    tname ? tname : "unknown", a->type, tv ? "TV" : "TLV", a->value,
		    vname ? " (" : "", vname ? vname : "", vname ? ")" : "");
	}
}

void sa_emit_body(struct pbuf *pb, const struct sa_payload *sa)
{
	const struct struct_desc *d = payload_desc_get(PT_SA)->body;
	struct field_values fv = { 0 };
	fields_encode(d, sa, &fv);
	pbuf_put_fields(pb, 2, d, &fv);
	size_t np = sa->n_proposals < SA_PROPOSALS_MAX ? sa->n_proposals : SA_PROPOSALS_MAX;
	for (size_t i = 0; i < np; i++) {
		const struct sa_proposal *p = &sa->proposals[i];
		size_t nt = p->n_transforms < SA_TRANSFORMS_MAX ? p->n_transforms : SA_TRANSFORMS_MAX;
		uint8_t spi_size = p->spi_size < SA_SPI_MAX ? p->spi_size : SA_SPI_MAX;
		size_t pstart = pb->len;
		struct generic_hdr g = { .np = i + 1 < np ? PT_P : PT_NONE };   /* length: when closed */
		struct field_values gen = { 0 }, pf = { 0 };
		fields_encode(&generic_hdr_desc, &g, &gen);
		fields_encode(&proposal_desc, p, &pf);
		pf.v[field_of_kind(&proposal_desc, FK_SPI_SIZE)] = spi_size;
		pf.v[field_of_kind(&proposal_desc, FK_COUNT)] = nt;
		pbuf_put_fields(pb, 2, &generic_hdr_desc, &gen);
		pbuf_put_fields(pb, 3, &proposal_desc, &pf);
		pbuf_put(pb, p->spi, spi_size);
		for (size_t j = 0; j < nt; j++) {
			const struct sa_transform *t = &p->transforms[j];
			size_t tstart = pb->len;
			struct generic_hdr tgh = { .np = j + 1 < nt ? PT_T : PT_NONE };
			struct field_values tg = { 0 }, tf = { 0 };
			fields_encode(&generic_hdr_desc, &tgh, &tg);
			fields_encode(&transform_desc, t, &tf);
			pbuf_put_fields(pb, 3, &generic_hdr_desc, &tg);
			pbuf_put_fields(pb, 4, &transform_desc, &tf);
			size_t na = t->n_attrs < SA_ATTRS_MAX ? t->n_attrs : SA_ATTRS_MAX;
			for (size_t k = 0; k < na; k++)
				attr_emit(pb, p->protocol, &t->attrs[k]);
			pbuf_close_at(pb, tstart);
		}
		pbuf_close_at(pb, pstart);
	}
}

/* --- bare attribute lists (RESPONDER-LIFETIME's data, RFC 2407 4.6.3.1) --- */

int sa_attrs_parse(uint8_t protocol, const uint8_t *buf, size_t len, struct sa_transform *out, char *why,
		   size_t why_len)
{
	unsigned notify = 0;
	struct walk w = { .notify = &notify, .why = why, .why_len = why_len };
	memset(out, 0, sizeof(*out));
	return attrs_walk(&w, protocol, buf, len, out, 0, 0);
}

size_t sa_attrs_encode(uint8_t protocol, const struct sa_transform *t, uint8_t *out, size_t cap)
{
	struct pbuf pb;
	pbuf_init(&pb);
	for (size_t i = 0; i < t->n_attrs; i++)
		attr_emit(&pb, protocol, &t->attrs[i]);
	size_t n = pb.failed || pb.len > cap ? 0 : pb.len;
	if (n)
		memcpy(out, pb.data, n);
	pbuf_free(&pb);
	return n;
}
