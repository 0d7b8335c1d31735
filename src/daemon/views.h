/* One view of the Manager, connections and states for every front end.
 * The rows (names, types, flags) are in common/view-fields.h; this adds
 * the getter of each row, so D-Bus properties, Varlink JSON and Monitor
 * changes are all rendered from the same values, and the change
 * detection behind events.h: a change is announced only when a value
 * differs from the one last announced. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/view-fields.h"

struct connection;
struct state;

/* One bit per field id of a kind. */
typedef uint32_t view_mask;
#define VIEW_BIT(id) ((view_mask)1 << (id))

/* A field's value, as its getter left it. Which members are set depends
 * on type (see enum view_type); the rest is storage for the getter.
 * Release with view_value_clear. */
struct view_value {
	enum view_type type;
	const char *s;                   /* STRING */
	bool b;                          /* BOOL */
	uint64_t u;                      /* U32, U64, STATE_REF (a serial, 0 = none) */
	const struct connection *conn;   /* CONN_REF, NULL = none */
	const char *const *keys;         /* STRING_MAP: keys[i] -> strs[i] */
	const char *const *strs;         /* STRING_MAP values, STRING_LIST */
	const uint32_t *u32s;            /* U32_LIST, STATE_REFS (serials) */
	size_t n;                        /* entries of the lists above */

	char buf[64];
	const char *list[32];
	void *owned;                     /* freed by view_value_clear */
};

/* Fill *v with field (an id of kind) of obj (NULL for the Manager). */
/* Where the Manager's Listening, Interfaces and KernelBackend come from:
 * registered by the control core, which owns them (control.c). */
struct view_manager_facts {
	bool (*listening)(void);
	const char *const *(*interfaces)(void);
	const char *(*kernel_backend)(void);
};
void views_set_manager_facts(const struct view_manager_facts *facts);

void view_get(enum view_kind kind, const void *obj, unsigned field, struct view_value *v);
void view_value_clear(struct view_value *v);

/* The rows of a kind, and a row by D-Bus name (-1 when none). */
const struct view_field_name *view_fields(enum view_kind kind, size_t *n);
int view_field_by_dbus(enum view_kind kind, const char *property);

/* --- change detection: the values last announced for one object --- */

struct view_cache;

/* An object appears: remember every value as announced. */
void view_remember(enum view_kind kind, const void *obj, struct view_cache **cache);
/* field changed (or maybe several: the kind's __ALL id): compare with the
 * values last announced, remember the new ones, and return the fields
 * that really differ (0: nothing to announce). An object never
 * remembered has nothing to compare with: the field(s) as told. */
view_mask view_changes(enum view_kind kind, const void *obj, struct view_cache **cache, unsigned field);
void view_cache_free(struct view_cache **cache);
/* Every cache filled so far is stale (nobody remembered values for a
 * while): the next view_changes on it reports the fields as told. */
void view_caches_expire(void);
/* The mask view_changes reports when it has nothing to compare with. */
view_mask view_told(enum view_kind kind, unsigned field);
/* The Manager has one object: its cache lives here. */
struct view_cache **view_manager_cache(void);

/* "Name,Established": the D-Bus (else JSON) names of mask, for debug lines */
void view_mask_names(enum view_kind kind, view_mask mask, char *buf, size_t len);
