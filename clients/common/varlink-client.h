/* A small blocking Varlink client over a unix socket (json-c), shared by
 * whack and ipsecctl. One request at a time: send it, then read replies
 * until one arrives without "continues". Errors are returned as negative
 * errno; a Varlink error reply is not a failure of this layer, it is a
 * reply whose `error` is set. */
#pragma once
#include <stdbool.h>

#include <json-c/json.h>

struct vl_conn;

enum vl_call_flags {
	VL_MORE = 1 << 0,   /* ask for a stream of replies ("more": true) */
	VL_ONEWAY = 1 << 1, /* no reply wanted ("oneway": true) */
};

/* One reply. `parameters` is always an object (empty when the reply had
 * none); `error` is the full error name or NULL; both point into `root`. */
struct vl_reply {
	json_object *root;
	json_object *parameters;
	const char *error;
	bool continues;
};

/* Connect to the socket at `path`; -errno on failure. */
int vl_connect(const char *path, struct vl_conn **ret);
/* What a failed vl_connect means and how to fix it, for a person:
 * "cannot connect to pluto at PATH: no such socket: is pluto running? ..."
 * (ENOENT, ECONNREFUSED, EACCES, ...), written into buf. */
const char *vl_connect_failure(const char *path, int r, char *buf, size_t len);
void vl_close(struct vl_conn *c);

/* Milliseconds to wait for each reply; -1 (the default) waits for ever.
 * A reply that does not come in time makes vl_recv return -ETIMEDOUT. */
void vl_set_timeout(struct vl_conn *c, int timeout_ms);

/* Send a call. `parameters` may be NULL (no parameters); it is borrowed. */
int vl_send(struct vl_conn *c, const char *method, json_object *parameters, unsigned flags);

/* Read the next reply. -ECONNRESET when the peer closed the connection,
 * -EBADMSG for a message that is not a JSON object. */
int vl_recv(struct vl_conn *c, struct vl_reply *reply);
void vl_reply_clear(struct vl_reply *reply);

/* vl_send + vl_recv for a call that has exactly one reply. */
int vl_call(struct vl_conn *c, const char *method, json_object *parameters, struct vl_reply *reply);

/* vl_call for a reply of megabytes that is only passed on: on success
 * *text (*len bytes, not NUL-terminated) is the JSON text of the reply's
 * parameters as sent, inside the connection's buffer (not copied, not
 * parsed, so not checked either; valid until the next call on c) and
 * *reply stays empty; an error reply (or one without parameters) is
 * parsed into *reply as vl_call does, with *text NULL. */
int vl_call_text(struct vl_conn *c, const char *method, json_object *parameters, const char **text,
		 size_t *len, struct vl_reply *reply);

/* The reply's error name without the "org.freeswan.pluto." prefix (other
 * interfaces' errors, e.g. org.varlink.service.*, are returned whole). */
const char *vl_error_short_name(const struct vl_reply *reply);
/* The error's "message" parameter, or "" when it has none. */
const char *vl_error_message(const struct vl_reply *reply);

/* Small typed getters for reply parameters; the fallback when the field is
 * absent or of another type. */
const char *vl_get_string(json_object *obj, const char *key, const char *fallback);
long long vl_get_int(json_object *obj, const char *key, long long fallback);
bool vl_get_bool(json_object *obj, const char *key, bool fallback);
bool vl_has(json_object *obj, const char *key);

/* The socket both clients use: the command-line path, else $PLUTO_SOCKET,
 * else the compiled-in default (API.md section 4). */
const char *vl_socket_path(const char *from_command_line);
