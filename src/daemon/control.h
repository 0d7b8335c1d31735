/* THE control core: every command of API.md, used by every front end
 * (D-Bus, Varlink, and through Varlink whack and ipsecctl). Same request,
 * same result, same error, same log lines, whichever door it came through.
 *
 * Every function returns 0 on success or -1 with *err filled. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/errors.h"

struct connection;
struct state;
struct progress_sink;

/* Who is asking: front ends fill it so that log lines can say so. */
struct ctl_caller {
	const char *via;     /* "dbus", "varlink" */
	unsigned uid;
};

int ctl_add_connection(const char *name, const char *const *keys, const char *const *values,
		       size_t n, struct connection **ret, struct ctl_error *err);
int ctl_delete_connection(const char *name, struct ctl_error *err);
int ctl_route(const char *name, struct ctl_error *err);
int ctl_unroute(const char *name, struct ctl_error *err);
/* sink may be NULL (fire and forget). On success the sink is attached to
 * the connection and will be finished by the engine; on failure it is not
 * attached. */
int ctl_initiate(const char *name, struct progress_sink *sink, struct ctl_error *err);
int ctl_terminate(const char *name, struct ctl_error *err);
int ctl_delete_state(unsigned serial, struct ctl_error *err);
int ctl_listen(struct ctl_error *err);
int ctl_unlisten(struct ctl_error *err);
int ctl_add_public_key(const char *id, const char *key, struct ctl_error *err);
int ctl_reload_secrets(struct ctl_error *err);
/* SetSecret / DeleteSecret (API.md 2): kind "psk" or "xauth"; the secret
 * stays in memory beside the secrets file, which never overrides it, and
 * is never readable back nor printed. */
int ctl_set_secret(const char *kind, const char *const *ids, size_t n_ids, const char *secret,
		   struct ctl_error *err);
int ctl_delete_secret(const char *kind, const char *const *ids, size_t n_ids, struct ctl_error *err);
/* classes: "all", "none", or class names (optionally "no-" prefixed);
 * connection NULL = global. */
int ctl_set_debug(const char *const *classes, size_t n, const char *connection,
		  struct ctl_error *err);
/* The text of whack --status (malloc'd). */
char *ctl_status_text(void);
/* Delete every connection as DeleteConnection does (Deletes sent to
 * peers, eroutes removed, updown unroute run): shutdown's teardown. */
void ctl_delete_all(void);
/* Ask the main loop to exit after tearing everything down. */
void ctl_shutdown(void);

/* Read-only views for the front ends */
bool ctl_listening(void);
/* NULL-terminated, static until the next Listen/Unlisten */
const char *const *ctl_interfaces(void);
const char *ctl_kernel_backend(void);
/* Debug class names in effect globally (NULL-terminated, static storage) */
unsigned ctl_debug_classes(const struct connection *c, const char *out[], unsigned max);

/* Hook the daemon installs so ctl_shutdown() can stop the event loop. */
void ctl_set_shutdown_hook(void (*hook)(void));
