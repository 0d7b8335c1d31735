#include "common/debug_class.h"

#include <string.h>

#include "common/util.h"

const struct debug_class_name debug_class_names[] = {
	{ "raw", DBG_RAW },
	{ "crypt", DBG_CRYPT },
	{ "parsing", DBG_PARSING },
	{ "emitting", DBG_EMITTING },
	{ "control", DBG_CONTROL },
	{ "lifecycle", DBG_LIFECYCLE },
	{ "klips", DBG_KLIPS },
	{ "dns", DBG_DNS },
	{ "oppo", DBG_OPPO },
	{ "private", DBG_PRIVATE },
};
const unsigned debug_class_count = ARRAY_SIZE(debug_class_names);

bool debug_class_parse(const char *name, unsigned *mask, bool *is_none)
{
	*is_none = false;
	if (strcmp(name, "none") == 0) {
		*mask = 0;
		*is_none = true;
		return true;
	}
	if (strcmp(name, "all") == 0) {
		*mask = DBG_ALL_NONPRIVATE;
		return true;
	}
	for (unsigned i = 0; i < debug_class_count; i++) {
		if (strcmp(debug_class_names[i].name, name) == 0) {
			*mask = debug_class_names[i].bit;
			return true;
		}
	}
	return false;
}

const char *debug_class_canonical(const char *name, size_t len)
{
	static const char *const words[] = { "none", "all" };
	for (unsigned i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == len && memcmp(words[i], name, len) == 0)
			return words[i];
	for (unsigned i = 0; i < debug_class_count; i++)
		if (strlen(debug_class_names[i].name) == len && memcmp(debug_class_names[i].name, name, len) == 0)
			return debug_class_names[i].name;
	return NULL;
}

unsigned debug_class_list(unsigned mask, const char *out[], unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < debug_class_count && n + 1 < max; i++)
		if (mask & debug_class_names[i].bit)
			out[n++] = debug_class_names[i].name;
	out[n] = NULL;
	return n;
}
