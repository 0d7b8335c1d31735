#include "common/id.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool valid_dns_text(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_'))
			return false;
	}
	return true;
}

bool id_parse(const char *s, struct pluto_id *out, const char **why)
{
	const char *dummy;
	struct pluto_id id;
	if (!why)
		why = &dummy;
	memset(&id, 0, sizeof(id));
	if (!s || *s == '\0') {
		*why = "empty identity";
		return false;
	}
	if (strlen(s) >= sizeof(id.name)) {
		*why = "identity longer than 255 characters";
		return false;
	}
	if (strcmp(s, "%any") == 0) {
		id.kind = ID_ANY;
	} else if (s[0] == '@') {
		if (!valid_dns_text(s + 1)) {
			*why = "@FQDN must be a DNS name";
			return false;
		}
		id.kind = ID_FQDN;
		strcpy(id.name, s + 1);
	} else if (strchr(s, '@')) {
		const char *at = strchr(s, '@');
		if (at == s || strchr(at + 1, '@') || !valid_dns_text(at + 1)) {
			*why = "user@FQDN must be user@dns.name";
			return false;
		}
		for (const char *p = s; p < at; p++) {
			if (isspace((unsigned char)*p) || !isprint((unsigned char)*p)) {
				*why = "user part of user@FQDN has blanks or control characters";
				return false;
			}
		}
		id.kind = ID_USER_FQDN;
		strcpy(id.name, s);
	} else if (ip_parse(s, &id.ip)) {
		id.kind = id.ip.family == AF_INET ? ID_IPV4_ADDR : ID_IPV6_ADDR;
	} else {
		*why = "identity must be @fqdn, user@fqdn, an IP address or %any";
		return false;
	}
	*out = id;
	return true;
}

const char *id_str(const struct pluto_id *id, char buf[ID_STR_MAX])
{
	char a[IP_STR_MAX];
	switch (id->kind) {
	case ID_NONE: snprintf(buf, ID_STR_MAX, "(none)"); break;
	case ID_ANY: snprintf(buf, ID_STR_MAX, "%%any"); break;
	case ID_IPV4_ADDR:
	case ID_IPV6_ADDR: snprintf(buf, ID_STR_MAX, "%s", ip_str(&id->ip, a)); break;
	case ID_FQDN: snprintf(buf, ID_STR_MAX, "@%s", id->name); break;
	case ID_USER_FQDN: snprintf(buf, ID_STR_MAX, "%s", id->name); break;
	}
	return buf;
}

bool id_equal(const struct pluto_id *a, const struct pluto_id *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case ID_IPV4_ADDR:
	case ID_IPV6_ADDR: return ip_equal(&a->ip, &b->ip);
	case ID_FQDN:
	case ID_USER_FQDN: return strcasecmp(a->name, b->name) == 0;
	default: return true;
	}
}
