/* The view of the Manager, connections and states (daemon/views.h):
 *   - the Varlink IDL (src/bus/org.freeswan.pluto.varlink, read from the
 *     source tree) agrees with the daemon's method table, the view's
 *     fields and the error table, both ways, so none of them can drift;
 *   - a change announced for a value that did not change reaches no
 *     subscriber (so neither PropertiesChanged nor a Monitor change is
 *     sent), and a real one names exactly the fields that changed, in
 *     the change events and in the Monitor JSON rendered from them. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bus/varlink-internal.h"
#include "common/errors.h"
#include "common/util.h"
#include "common/view-fields.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "daemon/views.h"

/* --- a small reader of the Varlink IDL --- */

struct idl_member {
	char *name, *type;   /* type without whitespace: "?[]string", "(isakmp,ipsec)" */
};

struct idl_decl {
	char *keyword;       /* "type", "method", "error" */
	char *name;
	GPtrArray *in;       /* struct idl_member: type fields, method or error parameters */
	GPtrArray *out;      /* method results */
};

static char *without_space(const char *s, size_t len)
{
	GString *g = g_string_new(NULL);
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isspace(s[i]))
			g_string_append_c(g, s[i]);
	return g_string_free(g, FALSE);
}

static void member_free(gpointer p)
{
	struct idl_member *m = p;
	g_free(m->name);
	g_free(m->type);
	g_free(m);
}

/* "a: string, b: (x, y), c: [string]string" -> members, split at the
 * commas outside brackets */
static GPtrArray *members(const char *s, size_t len)
{
	GPtrArray *list = g_ptr_array_new_with_free_func(member_free);
	int depth = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && (s[i] == '(' || s[i] == '['))
			depth++;
		else if (i < len && (s[i] == ')' || s[i] == ']'))
			depth--;
		else if (i == len || (s[i] == ',' && depth == 0)) {
			char *item = without_space(s + start, i - start);
			start = i + 1;
			if (!*item) {
				g_free(item);
				continue;
			}
			char *colon = strchr(item, ':');
			if (!colon)
				g_error("IDL member without a type: %s", item);
			struct idl_member *m = g_new0(struct idl_member, 1);
			m->name = g_strndup(item, (size_t)(colon - item));
			m->type = g_strdup(colon + 1);
			g_ptr_array_add(list, m);
			g_free(item);
		}
	}
	return list;
}

/* At *p (after spaces) a "( ... )": its members; *p moves past it. */
static GPtrArray *parenthesised(const char **p)
{
	while (g_ascii_isspace(**p))
		(*p)++;
	if (**p != '(')
		g_error("IDL: expected '(' at: %.40s", *p);
	const char *open = ++*p;
	int depth = 1;
	while (**p && depth) {
		if (**p == '(')
			depth++;
		else if (**p == ')')
			depth--;
		(*p)++;
	}
	if (depth)
		g_error("IDL: unbalanced parentheses");
	return members(open, (size_t)(*p - 1 - open));
}

static char *word(const char **p)
{
	while (g_ascii_isspace(**p))
		(*p)++;
	const char *start = *p;
	while (g_ascii_isalnum(**p) || **p == '_' || **p == '.')
		(*p)++;
	return g_strndup(start, (size_t)(*p - start));
}

static void decl_free(gpointer p)
{
	struct idl_decl *d = p;
	g_free(d->keyword);
	g_free(d->name);
	if (d->in)
		g_ptr_array_unref(d->in);
	if (d->out)
		g_ptr_array_unref(d->out);
	g_free(d);
}

static GPtrArray *idl_parse(const char *text)
{
	/* comments run from # to the end of the line */
	GString *clean = g_string_new(NULL);
	for (const char *s = text; *s; s++) {
		if (*s == '#')
			while (*s && *s != '\n')
				s++;
		if (!*s)
			break;
		g_string_append_c(clean, *s);
	}
	GPtrArray *decls = g_ptr_array_new_with_free_func(decl_free);
	const char *p = clean->str;
	for (;;) {
		char *kw = word(&p);
		if (!*kw) {
			g_free(kw);
			break;
		}
		if (g_str_equal(kw, "interface")) {
			g_free(word(&p));
			g_free(kw);
			continue;
		}
		struct idl_decl *d = g_new0(struct idl_decl, 1);
		d->keyword = kw;
		d->name = word(&p);
		if (!g_str_equal(kw, "type") && !g_str_equal(kw, "method") && !g_str_equal(kw, "error"))
			g_error("IDL: unknown keyword %s", kw);
		d->in = parenthesised(&p);
		if (g_str_equal(kw, "method")) {
			while (g_ascii_isspace(*p))
				p++;
			if (strncmp(p, "->", 2) != 0)
				g_error("IDL: method %s has no ->", d->name);
			p += 2;
			d->out = parenthesised(&p);
		}
		g_ptr_array_add(decls, d);
	}
	if (*p)
		g_error("IDL: cannot read from: %.40s", p);
	g_string_free(clean, TRUE);
	return decls;
}

