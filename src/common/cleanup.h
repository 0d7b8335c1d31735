/* systemd-style scope cleanup: a variable declared with _cleanup_(fn) has
 * fn(&variable) called when it goes out of scope, so early returns cannot
 * leak. sd-bus ships its own *_unrefp helpers (sd_bus_message_unrefp,
 * sd_bus_creds_unrefp, sd_bus_error_free), usable as
 *   _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
 *   _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
 * This header needs no library, so clients and the daemon share it. */
#pragma once
#include <stdlib.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* A NULL-terminated vector of malloc'd strings (sd_bus_message_read_strv) */
static inline void strv_free(char **strv)
{
	for (size_t i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
}
static inline void strv_freep(char ***p)
{
	strv_free(*p);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Hand a cleaned-up pointer to someone else: it is not freed at scope end. */
#define TAKE_PTR(p)                             \
	({                                      \
		__typeof__(p) _taken = (p);     \
		(p) = NULL;                     \
		_taken;                         \
	})
