/* The IDL's Connection, State and Change types as JSON, rendered from the
 * view (daemon/views.h), so they have the same fields as the D-Bus
 * Connection and State properties (API.md sections 2 and 3). */
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
 * NOSLASHESCAPE), member for member. --- */

/* A JSON string: quotes, backslash and control characters escaped; all
 * other bytes copied. Room for the worst case (every byte \u00XX) is
 * made once, then the bytes are written in place. */
void vl_json_text_string(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = s ? s : "";
	size_t n = strlen(p);
	strbuf_grow(sb, 6 * n + 2);
	char *o = sb->data + sb->len;
	*o++ = '"';
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			*o++ = (char)ch;
			continue;
		}
		*o++ = '\\';
		switch (ch) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\t': *o++ = 't'; break;
		case '\r': *o++ = 'r'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	sb->len = (size_t)(o - sb->data);
}

static void text_u64(struct strbuf *sb, uint64_t u)
{
	char buf[24], *p = buf + sizeof(buf);
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	strbuf_addn(sb, p, (size_t)(buf + sizeof(buf) - p));
}

/* false when an optional field is empty and so left out */
static bool value_text(struct strbuf *sb, const struct view_value *v, unsigned flags)
{
	switch (v->type) {
	case VIEW_STRING:
		vl_json_text_string(sb, v->s);
		return true;
	case VIEW_BOOL:
		strbuf_add(sb, v->b ? "true" : "false");
		return true;
	case VIEW_U32:
	case VIEW_STATE_REF:
	case VIEW_U64:
		text_u64(sb, v->u);
		return true;
	case VIEW_STRING_MAP:
		strbuf_addn(sb, "{", 1);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				strbuf_addn(sb, ",", 1);
			vl_json_text_string(sb, v->keys[i]);
			strbuf_addn(sb, ":", 1);
			vl_json_text_string(sb, v->strs[i]);
		}
		strbuf_addn(sb, "}", 1);
		return true;
	case VIEW_STRING_LIST:
		strbuf_addn(sb, "[", 1);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				strbuf_addn(sb, ",", 1);
			vl_json_text_string(sb, v->strs[i]);
		}
		strbuf_addn(sb, "]", 1);
		return true;
	case VIEW_U32_LIST:
	case VIEW_STATE_REFS:
		strbuf_addn(sb, "[", 1);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				strbuf_addn(sb, ",", 1);
			text_u64(sb, v->u32s[i]);
		}
		strbuf_addn(sb, "]", 1);
		return true;
	case VIEW_CONN_REF:
		if (!v->conn && (flags & VF_OPTIONAL))
			return false;
		vl_json_text_string(sb, v->conn ? v->conn->name : "");
		return true;
	}
	return false;
}

/* The members of the view of obj, without the braces ("a":1,"b":2);
 * a leading comma when more is true (members already written). */
void vl_view_json_members(struct strbuf *sb, enum view_kind kind, const void *obj, bool more)
{
	size_t n;
	const struct view_field_name *f = view_fields(kind, &n);
	for (unsigned i = 0; i < n; i++) {
		struct view_value v;
		view_get(kind, obj, i, &v);
		size_t mark = sb->len;
		if (more)
			strbuf_addn(sb, ",", 1);
		vl_json_text_string(sb, f[i].json);
		strbuf_addn(sb, ":", 1);
		if (value_text(sb, &v, f[i].flags)) {
			more = true;
		} else {
			sb->len = mark;   /* left out: take the name back */
			sb->data[mark] = '\0';
		}
		view_value_clear(&v);
	}
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
