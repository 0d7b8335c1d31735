/* The control errors of API.md: one table gives each its D-Bus/Varlink
 * name and the classic whack status code, so every front end agrees. */
#pragma once
#include <stdarg.h>

/* The one table of control errors: X(ID, name, whack code, errno).
 * name is the suffix of the D-Bus (PLUTO_DBUS_ERROR_PREFIX) and Varlink
 * (PLUTO_VARLINK_ERROR_PREFIX) error names; the errno is what sd-bus
 * callers get for the D-Bus name (src/bus registers the table as an
 * sd_bus_error_map), so errno <-> name is this table too. */
#define PLUTO_ERRORS(X)                                                    \
	X(PE_OK,                 "Ok",                RC_SUCCESS,          0)            \
	X(PE_DUPLICATE_NAME,     "DuplicateName",     RC_DUPNAME,          EEXIST)       \
	X(PE_UNKNOWN_NAME,       "UnknownName",       RC_UNKNOWN_NAME,     ENOENT)       \
	X(PE_INVALID_OPTION,     "InvalidOption",     RC_BADWHACKMESSAGE,  EINVAL)       \
	X(PE_CANNOT_ORIENT,      "CannotOrient",      RC_ORIENT,           EADDRNOTAVAIL) \
	X(PE_NOT_LISTENING,      "NotListening",      RC_DEAF,             ENOTCONN)     \
	X(PE_CANNOT_ROUTE,       "CannotRoute",       RC_ROUTE,            EHOSTUNREACH) \
	X(PE_ROUTE_BUSY,         "RouteBusy",         RC_RTBUSY,           EBUSY)        \
	X(PE_BAD_ID,             "BadId",             RC_BADID,            EBADR)        \
	X(PE_NO_KEY,             "NoKey",             RC_NOKEY,            ENOKEY)       \
	X(PE_NO_PEER_ADDRESS,    "NoPeerAddress",     RC_NOPEERIP,         EDESTADDRREQ) \
	X(PE_NEGOTIATION_FAILED, "NegotiationFailed", RC_NORETRANSMISSION, ECONNREFUSED) \
	X(PE_AUTHENTICATION_FAILED, "AuthenticationFailed", RC_AUTHENTICATION_FAILED, EACCES) \
	X(PE_INVALID_SECRETS,    "InvalidSecrets",    RC_BADWHACKMESSAGE,  EBADMSG)      \
	X(PE_UNKNOWN_STATE,      "UnknownState",      RC_UNKNOWN_NAME,     ESRCH)        \
	X(PE_INVALID_CONFIG,     "InvalidConfig",     RC_BADWHACKMESSAGE,  ENOEXEC)      \
	X(PE_INTERNAL,           "InternalError",     RC_INTERNALERR,      EIO)

#define PLUTO_ERROR_ENUM_(id, name, rc, errno_) id,
enum pluto_error {
	PLUTO_ERRORS(PLUTO_ERROR_ENUM_)
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
	/* 200 + AUTHENTICATION_FAILED (24): a refused XAUTH password, as a
	 * refused preshared key or signature reads */
	RC_AUTHENTICATION_FAILED = 224,
};

struct pluto_error_info {
	const char *name;     /* "UnknownName": D-Bus suffix and Varlink suffix */
	enum whack_rc rc;     /* what whack prints and exits with */
	int errno_code;       /* positive errno an sd-bus caller sees */
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
