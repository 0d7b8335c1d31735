/* packet_dump: a received message as "| " lines at DBG_PARSING, every
 * field named by the structure tables. It validates as it goes (the same
 * checks as payloads_parse) and stops at the first malformed part,
 * naming it: a dump never fails and never reads past the buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/cfg_attrs.h"
#include "daemon/wire/packet-int.h"

static void payload_dump(const struct connection *c, const struct payload *p)
{
	struct field_values gen, body;
	fields_read(&generic_hdr_desc, p->raw, p->raw_len, &gen);
	DBG(DBG_PARSING, c, "  %s payload (%u):", payload_type_name(p->type), p->type);
	fields_dump(c, DBG_PARSING, 2, &generic_hdr_desc, &gen);
	const struct payload_desc *pd = payload_desc_get(p->type);
	if (!pd) {
		hex_dump(c, DBG_PARSING, 2, "private payload body", p->body, p->body_len);
		return;
	}
	fields_read(pd->body, p->body, p->body_len, &body);
	if (p->type == PT_SA) {
		fields_dump(c, DBG_PARSING, 2, pd->body, &body);
		sa_dump(c, DBG_PARSING, 2, p->body, p->body_len);
		return;
	}
	fields_dump(c, DBG_PARSING, 2, pd->body, &body);
	if (p->type == PT_ATTR) {
		cfg_attrs_dump(c, DBG_PARSING, 2, body.data, body.data_len);   /* passwords masked */
		return;
	}
	if (body.data_len)
		hex_dump(c, DBG_PARSING, 2, pd->body->data_name, body.data, body.data_len);
}

void packet_dump(const struct connection *c, const char *what, const uint8_t *buf, size_t len,
		 bool encrypted_body)
{
	if (!debugging(DBG_PARSING, c))
		return;
	struct field_values fv;
	struct isakmp_hdr hdr;
	DBG(DBG_PARSING, c, "%s: %zu bytes", what, len);
	if (!fields_read(&isakmp_hdr_desc, buf, len, &fv)) {
		DBG(DBG_PARSING, c, "  shorter than an ISAKMP header (%d bytes)", ISAKMP_HDR_LEN);
		return;
	}
	fields_dump(c, DBG_PARSING, 1, &isakmp_hdr_desc, &fv);
	if (encrypted_body) {
		DBG(DBG_PARSING, c, "  encrypted body: %zu bytes", fv.data_len);
		return;
	}
	/* the payloads, one at a time, with payloads_parse's checks */
	fields_decode(&isakmp_hdr_desc, &fv, &hdr);
	uint8_t np = hdr.np;
	const uint8_t *body = fv.data;
	size_t rest = fv.data_len;
	for (unsigned i = 0; np != PT_NONE; i++) {
		unsigned notify = 0;
		char why[200];
		struct payload p;
		uint8_t next;
		if (i == ISAKMP_MAX_PAYLOADS) {
			DBG(DBG_PARSING, c, "  more than %d payloads", ISAKMP_MAX_PAYLOADS);
			break;
		}
		if (payload_parse_one(&p, np, body, rest, &next, &notify, why, sizeof(why)) < 0) {
			DBG(DBG_PARSING, c, "  %s payload malformed (%s): %s", payload_type_name(np),
			    notify_type_name(notify), why);
			free(p.sa);
			break;
		}
		payload_dump(c, &p);
		free(p.sa);
		np = next;
		body += p.raw_len;
		rest -= p.raw_len;
	}
	if (rest)
		DBG(DBG_PARSING, c, "  %zu bytes after the last payload", rest);
}