static GPtrArray *idl;

static const struct idl_decl *idl_find(const char *keyword, const char *name)
{
	for (guint i = 0; i < idl->len; i++) {
		const struct idl_decl *d = idl->pdata[i];
		if (g_str_equal(d->keyword, keyword) && g_str_equal(d->name, name))
			return d;
	}
	return NULL;
}

static const struct idl_member *member_find(const GPtrArray *list, const char *name)
{
	for (guint i = 0; i < list->len; i++) {
		const struct idl_member *m = list->pdata[i];
		if (g_str_equal(m->name, name))
			return m;
	}
	return NULL;
}

/* --- the IDL against the tables --- */

/* the IDL spelling of a parameter type the dispatcher checks */
static char *param_type(const struct vl_param *p)
{
	static const char *const names[] = {
		[VL_STRING] = "string",
		[VL_INT] = "int",
		[VL_BOOL] = "bool",
		[VL_STRING_LIST] = "[]string",
		[VL_STRING_MAP] = "[string]string",
		[VL_CONNECTION_LIST] = "[](name:string,options:[string]string)",
	};
	return g_strdup_printf("%s%s", p->optional ? "?" : "", names[p->type]);
}

static void test_idl_methods(void)
{
	const struct vl_method *methods = vl_interface_pluto.methods;
	/* every method the daemon dispatches is in the IDL, with the same parameters */
	size_t n_methods = 0;
	for (const struct vl_method *m = methods; m->name; m++, n_methods++) {
		const struct idl_decl *d = idl_find("method", m->name);
		if (!d)
			g_error("method %s is dispatched but not in the IDL", m->name);
		size_t n_params = 0;
		for (const struct vl_param *p = m->params; p->name; p++, n_params++) {
			const struct idl_member *in = member_find(d->in, p->name);
			if (!in)
				g_error("%s(%s): the IDL has no such parameter", m->name, p->name);
			char *want = param_type(p);
			if (!g_str_equal(want, in->type))
				g_error("%s(%s): dispatcher checks %s, IDL says %s", m->name, p->name, want, in->type);
			g_free(want);
		}
		if (n_params != d->in->len)
			g_error("%s: IDL has %u parameters, the dispatcher %zu", m->name, d->in->len, n_params);
	}
	/* and every method of the IDL is dispatched */
	size_t n_idl = 0;
	for (guint i = 0; i < idl->len; i++) {
		const struct idl_decl *d = idl->pdata[i];
		if (!g_str_equal(d->keyword, "method"))
			continue;
		n_idl++;
		const struct vl_method *m = methods;
		while (m->name && !g_str_equal(m->name, d->name))
			m++;
		if (!m->name)
			g_error("method %s is in the IDL but not dispatched", d->name);
	}
	g_assert_cmpuint(n_idl, ==, n_methods);
}

/* The IDL type's members are exactly the view's fields, with their types. */
static void check_type(const GPtrArray *list, const char *what, enum view_kind kind, bool exact)
{
	size_t n;
	const struct view_field_name *f = view_field_names(kind, &n);
	for (size_t i = 0; i < n; i++) {
		const struct idl_member *m = member_find(list, f[i].json);
		if (!m)
			g_error("%s: field %s is in the view but not in the IDL", what, f[i].json);
		char *want = without_space(f[i].idl, strlen(f[i].idl));
		if (!g_str_equal(want, m->type))
			g_error("%s.%s: the view says %s, the IDL %s", what, f[i].json, want, m->type);
		g_free(want);
	}
	if (!exact)
		return;
	for (guint i = 0; i < list->len; i++) {
		const struct idl_member *m = list->pdata[i];
		size_t k = 0;
		while (k < n && !g_str_equal(f[k].json, m->name))
			k++;
		if (k == n)
			g_error("%s: field %s is in the IDL but not in the view", what, m->name);
	}
	g_assert_cmpuint(list->len, ==, n);
}

