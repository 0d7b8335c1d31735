#include "policy/proposals-common.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "policy/sa.h"

void text_init(struct text *t, char *buf, size_t size)
{
	t->buf = buf;
	t->size = buf ? size : 0;
	t->len = 0;
	if (t->size)
		buf[0] = '\0';
}

void text_printf(struct text *t, const char *fmt, ...)
{
	if (t->size == 0 || t->len + 1 >= t->size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n;
	if (t->len >= t->size)
		t->len = t->size - 1;   /* truncated: keep what fit */
}

void text_sep(struct text *t, bool *first, const char *sep)
{
	if (!*first)
		text_printf(t, "%s", sep);
	*first = false;
}

const char *life_type(struct life_decoder *d, uint32_t type)
{
	if (d->pending_type)
		return "life type without a duration";
	if (type != LIFE_SECONDS && type != LIFE_KILOBYTES)
		return "unknown life type";
	if ((type == LIFE_SECONDS && d->life.seconds_given) ||
	    (type == LIFE_KILOBYTES && d->life.kilobytes_given))
		return "life type repeated";
	d->pending_type = type;
	return NULL;
}

const char *life_duration(struct life_decoder *d, uint32_t value)
{
	if (!d->pending_type)
		return "life duration without a life type";
	if (value == 0)
		return "life duration 0";
	if (d->pending_type == LIFE_SECONDS) {
		d->life.seconds_given = true;
		d->life.seconds = value;
	} else {
		d->life.kilobytes_given = true;
		d->life.kilobytes = value;
	}
	d->pending_type = 0;
	return NULL;
}

const char *life_end(struct life_decoder *d)
{
	return d->pending_type ? "life type without a duration" : NULL;
}

uint32_t life_capped(const struct life *peer, uint32_t ours)
{
	uint32_t limit = ours ? ours : SA_DEFAULT_LIFETIME;
	uint32_t theirs = peer->seconds_given ? peer->seconds : SA_DEFAULT_LIFETIME;
	return theirs < limit ? theirs : limit;
}

const char *life_reply_check(const struct life *proposed, const struct life *reply)
{
	uint32_t ours = proposed->seconds_given ? proposed->seconds : SA_DEFAULT_LIFETIME;
	if (proposed->seconds_given && !reply->seconds_given)
		return "lifetime in seconds missing";
	if (reply->seconds_given && reply->seconds > ours)
		return "lifetime longer than proposed";
	if (reply->kilobytes_given != proposed->kilobytes_given ||
	    (reply->kilobytes_given && reply->kilobytes > proposed->kilobytes))
		return "kilobyte lifetime not as proposed";
	return NULL;
}

void alg_label(const struct alg *a, unsigned key_bits, char *out, size_t size)
{
	char name[ALG_NAME_MAX];
	size_t i = 0;
	if (size == 0)
		return;
	alg_name_at(a, key_bits, name);
	for (; name[i] && i + 1 < size; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	out[i] = '\0';
}

void alg_label_bare(const struct alg *a, unsigned key_len, char *out, size_t size)
{
	if (key_len) {
		alg_label(a, key_len, out, size);
		return;
	}
	size_t i = 0;
	for (; size && a->name[i] && i + 1 < size; i++)
		out[i] = (char)toupper((unsigned char)a->name[i]);
	if (size)
		out[i] = '\0';
}

const char *sa_envelope_check(const struct sa_payload *sa)
{
	if (sa->doi != ISAKMP_DOI_IPSEC)
		return "DOI is not IPSEC";
	if (sa->situation != SIT_IDENTITY_ONLY)
		return "situation is not SIT_IDENTITY_ONLY";
	return NULL;
}
