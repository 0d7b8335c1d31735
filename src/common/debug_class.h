/* Debug classes: the FreeS/WAN set, one bit each, and their names in ONE
 * table (debug_class.c) that pluto's options and logger, the control core,
 * whack's --debug-CLASS flags and the unit test of the man pages read. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum debug_class {
	DBG_RAW       = 1u << 0,
	DBG_CRYPT     = 1u << 1,
	DBG_PARSING   = 1u << 2,
	DBG_EMITTING  = 1u << 3,
	DBG_CONTROL   = 1u << 4,
	DBG_LIFECYCLE = 1u << 5,
	DBG_KLIPS     = 1u << 6,
	DBG_DNS       = 1u << 7,
	DBG_OPPO      = 1u << 8,
	DBG_PRIVATE   = 1u << 9,
};
#define DBG_ALL_NONPRIVATE (DBG_RAW | DBG_CRYPT | DBG_PARSING | DBG_EMITTING | DBG_CONTROL | \
                            DBG_LIFECYCLE | DBG_KLIPS | DBG_DNS | DBG_OPPO)

struct debug_class_name { const char *name; unsigned bit; };
extern const struct debug_class_name debug_class_names[];
extern const unsigned debug_class_count;

/* "all", "none", or a class name -> mask; false when unknown. */
bool debug_class_parse(const char *name, unsigned *mask, bool *is_none);
/* The table's own spelling of the len bytes at name ("all" and "none"
 * included), NULL when it names no class. */
const char *debug_class_canonical(const char *name, size_t len);
/* names of the bits set in mask, NULL-terminated array of static strings */
unsigned debug_class_list(unsigned mask, const char *out[], unsigned max);