static void test_idl_fields(void)
{
	const struct idl_decl *conn = idl_find("type", "Connection");
	const struct idl_decl *state = idl_find("type", "State");
	const struct idl_decl *status = idl_find("method", "Status");
	g_assert_nonnull(conn);
	g_assert_nonnull(state);
	g_assert_nonnull(status);
	check_type(conn->in, "Connection", VIEW_CONNECTION, true);
	check_type(state->in, "State", VIEW_STATE, true);
	/* Status: the Manager's fields, plus the lists and the text */
	check_type(status->out, "Status()", VIEW_MANAGER, false);
	g_assert_cmpstr(((const struct idl_member *)member_find(status->out, "connections"))->type, ==, "[]Connection");
	g_assert_cmpstr(((const struct idl_member *)member_find(status->out, "states"))->type, ==, "[]State");
	g_assert_cmpuint(status->out->len, ==, VIEW_MGR__COUNT + 3);
}

/* Every error the control core can give is declared, and every declared
 * one is the core's (PermissionDenied comes from the dispatcher). */
static void test_idl_errors(void)
{
	for (unsigned e = PE_OK + 1; e < PE__MAX; e++)
		if (!idl_find("error", pluto_error_info(e)->name))
			g_error("error %s is not in the IDL", pluto_error_info(e)->name);
	for (guint i = 0; i < idl->len; i++) {
		const struct idl_decl *d = idl->pdata[i];
		if (g_str_equal(d->keyword, "error") && !g_str_equal(d->name, "PermissionDenied") &&
		    pluto_error_by_name(d->name) == PE__MAX)
			g_error("error %s is in the IDL but not in common/errors.h", d->name);
	}
}

/* --- change events --- */

struct seen {
	enum pluto_event_kind kind;
	view_mask changed;
	char *json;          /* the Monitor rendering, made while the objects live */
};

static GArray *events_seen;

static void on_event(const struct pluto_event *ev, void *ud)
{
	if (ev->kind == EV_PROGRESS)
		return;
	json_object *j = vl_change_json(ev);
	struct seen s = { ev->kind, ev->changed, g_strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN)) };
	json_object_put(j);
	g_array_append_val(events_seen, s);
}

static void seen_clear(void)
{
	for (guint i = 0; i < events_seen->len; i++)
		g_free(g_array_index(events_seen, struct seen, i).json);
	g_array_set_size(events_seen, 0);
}

/* Exactly one event arrived since the last check: of this kind, with these fields. */
static const struct seen *assert_one(enum pluto_event_kind kind, view_mask changed)
{
	g_assert_cmpuint(events_seen->len, ==, 1);
	const struct seen *s = &g_array_index(events_seen, struct seen, 0);
	g_assert_cmpint(s->kind, ==, kind);
	g_assert_cmphex(s->changed, ==, changed);
	return s;
}

static void assert_none(const char *why)
{
	if (events_seen->len)
		g_error("%s: %u event(s), first %s", why, events_seen->len,
			g_array_index(events_seen, struct seen, 0).json);
}

