/* The IDL's Connection, State and Change types as JSON, rendered from the
 * view (daemon/views.h), so they have the same fields as the D-Bus
 * Connection and State properties (API.md sections 2 and 3). */
#include <stdlib.h>
#include <string.h>

#include "bus/varlink-internal.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/events.h"
#include "daemon/state.h"
#include "daemon/views.h"

static void add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value ? value : ""));
}

static json_object *u32_array(const uint32_t *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

/* One value as JSON (a new reference), or NULL when an optional field is
 * empty and so left out. */
static json_object *value_json(const struct view_value *v, unsigned flags)
{
	json_object *o;
	switch (v->type) {
	case VIEW_STRING:
		return json_object_new_string(v->s ? v->s : "");
	case VIEW_BOOL:
		return json_object_new_boolean(v->b);
	case VIEW_U32:
	case VIEW_STATE_REF:
		return json_object_new_int64((int64_t)v->u);
	case VIEW_U64:
		return json_object_new_uint64(v->u);
	case VIEW_STRING_MAP:
		o = json_object_new_object();
		for (size_t i = 0; i < v->n; i++)
			json_object_object_add(o, v->keys[i], json_object_new_string(v->strs[i]));
		return o;
	case VIEW_STRING_LIST:
		o = json_object_new_array();
		for (size_t i = 0; i < v->n; i++)
			json_object_array_add(o, json_object_new_string(v->strs[i]));
		return o;
	case VIEW_U32_LIST:
	case VIEW_STATE_REFS:
		return u32_array(v->u32s, v->n);
	case VIEW_CONN_REF:
		if (!v->conn && (flags & VF_OPTIONAL))
			return NULL;
		return json_object_new_string(v->conn ? v->conn->name : "");
	}
	return NULL;
}

json_object *vl_view_json(enum view_kind kind, const void *obj)
{
	size_t n;
	const struct view_field_name *f = view_fields(kind, &n);
	json_object *o = json_object_new_object();
	for (unsigned i = 0; i < n; i++) {
		struct view_value v;
		view_get(kind, obj, i, &v);
		json_object *j = value_json(&v, f[i].flags);
		view_value_clear(&v);
		if (j)
			json_object_object_add(o, f[i].json, j);
	}
	return o;
}

/* --- the same JSON written as text, for the replies that carry every
 * connection and state (Status): building a json-c object per field of
 * 30,000 objects and serialising them cost ten times the data. The text
 * is what json-c would print for vl_view_json (JSON_C_TO_STRING_PLAIN |
 * NOSLASHESCAPE), member for member. Status of 10,000 connections and
 * 20,000 states is some 30 MB of it, so the writers below put bytes
 * straight into the buffer: room made once per string, runs of plain
 * bytes copied whole, member names written once per process. --- */

/* Room for more bytes and the NUL; where they go. */
static inline char *room(struct strbuf *sb, size_t more)
{
	if (sb->len + more + 1 > sb->cap)
		strbuf_grow(sb, more);
	return sb->data + sb->len;
}

static inline void put(struct strbuf *sb, const char *s, size_t n)
{
	memcpy(room(sb, n), s, n);
	sb->len += n;
}

static inline void put_char(struct strbuf *sb, char c)
{
	*room(sb, 1) = c;
	sb->len++;
}

#define PUT_LITERAL(sb, lit) put((sb), (lit), sizeof(lit) - 1)

/* The escape of each byte in a JSON string: 0 = itself, 'u' = \u00XX,
 * else the letter after the backslash. */
static const char json_escape[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
	[0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
	[0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
	[0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
	[0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
	['"'] = '"', ['\\'] = '\\',
};

/* A JSON string of the n bytes at s. Room for the plain case is made
 * once; an escaped byte makes room for its few more. */
static void put_string(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	char *o = room(sb, n + 2);
	*o++ = '"';
	for (; p < end; p++) {
		char e = json_escape[*p];
		if (!e)
			continue;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		run = p + 1;
		/* 6 for this byte, what is left of the string and the quote */
		sb->len = (size_t)(o - sb->data);
		o = room(sb, 6 + (size_t)(end - run) + 1);
		*o++ = '\\';
		*o++ = e;
		if (e == 'u') {
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	memcpy(o, run, (size_t)(end - run));
	o += end - run;
	*o++ = '"';
	*o = '\0';
	sb->len = (size_t)(o - sb->data);
}

void vl_json_text_string_n(struct strbuf *sb, const char *s, size_t n)
{
	put_string(sb, s, n);
}

void vl_json_text_string(struct strbuf *sb, const char *s)
{
	const char *p = s ? s : "";
	put_string(sb, p, strlen(p));
}

static void text_u64(struct strbuf *sb, uint64_t u)
{
	char buf[24], *p = buf + sizeof(buf);
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	put(sb, p, (size_t)(buf + sizeof(buf) - p));
}

/* A string map member's key is written when no keys are named, or it is one of them. */
static bool map_key_wanted(const struct vl_projection *proj, const char *key)
{
	if (!proj || !proj->map_keys)
		return true;
	for (size_t i = 0; i < proj->n_map_keys; i++)
		if (strcmp(proj->map_keys[i], key) == 0)
			return true;
	return false;
}

/* false when an optional field is empty and so left out */
static bool value_text(struct strbuf *sb, const struct view_value *v, unsigned flags, const struct vl_projection *proj)
{
	switch (v->type) {
	case VIEW_STRING:
		vl_json_text_string(sb, v->s);
		return true;
	case VIEW_BOOL:
		if (v->b)
			PUT_LITERAL(sb, "true");
		else
			PUT_LITERAL(sb, "false");
		return true;
	case VIEW_U32:
	case VIEW_STATE_REF:
	case VIEW_U64:
		text_u64(sb, v->u);
		return true;
	case VIEW_STRING_MAP: {
		bool first = true;
		put_char(sb, '{');
		for (size_t i = 0; i < v->n; i++) {
			if (!map_key_wanted(proj, v->keys[i]))
				continue;
			if (!first)
				put_char(sb, ',');
			first = false;
			vl_json_text_string(sb, v->keys[i]);
			put_char(sb, ':');
			vl_json_text_string(sb, v->strs[i]);
		}
		put_char(sb, '}');
		return true;
	}
	case VIEW_STRING_LIST:
		put_char(sb, '[');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				put_char(sb, ',');
			vl_json_text_string(sb, v->strs[i]);
		}
		put_char(sb, ']');
		return true;
	case VIEW_U32_LIST:
	case VIEW_STATE_REFS:
		put_char(sb, '[');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				put_char(sb, ',');
			text_u64(sb, v->u32s[i]);
		}
		put_char(sb, ']');
		return true;
	case VIEW_CONN_REF:
		if (!v->conn && (flags & VF_OPTIONAL))
			return false;
		vl_json_text_string(sb, v->conn ? v->conn->name : "");
		return true;
	}
	return false;
}

/* Each member's name as written: ,"name": (the comma skipped for the
 * first member), made once per kind from the view's rows. */
struct member_name {
	char text[40];
	size_t len;
};

static const struct member_name *member_names(enum view_kind kind, size_t *n)
{
	static struct member_name names[VIEW__KINDS][32];
	static bool made[VIEW__KINDS];
	const struct view_field_name *f = view_fields(kind, n);
	if (!made[kind]) {
		for (size_t i = 0; i < *n && i < ARRAY_SIZE(names[kind]); i++) {
			struct strbuf sb;
			strbuf_init(&sb);
			put_char(&sb, ',');
			vl_json_text_string(&sb, f[i].json);
			put_char(&sb, ':');
			/* the names are a few words: a longer one is a bug in the rows */
			if (sb.len >= sizeof(names[kind][i].text))
				abort();
			memcpy(names[kind][i].text, sb.data, sb.len);
			names[kind][i].len = sb.len;
			strbuf_free(&sb);
		}
		made[kind] = true;
	}
	return names[kind];
}

/* The members of the view of obj, without the braces ("a":1,"b":2);
 * a leading comma when more is true (members already written); only
 * those proj asks for (NULL: all). A field left out is never computed. */
void vl_view_json_project(struct strbuf *sb, enum view_kind kind, const void *obj, bool more,
			  const struct vl_projection *proj)
{
	size_t n;
	const struct member_name *names = member_names(kind, &n);
	const struct view_field_name *f = view_fields(kind, &n);
	for (unsigned i = 0; i < n; i++) {
		if (proj && proj->only_fields && !(proj->fields & VIEW_BIT(i)))
			continue;
		struct view_value v;
		view_get(kind, obj, i, &v);
		size_t mark = sb->len;
		/* ,"name": or, first, "name": */
		put(sb, names[i].text + !more, names[i].len - !more);
		if (value_text(sb, &v, f[i].flags, proj)) {
			more = true;
		} else {
			sb->len = mark;   /* left out: take the name back */
		}
		view_value_clear(&v);
	}
	*room(sb, 0) = '\0';
}

void vl_view_json_members(struct strbuf *sb, enum view_kind kind, const void *obj, bool more)
{
	vl_view_json_project(sb, kind, obj, more, NULL);
}

int vl_projection_fields(enum view_kind kind, json_object *names, struct vl_projection *proj)
{
	proj->only_fields = names != NULL;
	proj->fields = 0;
	size_t n_names = names ? json_object_array_length(names) : 0;
	for (size_t i = 0; i < n_names; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));
		size_t n;
		const struct view_field_name *f = view_fields(kind, &n);
		size_t id = 0;
		while (id < n && strcmp(f[id].json, name) != 0)
			id++;
		if (id == n)
			return -1;
		proj->fields |= VIEW_BIT(id);
	}
	return 0;
}

json_object *vl_connection_json(const struct connection *c)
{
	return vl_view_json(VIEW_CONNECTION, c);
}

json_object *vl_state_json(const struct state *st)
{
	return vl_view_json(VIEW_STATE, st);
}

/* indexed by enum pluto_event_kind; the IDL's Change.event enum */
static const char *const event_names[] = {
	[EV_CONNECTION_ADDED]   = "connectionAdded",
	[EV_CONNECTION_REMOVED] = "connectionRemoved",
	[EV_CONNECTION_CHANGED] = "connectionChanged",
	[EV_STATE_ADDED]        = "stateAdded",
	[EV_STATE_REMOVED]      = "stateRemoved",
	[EV_STATE_CHANGED]      = "stateChanged",
	[EV_MANAGER_CHANGED]    = "managerChanged",
	[EV_PROGRESS]           = "progress",
};

/* What changed: "fields" the JSON names of every changed field, and
 * "property" the D-Bus property name when exactly one field changed and
 * D-Bus shows it (the name a PropertiesChanged listener sees). */
static void add_changed_fields(json_object *o, enum view_kind kind, view_mask changed)
{
	if (!changed)
		return;
	size_t n, count = 0;
	const struct view_field_name *f = view_fields(kind, &n);
	json_object *fields = json_object_new_array();
	const char *single = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(changed & VIEW_BIT(i)))
			continue;
		json_object_array_add(fields, json_object_new_string(f[i].json));
		single = f[i].dbus;
		count++;
	}
	json_object_object_add(o, "fields", fields);
	if (count == 1 && single)
		add_string(o, "property", single);
}

/* Objects are still alive while their *_REMOVED event is delivered, so
 * removals carry the last view of what went away. */
json_object *vl_change_json(const struct pluto_event *ev)
{
	json_object *o = json_object_new_object();
	const char *name = (unsigned)ev->kind < ARRAY_SIZE(event_names) ? event_names[ev->kind] : NULL;
	add_string(o, "event", name ? name : "managerChanged");
	switch (ev->kind) {
	case EV_CONNECTION_ADDED:
	case EV_CONNECTION_REMOVED:
	case EV_CONNECTION_CHANGED:
		if (ev->c)
			json_object_object_add(o, "connection", vl_connection_json(ev->c));
		break;
	case EV_STATE_ADDED:
	case EV_STATE_REMOVED:
	case EV_STATE_CHANGED:
		if (ev->st)
			json_object_object_add(o, "state", vl_state_json(ev->st));
		break;
	case EV_PROGRESS:
		json_object_object_add(o, "code", json_object_new_int64(ev->rc));
		add_string(o, "message", ev->text);
		break;
	case EV_MANAGER_CHANGED:
		break;
	}
	const struct connection *c = ev->c ? ev->c : ev->st ? ev->st->connection : NULL;
	if (c)
		add_string(o, "connectionName", c->name);
	add_changed_fields(o, event_view_kind(ev), ev->changed);
	return o;
}
