/* The ISAKMP parser on arbitrary datagrams: header check, payload chain
 * (plain, or as a decrypted body with padding when the E flag is set) and
 * the debug dump must accept or refuse cleanly (no crash, no leak, no
 * read outside the buffer), a refusal must name a notification and a
 * reason, and every SA payload accepted must survive emit -> parse
 * unchanged. The same bytes as a datagram on the NAT-T port: an IKE
 * message behind the non-ESP marker frames back to the same datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/natt_framing.h"
#include "daemon/wire/packet.h"

static void discard(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)line;
	(void)ud;
}

static void sa_roundtrip(const struct sa_payload *sa)
{
	struct pbuf pb;
	pbuf_init(&pb);
	emit_sa(&pb, sa);
	if (!pbuf_finish(&pb))
		abort();
	struct msg_digest *md = calloc(1, sizeof(*md));
	unsigned notify;
	char why[200];
	if (!md)
		abort();
	if (payloads_parse(md, PT_SA, pb.data, pb.len, false, &notify, why, sizeof(why)) < 0)
		abort();
	if (memcmp(md_first(md, PT_SA)->sa, sa, sizeof(*sa)) != 0)
		abort();
	msg_digest_release(md);
	free(md);
	pbuf_free(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		log_init(LOG_TO_SYSLOG, "fuzz-packet");
		log_set_hook(discard, NULL);
		init = true;
	}
	/* a bare attribute list (RESPONDER-LIFETIME's data): parse, and what
	 * parses must encode to the same attributes */
	struct sa_transform attrs, again;
	char awhy[200];
	if (sa_attrs_parse(PROTO_IPSEC_ESP, data, size, &attrs, awhy, sizeof(awhy)) == 0) {
		uint8_t enc[SA_ATTRS_MAX * 8];
		size_t n = sa_attrs_encode(PROTO_IPSEC_ESP, &attrs, enc, sizeof(enc));
		if (attrs.n_attrs && (!n || sa_attrs_parse(PROTO_IPSEC_ESP, enc, n, &again, awhy, sizeof(awhy)) < 0 ||
				      memcmp(attrs.attrs, again.attrs, sizeof(attrs.attrs)) != 0))
			abort();
	} else if (!awhy[0]) {
		abort();
	}
	size_t skip = SIZE_MAX;
	if (natt_classify(data, size, &skip) == NATT_RX_IKE) {
		size_t ike_len = size - skip;
		uint8_t *framed = skip <= size ? natt_frame(data + skip, &ike_len) : NULL;
		if (!framed || ike_len != size || memcmp(framed, data, size) != 0)
			abort();
		free(framed);
	} else if (skip != 0) {
		abort();
	}
	struct msg_digest *md = calloc(1, sizeof(*md));
	if (!md)
		abort();
	unsigned notify = 0;
	char why[200] = "";
	if (isakmp_hdr_check(data, size, &md->hdr, &notify, why, sizeof(why)) < 0 &&
	    (!notify || !why[0]))
		abort();
	if (size >= ISAKMP_HDR_LEN) {
		bool encrypted = data[19] & ISAKMP_FLAG_ENCRYPTION;
		why[0] = '\0';
		notify = 0;
		if (payloads_parse(md, data[16], data + ISAKMP_HDR_LEN, size - ISAKMP_HDR_LEN,
				   encrypted, &notify, why, sizeof(why)) < 0) {
			if (!notify || !why[0] || md->n_payloads)
				abort();
		} else {
			for (size_t i = 0; i < md->n_payloads; i++) {
				const struct payload *p = &md->payloads[i];
				if (p->raw < data || p->raw + p->raw_len > data + size ||
				    p->data < p->raw || p->data + p->data_len > p->raw + p->raw_len)
					abort();
				if (md_first(md, p->type) == NULL)
					abort();
				if (p->type == PT_SA)
					sa_roundtrip(p->sa);
			}
			msg_digest_release(md);
		}
	}
	/* the dump walks the same bytes on its own: every other input */
	debug_global = size && (data[size - 1] & 1) ? DBG_PARSING : 0;
	packet_dump(NULL, "fuzz", data, size, size > 19 && (data[19] & 1) && (data[0] & 1));
	debug_global = 0;
	free(md);
	return 0;
}