static void test_no_op_changes(void)
{
	const char *keys[] = { "left", "right" };
	const char *values[] = { "127.0.0.1", "192.0.2.2" };
	struct connection *c = NULL;
	struct ctl_error err = { 0 };
	events_subscribe(on_event, NULL);
	seen_clear();
	if (ctl_add_connection("west", keys, values, 2, &c, &err) < 0)
		g_error("adding west: %s", err.message);
	g_assert_cmpuint(events_seen->len, >=, 1);
	seen_clear();

	/* a connection: nothing changed, whoever says so */
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_ROUTING);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN__ALL);
	assert_none("a connection whose values did not change");

	/* one change: one event naming it, also in the Monitor JSON */
	c->routing = RT_PROSPECTIVE;
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN__ALL);
	const struct seen *s = assert_one(EV_CONNECTION_CHANGED, VIEW_BIT(VIEW_CONN_ROUTING));
	g_assert_nonnull(strstr(s->json, "\"property\":\"Routing\""));
	g_assert_nonnull(strstr(s->json, "\"fields\":[\"routing\"]"));
	g_assert_nonnull(strstr(s->json, "\"routing\":\"prospective\""));
	seen_clear();
	/* said again, it is no change */
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_ROUTING);
	assert_none("the same routing again");
	c->routing = RT_UNROUTED;
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_ROUTING);
	assert_one(EV_CONNECTION_CHANGED, VIEW_BIT(VIEW_CONN_ROUTING));
	seen_clear();

	/* a state: added, and its connection's States follows */
	struct state *st = state_new(c, STATE_KIND_ISAKMP, true);
	g_assert_cmpuint(events_seen->len, ==, 2);
	g_assert_cmpint(g_array_index(events_seen, struct seen, 0).kind, ==, EV_STATE_ADDED);
	g_assert_cmpint(g_array_index(events_seen, struct seen, 1).kind, ==, EV_CONNECTION_CHANGED);
	g_assert_cmphex(g_array_index(events_seen, struct seen, 1).changed, ==, VIEW_BIT(VIEW_CONN_STATES));
	seen_clear();
	state_set_name(st, STATE_MAIN_I1);
	assert_one(EV_STATE_CHANGED, VIEW_BIT(VIEW_STATE_NAME));
	seen_clear();
	state_set_name(st, STATE_MAIN_I1);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE_ESTABLISHED);
	assert_none("a state whose values did not change");
	/* several at once: one event with exactly those */
	st->established = true;
	st->expires_at_usec = 1700000000000000ull;
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	s = assert_one(EV_STATE_CHANGED, VIEW_BIT(VIEW_STATE_ESTABLISHED) | VIEW_BIT(VIEW_STATE_EXPIRES_AT));
	g_assert_null(strstr(s->json, "\"property\""));   /* two fields: no single property */
	g_assert_nonnull(strstr(s->json, "\"fields\":[\"established\",\"expiresAt\"]"));
	seen_clear();
	/* a field told about is compared alone: the others wait for their turn */
	st->rekey_at_usec = 1699999000000000ull;
	event_state(EV_STATE_CHANGED, st, VIEW_STATE_NAME);
	assert_none("RekeyAt changed, but the change said Name");
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	assert_one(EV_STATE_CHANGED, VIEW_BIT(VIEW_STATE_REKEY_AT));
	seen_clear();
	c->newest_isakmp = st->serial;
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_NEWEST_ISAKMP);
	assert_one(EV_CONNECTION_CHANGED, VIEW_BIT(VIEW_CONN_NEWEST_ISAKMP));
	seen_clear();

	/* the Manager: DebugClasses set twice to the same */
	const char *classes[] = { "control" };
	g_assert_cmpint(ctl_set_debug(classes, 1, NULL, &err), ==, 0);
	s = assert_one(EV_MANAGER_CHANGED, VIEW_BIT(VIEW_MGR_DEBUG_CLASSES));
	g_assert_nonnull(strstr(s->json, "\"property\":\"DebugClasses\""));
	seen_clear();
	g_assert_cmpint(ctl_set_debug(classes, 1, NULL, &err), ==, 0);
	assert_none("the same debug classes again");
	/* a connection's debug classes: shown over Varlink only */
	g_assert_cmpint(ctl_set_debug(classes, 1, "west", &err), ==, 0);
	s = assert_one(EV_CONNECTION_CHANGED, VIEW_BIT(VIEW_CONN_DEBUG_CLASSES));
	g_assert_null(strstr(s->json, "\"property\""));
	g_assert_nonnull(strstr(s->json, "\"fields\":[\"debugClasses\"]"));
	seen_clear();
	const char *none[] = { "none" };
	g_assert_cmpint(ctl_set_debug(none, 1, NULL, &err), ==, 0);
	g_assert_cmpint(ctl_set_debug(none, 1, "west", &err), ==, 0);
	seen_clear();

	/* removal: the connection's States and Newest* in one change */
	state_delete(st);
	g_assert_cmpuint(events_seen->len, ==, 2);
	g_assert_cmpint(g_array_index(events_seen, struct seen, 0).kind, ==, EV_STATE_REMOVED);
	g_assert_cmphex(g_array_index(events_seen, struct seen, 1).changed, ==,
			VIEW_BIT(VIEW_CONN_STATES) | VIEW_BIT(VIEW_CONN_NEWEST_ISAKMP));
	seen_clear();
	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	events_unsubscribe(on_event, NULL);
	seen_clear();
}

