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
/* ReplaceConnection (API.md 2): adds, or replaces in place. The
 * keep-if-unchanged rule: the same normalised option map = nothing touched
 * (same SAs, no Delete sent); different = the old one terminated (Deletes
 * sent), unrouted and deleted, then the new one added with its auto. A bad
 * option map changes nothing. The connection becomes an API one. */
int ctl_replace_connection(const char *name, const char *const *keys, const char *const *values,
			   size_t n, struct connection **ret, struct ctl_error *err);
/* One entry of AddConnections: a name and its option map. */
struct ctl_connection_def {
	const char *name;
	const char *const *keys;
	const char *const *values;
	size_t n;
};
/* AddConnections (API.md 2): all or nothing. Every entry is checked
 * first (its options, a name used twice in the batch or already defined);
 * the first bad one fails the call with an error naming the entry, and
 * nothing is added. Then all are added, and only then each one's auto=
 * applied. ret (n entries, may be NULL) gets the connections in order. */
int ctl_add_connections(const struct ctl_connection_def *defs, size_t n, struct connection **ret,
			struct ctl_error *err);
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

/* --- the pieces AddConnection, ReplaceConnection, start-up and Reload
 * (config_apply.h) share --- */

struct connection_config;

/* Parse and check an option map as AddConnection does (the options, the
 * public keys, the orientation): 0 with *cfg filled, or -1 with
 * InvalidOption / CannotOrient and *cfg empty. Nothing changes. */
int ctl_config_from_options(const char *name, const char *const *keys, const char *const *values,
			    size_t n, struct connection_config *cfg, struct ctl_error *err);

enum ctl_define_outcome { CTL_DEFINE_ADDED, CTL_DEFINE_CHANGED, CTL_DEFINE_UNCHANGED };

/* Define name from a checked cfg (taken over) at source: add it, keep it
 * (the same normalised options: only its source is updated) or replace it
 * (the old one deleted as DeleteConnection does). with_auto: apply auto=
 * to an added or replacement connection now. */
int ctl_define_connection(const char *name, const char *source, struct connection_config *cfg,
			  bool with_auto, enum ctl_define_outcome *outcome, struct connection **ret,
			  struct ctl_error *err);
/* Terminate (Deletes sent), unroute and forget, as DeleteConnection. */
void ctl_remove_connection(struct connection *c);
/* auto=route|start of c, as right after adding it; what it did is
 * counted in *routed / *started when not NULL. */
void ctl_apply_auto(struct connection *c, unsigned *routed, unsigned *started);
/* Read the secrets file (a missing one is only noted): 0, or -1 with
 * err (InvalidSecrets) and the secrets in force kept. */
int ctl_read_secrets(struct ctl_error *err);
/* Listen as ctl_listen does but without reading the secrets or starting
 * the auto=start connections (start-up does both in its own order). */
int ctl_listen_sockets(struct ctl_error *err);

/* Hook the daemon installs so ctl_shutdown() can stop the event loop. */
void ctl_set_shutdown_hook(void (*hook)(void));
