/* IKE identities (RFC 2407 4.6.2.1) as written in options and secrets:
 * "@fqdn", "user@fqdn", an IP address, or "%any". */
#pragma once
#include <stdbool.h>
#include "common/ip.h"

enum id_kind {
	ID_NONE = 0,       /* not given: the host address stands in */
	ID_ANY,            /* %any: matches every peer */
	ID_IPV4_ADDR,
	ID_IPV6_ADDR,
	ID_FQDN,
	ID_USER_FQDN,
};

struct pluto_id {
	enum id_kind kind;
	ip_address ip;       /* ID_IPV4_ADDR / ID_IPV6_ADDR */
	char name[256];      /* FQDN or USER_FQDN, without the leading '@' */
};

#define ID_STR_MAX 300

/* false with *why set for a malformed id */
bool id_parse(const char *s, struct pluto_id *out, const char **why);
const char *id_str(const struct pluto_id *id, char buf[ID_STR_MAX]);
bool id_equal(const struct pluto_id *a, const struct pluto_id *b);
