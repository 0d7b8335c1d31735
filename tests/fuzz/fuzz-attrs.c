/* The ATTR payload's attribute parser (XAUTH and Mode Config,
 * src/daemon/wire/cfg_attrs.c) on arbitrary bytes: accept or refuse
 * cleanly (no crash, no leak, no read outside the buffer), a refusal
 * names a reason, the dump never fails, and whatever parses re-encodes
 * (TV/TLV as the table says) to attributes that parse to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/cfg_attrs.h"
#include "daemon/wire/packet.h"

static void discard(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)line;
	(void)ud;
}

static void roundtrip(const struct cfg_attrs *a)
{
	struct cfg_builder b = { .len = 0 };
	for (size_t i = 0; i < a->n; i++) {
		const struct cfg_attr *x = &a->attrs[i];
		if (x->desc->tv)
			cfg_put_tv(&b, x->type, x->value);
		else
			cfg_put_tlv(&b, x->type, x->data, x->len);
	}
	if (b.overflow)
		return;   /* more than a message of ours would carry */
	uint8_t *body = malloc(4 + b.len);
	if (!body)
		abort();
	body[0] = a->msg_type;
	body[1] = 0;
	body[2] = (uint8_t)(a->identifier >> 8);
	body[3] = (uint8_t)a->identifier;
	memcpy(body + 4, b.buf, b.len);
	struct cfg_attrs *again = malloc(sizeof(*again));
	char why[200];
	if (!again || cfg_attrs_parse(body, 4 + b.len, again, why, sizeof(why)) < 0)
		abort();
	if (again->n != a->n || again->msg_type != a->msg_type || again->identifier != a->identifier ||
	    again->n_unknown)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct cfg_attr *x = &a->attrs[i], *y = &again->attrs[i];
		if (x->type != y->type || x->value != y->value || x->len != y->len ||
		    (x->len && memcmp(x->data, y->data, x->len) != 0))
			abort();
	}
	free(again);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		log_init(LOG_TO_SYSLOG, "fuzz-attrs");
		log_set_hook(discard, NULL);
		debug_global = DBG_PARSING;   /* the dump walks every input too */
		init = true;
	}
	struct cfg_attrs *a = malloc(sizeof(*a));
	char why[200];
	if (!a)
		abort();
	why[0] = '\0';
	if (cfg_attrs_parse(data, size, a, why, sizeof(why)) == 0)
		roundtrip(a);
	else if (!why[0])
		abort();
	if (size >= 4)
		cfg_attrs_dump(NULL, DBG_PARSING, 1, data + 4, size - 4);
	free(a);
	return 0;
}
