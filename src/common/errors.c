#include "common/errors.h"

#include <stdio.h>
#include <string.h>

static const struct pluto_error_info error_table[PE__MAX] = {
	[PE_OK]                 = { "Ok",                RC_SUCCESS },
	[PE_DUPLICATE_NAME]     = { "DuplicateName",     RC_DUPNAME },
	[PE_UNKNOWN_NAME]       = { "UnknownName",       RC_UNKNOWN_NAME },
	[PE_INVALID_OPTION]     = { "InvalidOption",     RC_BADWHACKMESSAGE },
	[PE_CANNOT_ORIENT]      = { "CannotOrient",      RC_ORIENT },
	[PE_NOT_LISTENING]      = { "NotListening",      RC_DEAF },
	[PE_CANNOT_ROUTE]       = { "CannotRoute",       RC_ROUTE },
	[PE_ROUTE_BUSY]         = { "RouteBusy",         RC_RTBUSY },
	[PE_BAD_ID]             = { "BadId",             RC_BADID },
	[PE_NO_KEY]             = { "NoKey",             RC_NOKEY },
	[PE_NO_PEER_ADDRESS]    = { "NoPeerAddress",     RC_NOPEERIP },
	[PE_NEGOTIATION_FAILED] = { "NegotiationFailed", RC_NORETRANSMISSION },
	[PE_INVALID_SECRETS]    = { "InvalidSecrets",    RC_BADWHACKMESSAGE },
	[PE_UNKNOWN_STATE]      = { "UnknownState",      RC_UNKNOWN_NAME },
	[PE_INTERNAL]           = { "InternalError",     RC_INTERNALERR },
};

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