/* Every getter answers, with its row's type, for real objects. */
static void test_every_getter(void)
{
	const char *keys[] = { "left", "right" };
	const char *values[] = { "127.0.0.1", "192.0.2.2" };
	struct connection *c = NULL;
	g_assert_cmpint(ctl_add_connection("getters", keys, values, 2, &c, NULL), ==, 0);
	struct state *st = state_new(c, STATE_KIND_IPSEC, false);
	const void *objs[VIEW__KINDS] = { [VIEW_MANAGER] = NULL, [VIEW_CONNECTION] = c, [VIEW_STATE] = st };
	for (int kind = 0; kind < VIEW__KINDS; kind++) {
		size_t n;
		const struct view_field_name *f = view_fields(kind, &n);
		for (unsigned i = 0; i < n; i++) {
			struct view_value v;
			view_get(kind, objs[kind], i, &v);
			g_assert_cmpint(v.type, ==, f[i].type);
			view_value_clear(&v);
		}
		json_object *j = vl_view_json(kind, objs[kind]);
		/* every field but an empty optional one is rendered */
		g_assert_cmpint(json_object_object_length(j), ==, kind == VIEW_CONNECTION ? (int)n - 1 : (int)n);
		json_object_put(j);
	}
	state_delete(st);
	g_assert_cmpint(ctl_delete_connection("getters", NULL), ==, 0);
}

/* The text writer Status uses (varlink-json.c) prints what json-c prints
 * (PLAIN | NOSLASHESCAPE): every byte in a string, and whole objects. */
static void check_text_json(const char *s, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb);
	vl_json_text_string_n(&sb, s, n);
	json_object *j = json_object_new_string_len(s, (int)n);
	g_assert_cmpstr(sb.data, ==, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
									      JSON_C_TO_STRING_NOSLASHESCAPE));
	g_assert_cmpuint(sb.len, ==, strlen(sb.data));
	json_object_put(j);
	strbuf_free(&sb);
}

