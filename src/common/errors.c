#include "common/errors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PLUTO_ERROR_INFO_(id, name_, rc_, errno_) [id] = { .name = name_, .rc = rc_, .errno_code = errno_ },
static const struct pluto_error_info error_table[PE__MAX] = { PLUTO_ERRORS(PLUTO_ERROR_INFO_) };

const struct pluto_error_info *pluto_error_info(enum pluto_error e)
{
	if ((unsigned)e >= PE__MAX)
		e = PE_INTERNAL;
	return &error_table[e];
}

enum pluto_error pluto_error_by_name(const char *name)
{
	for (unsigned i = 0; i < PE__MAX; i++)
		if (strcmp(error_table[i].name, name) == 0)
			return (enum pluto_error)i;
	return PE__MAX;
}

int ctl_fail(struct ctl_error *err, enum pluto_error code, const char *fmt, ...)
{
	if (err) {
		/* format into a copy first: callers may wrap an earlier error,
		 * passing err->message itself as an argument */
		char text[sizeof(err->message)];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		err->code = code;
		err->rc = 0;
		memcpy(err->message, text, sizeof(text));
	}
	return -1;
}
