/* The control errors of API.md: one table gives each its D-Bus/Varlink
 * name and the classic whack status code, so every front end agrees. */
#pragma once
#include <stdarg.h>

enum pluto_error {
	PE_OK = 0,
	PE_DUPLICATE_NAME,
	PE_UNKNOWN_NAME,
	PE_INVALID_OPTION,
	PE_CANNOT_ORIENT,
	PE_NOT_LISTENING,
	PE_CANNOT_ROUTE,
	PE_ROUTE_BUSY,
	PE_BAD_ID,
	PE_NO_KEY,
	PE_NO_PEER_ADDRESS,
	PE_NEGOTIATION_FAILED,
	PE_INVALID_SECRETS,
	PE_UNKNOWN_STATE,
	PE_INTERNAL,
	PE__MAX
};

/* whack's classic return codes (API.md section 4) */
enum whack_rc {
	RC_COMMENT = 0,
	RC_WHACK_PROBLEM = 1,
	RC_LOG = 2,
	RC_LOG_SERIOUS = 3,
	RC_SUCCESS = 4,
	RC_RETRANSMISSION = 10,
	RC_DUPNAME = 20,
	RC_UNKNOWN_NAME = 21,
	RC_ORIENT = 22,
	RC_CLASH = 23,
	RC_DEAF = 24,
	RC_ROUTE = 25,
	RC_RTBUSY = 26,
	RC_BADID = 27,
	RC_NOKEY = 28,
	RC_NOPEERIP = 29,
	RC_BADWHACKMESSAGE = 30,
	RC_NORETRANSMISSION = 31,
	RC_INTERNALERR = 32,
	RC_NEW_STATE = 100,
	RC_NOTIFICATION = 200,
};

struct pluto_error_info {
	const char *name;     /* "UnknownName": D-Bus suffix and Varlink suffix */
	enum whack_rc rc;     /* what whack prints and exits with */
};

const struct pluto_error_info *pluto_error_info(enum pluto_error e);
/* Look up by name ("UnknownName"); PE__MAX when unknown. */
enum pluto_error pluto_error_by_name(const char *name);

/* An error as every control path reports it: a code and one sentence. */
struct ctl_error {
	enum pluto_error code;
	char message[512];
	/* whack code when it is more precise than the table's (a failed
	 * negotiation ends with 200+n for notification n, or 031 after the
	 * last retransmission); 0 = the table's */
	unsigned rc;
};

/* Fill *err (when not NULL) and return -1, for "return ctl_fail(...)". */
int ctl_fail(struct ctl_error *err, enum pluto_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define PLUTO_DBUS_ERROR_PREFIX "org.freeswan.pluto1.Error."
#define PLUTO_VARLINK_ERROR_PREFIX "org.freeswan.pluto."
