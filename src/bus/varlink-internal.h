/* Internals of the Varlink front end, shared by its files (and the fuzz
 * target, which drives the same parsing and dispatch path without a socket).
 *
 *   varlink.c           transport: sockets, clients, NUL framing, output queues
 *   varlink-dispatch.c  one request: JSON, envelope, interface/method lookup,
 *                       access check, parameter validation, org.varlink.service
 *   varlink-pluto.c     the org.freeswan.pluto methods over daemon/control.h
 *   varlink-json.c      Connection / State / Change objects as the IDL types */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/errors.h"

struct connection;
struct state;
struct pluto_event;

/* One request may be at most 32 MiB (without its terminating NUL); a
 * client that sends more is disconnected. Most requests are a few hundred
 * bytes, but one AddConnections of 10,000 connections is a few MiB (and
 * must be one request to be all or nothing); the cap keeps one client from
 * making the daemon buffer without bound. */
#define VL_MESSAGE_MAX (32 * 1024 * 1024)
/* Queued, unsent output per client: above this we stop reading its requests
 * until it catches up, and a streaming client (Monitor, Initiate with more)
 * that still falls behind is dropped, since its events cannot wait. */
#define VL_OUTPUT_MAX (1024 * 1024)
/* JSON nesting depth accepted in a request (the IDL needs 3). */
#define VL_JSON_DEPTH 16

struct vl_client;
struct strbuf;

/* A call that outlives its dispatch (Initiate waiting for the engine, a
 * Monitor stream). The client owns it: when the client goes away, cancel()
 * detaches it from the daemon and frees it. */
struct vl_pending {
	struct vl_client *client;
	bool more;
	void (*cancel)(struct vl_pending *p);
	struct vl_pending *prev, *next;
};

void vl_pending_add(struct vl_client *c, struct vl_pending *p);
/* The call ended by itself (final reply sent): forget it, caller frees. */
void vl_pending_remove(struct vl_pending *p);

/* Queue one reply: {"parameters": parameters (taken; NULL = {}),
 * "error": error (NULL = none), "continues": continues}. Dropped when the
 * client is going away. A streamed reply (continues) to a client whose
 * queue is over VL_OUTPUT_MAX drops that client. */
void vl_client_send(struct vl_client *c, json_object *parameters, const char *error, bool continues);
/* The same for a final reply already written as JSON text; its buffer is
 * taken over when nothing else is queued (no copy of megabytes). */
void vl_client_send_message(struct vl_client *c, struct strbuf *message);
/* Log why and disconnect the client (after the current callback). */
void vl_client_fail(struct vl_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool vl_client_closing(const struct vl_client *c);
/* root, or in the admin group */
bool vl_client_privileged(const struct vl_client *c);
/* "uid 0 pid 123" for log lines */
const char *vl_client_describe(const struct vl_client *c);

/* One call while it is being dispatched. */
struct vl_call {
	struct vl_client *client;
	const char *method;        /* fully qualified */
	bool more, oneway;
};

/* Replies to the call (nothing is sent for oneway calls). */
void vl_reply(struct vl_call *call, json_object *parameters);
void vl_reply_error(struct vl_call *call, const char *error, json_object *parameters);
/* "org.freeswan.pluto.<Name>" {message} from a control-core error */
void vl_reply_ctl_error(struct vl_call *call, const struct ctl_error *err);
void vl_reply_invalid_parameter(struct vl_call *call, const char *parameter);
/* the same as a reply body, for streamed replies of pending calls */
json_object *vl_ctl_error_parameters(const struct ctl_error *err);
const char *vl_ctl_error_name(const struct ctl_error *err, char *buf, size_t len);

/* Parameter types a method declares; the dispatcher checks them before the
 * method runs, so methods read parameters without checking types again. */
/* VL_CONNECTION_LIST: [](name: string, options: [string]string), the
 * argument of AddConnections. */
enum vl_type { VL_STRING, VL_INT, VL_BOOL, VL_STRING_LIST, VL_STRING_MAP, VL_CONNECTION_LIST };

struct vl_param {
	const char *name;
	enum vl_type type;
	bool optional;             /* absent or null allowed (IDL "?type") */
};

/* Every method changes state unless its row says VL_READ_ONLY: the socket
 * is open to every local user (0666), so a new method forgetting a flag
 * must fail closed (PermissionDenied for callers that are not root or in
 * the admin group), not open. VL_PRIVILEGED is that default, spelt out. */
enum vl_method_flags {
	VL_PRIVILEGED = 0,         /* changes state: root / admin group only (the default) */
	VL_NEEDS_MORE = 1u << 1,   /* ExpectedMore without "more": true */
	VL_READ_ONLY = 1u << 2,    /* only reads: any local user may call it */
};

struct vl_method {
	const char *name;
	void (*run)(struct vl_call *call, json_object *parameters);
	unsigned flags;
	const struct vl_param *params;   /* terminated by { 0 } */
};

struct vl_interface {
	const char *name;
	const struct vl_method *methods; /* terminated by { 0 } */
	const char *description;        /* IDL text, served verbatim */
	const size_t *description_len;
};

extern const struct vl_interface vl_interface_service;
extern const struct vl_interface vl_interface_pluto;

/* Parse, validate and run one NUL-less message of len bytes. A message that
 * is not a JSON object with a "method" string disconnects the client. */
void vl_dispatch(struct vl_client *c, const char *msg, size_t len);

/* Typed getters for parameters the dispatcher already validated. */
const char *vl_param_string(json_object *parameters, const char *name);

/* The IDL types as JSON objects (new references). vl_view_json: the
 * fields of one view kind (obj NULL for the Manager). */
#include "common/view-fields.h"
#include "daemon/views.h"
json_object *vl_view_json(enum view_kind kind, const void *obj);
json_object *vl_connection_json(const struct connection *c);
json_object *vl_state_json(const struct state *st);
json_object *vl_change_json(const struct pluto_event *ev);
/* JSON as text (varlink-json.c), for replies too big for json-c objects:
 * a string, and the members of an object of the view (no braces; a comma
 * first when more). */
struct strbuf;
void vl_json_text_string(struct strbuf *sb, const char *s);
void vl_json_text_string_n(struct strbuf *sb, const char *s, size_t n);
void vl_view_json_members(struct strbuf *sb, enum view_kind kind, const void *obj, bool more);
/* What a reply carries of a view: with only_fields the fields whose bits
 * are set (else all), and of a string map (a connection's options) only
 * map_keys (all when NULL). Status(connectionFields, stateFields, optionKeys). */
struct vl_projection {
	bool only_fields;
	view_mask fields;
	const char *const *map_keys;
	size_t n_map_keys;
};
void vl_view_json_project(struct strbuf *sb, enum view_kind kind, const void *obj, bool more,
			  const struct vl_projection *proj);
/* proj's fields from a JSON array of member names (NULL: all fields);
 * -1 when one is not a field of kind. */
int vl_projection_fields(enum view_kind kind, json_object *names, struct vl_projection *proj);
/* Reply with a whole message already written as JSON text
 * ({"parameters":{...}}); the strbuf is taken (and left empty). */
void vl_reply_message(struct vl_call *call, struct strbuf *message);

/* For the fuzz target: run bytes through the framing and dispatch of a
 * client that has no socket (its replies are built, then discarded), then
 * tear that client down exactly as a disconnect would. */
void varlink_fuzz_feed(const uint8_t *data, size_t len, bool privileged);