static void test_text_json(void)
{
	char s[600];
	/* each byte alone, between plain text, and all of them in one string */
	for (int ch = 1; ch < 256; ch++) {
		check_text_json((char[]){ (char)ch }, 1);
		snprintf(s, sizeof(s), "ab%ccd", ch);
		check_text_json(s, strlen(s));
	}
	size_t n = 0;
	for (int ch = 255; ch >= 1; ch--) {
		s[n++] = (char)ch;
		s[n++] = 'x';
	}
	check_text_json(s, n);
	check_text_json("", 0);
	check_text_json("\n\n\"\\", 4);

	const char *keys[] = { "left", "right", "leftupdown" };
	const char *values[] = { "127.0.0.1", "192.0.2.2", "/bin/true \"quoted\" \\ tab\there" };
	struct connection *c = NULL;
	g_assert_cmpint(ctl_add_connection("text-json", keys, values, 3, &c, NULL), ==, 0);
	struct state *st = state_new(c, STATE_KIND_IPSEC, false);
	const void *objs[VIEW__KINDS] = { [VIEW_MANAGER] = NULL, [VIEW_CONNECTION] = c, [VIEW_STATE] = st };
	for (int kind = 0; kind < VIEW__KINDS; kind++) {
		struct strbuf sb;
		strbuf_init(&sb);
		strbuf_add(&sb, "{");
		vl_view_json_members(&sb, kind, objs[kind], false);
		strbuf_add(&sb, "}");
		json_object *j = vl_view_json(kind, objs[kind]);
		g_assert_cmpstr(sb.data, ==, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
										      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		strbuf_free(&sb);
	}
	state_delete(st);
	g_assert_cmpint(ctl_delete_connection("text-json", NULL), ==, 0);
}

/* The remote-access fields of a state (XAUTH user, Mode Config address,
 * DNS, domains, banner): shown when set, "" / [] when not, in JSON and
 * through the getters every front end uses. */
static void test_remote_access_fields(void)
{
	const char *keys[] = { "left", "right" };
	const char *values[] = { "127.0.0.1", "192.0.2.2" };
	struct connection *c = NULL;
	g_assert_cmpint(ctl_add_connection("ra", keys, values, 2, &c, NULL), ==, 0);
	struct state *st = state_new(c, STATE_KIND_ISAKMP, true);

	json_object *j = vl_view_json(VIEW_STATE, st);
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "xauthUser"), 0), ==, "\"\"");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "virtualAddress"), 0), ==, "\"\"");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "dns"), 0), ==, "[]");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "domains"), 0), ==, "[]");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "banner"), 0), ==, "\"\"");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "splitInclude"), 0), ==, "[]");
	json_object_put(j);

	state_set_text(&st->xauth_user, "%s", "alice");
	state_modecfg_mut(st)->has_virtual_address = true;
	const char *why = NULL;
	g_assert_true(subnet_parse("2001:db8:8::10/128", &state_modecfg_mut(st)->virtual_address, &why));
	state_modecfg_mut(st)->n_dns = 4;
	static const char *const dns[] = { "10.1.0.53", "10.1.0.54", "2001:db8::53", "192.0.2.53" };
	for (size_t i = 0; i < 4; i++)
		g_assert_true(ip_parse(dns[i], &state_modecfg_mut(st)->dns[i]));
	state_set_text(&st->domains, "%s", "corp.example,lab.example");
	state_set_text(&st->banner, "%s", "Authorised users only");
	g_assert_true(subnet_parse("10.2.0.0/16", &state_modecfg_mut(st)->split_include[0], &why));
	g_assert_true(subnet_parse("172.16.4.0/24", &state_modecfg_mut(st)->split_include[1], &why));
	state_modecfg_mut(st)->n_split_include = 2;

	j = vl_view_json(VIEW_STATE, st);
	g_assert_cmpstr(json_object_get_string(json_object_object_get(j, "xauthUser")), ==, "alice");
	g_assert_cmpstr(json_object_get_string(json_object_object_get(j, "virtualAddress")), ==, "2001:db8:8::10/128");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "dns"), JSON_C_TO_STRING_PLAIN), ==,
			"[\"10.1.0.53\",\"10.1.0.54\",\"2001:db8::53\",\"192.0.2.53\"]");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "domains"), JSON_C_TO_STRING_PLAIN), ==,
			"[\"corp.example\",\"lab.example\"]");
	g_assert_cmpstr(json_object_get_string(json_object_object_get(j, "banner")), ==, "Authorised users only");
	g_assert_cmpstr(json_object_to_json_string_ext(json_object_object_get(j, "splitInclude"),
						 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			==, "[\"10.2.0.0/16\",\"172.16.4.0/24\"]");
	json_object_put(j);

	/* the getters the D-Bus side renders from */
	struct view_value v;
	view_get(VIEW_STATE, st, VIEW_STATE_DOMAINS, &v);
	g_assert_cmpuint(v.n, ==, 2);
	g_assert_cmpstr(v.strs[1], ==, "lab.example");
	view_value_clear(&v);
	view_get(VIEW_STATE, st, VIEW_STATE_DNS, &v);
	g_assert_cmpuint(v.n, ==, 4);
	g_assert_cmpstr(v.strs[2], ==, "2001:db8::53");
	view_value_clear(&v);

	state_delete(st);
	g_assert_cmpint(ctl_delete_connection("ra", NULL), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init(LOG_TO_STDERR, "pluto");
	const char *srcdir = g_getenv("SRCDIR");
	if (!srcdir)
		g_error("SRCDIR is not set (run under meson test)");
	char *path = g_build_filename(srcdir, "src", "bus", "org.freeswan.pluto.varlink", NULL);
	char *text = NULL;
	GError *error = NULL;
	if (!g_file_get_contents(path, &text, NULL, &error))
		g_error("%s: %s", path, error->message);
	idl = idl_parse(text);
	g_free(text);
	g_free(path);
	events_seen = g_array_new(FALSE, TRUE, sizeof(struct seen));

	g_test_add_func("/views/idl-methods", test_idl_methods);
	g_test_add_func("/views/idl-fields", test_idl_fields);
	g_test_add_func("/views/idl-errors", test_idl_errors);
	g_test_add_func("/views/no-op-changes", test_no_op_changes);
	g_test_add_func("/views/every-getter", test_every_getter);
	g_test_add_func("/views/text-json", test_text_json);
	g_test_add_func("/views/remote-access-fields", test_remote_access_fields);
	int r = g_test_run();

	states_delete_all();
	connections_delete_all();
	g_array_unref(events_seen);
	g_ptr_array_unref(idl);
	return r;
}
