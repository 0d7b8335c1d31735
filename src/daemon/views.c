/* The getters of the view rows (common/view-fields.h) and the change
 * detection that keeps front ends from announcing values that did not
 * change. */
#include "daemon/views.h"

#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>

#include "common/debug_class.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/log.h"
#include "daemon/state.h"

typedef void (*view_getter)(const void *obj, struct view_value *v);

/* --- Manager --- */

/* The manager's facts live above this table (the sockets, the kernel
 * backend); control.c registers where to read them, so views does not
 * call up into it. */
static const struct view_manager_facts *facts;

void views_set_manager_facts(const struct view_manager_facts *f)
{
	facts = f;
}

static void mgr_version(const void *obj, struct view_value *v)
{
	v->s = PLUTO_VERSION;
}

static void mgr_listening(const void *obj, struct view_value *v)
{
	v->b = facts ? facts->listening() : false;
}

static void strs_from_vector(struct view_value *v, const char *const *vec)
{
	v->strs = vec;
	for (v->n = 0; vec && vec[v->n]; v->n++)
		;
}

static void mgr_interfaces(const void *obj, struct view_value *v)
{
	strs_from_vector(v, facts ? facts->interfaces() : NULL);
}

static void mgr_kernel_backend(const void *obj, struct view_value *v)
{
	v->s = facts ? facts->kernel_backend() : "";
}

static void debug_classes(const struct connection *c, struct view_value *v)
{
	v->n = debug_class_list(c ? c->debug : debug_global, v->list, ARRAY_SIZE(v->list));
	v->strs = v->list;
}

static void mgr_debug_classes(const void *obj, struct view_value *v)
{
	debug_classes(NULL, v);
}

/* --- Connection --- */

static void conn_name(const void *obj, struct view_value *v)
{
	v->s = ((const struct connection *)obj)->name;
}

/* The normalised map: every keyword with its effective value. Connection
 * options hold no secrets (PSKs and private keys live in ipsec.secrets). */
static void conn_options(const void *obj, struct view_value *v)
{
	const struct connection *c = obj;
	v->keys = (const char *const *)c->options->keys;
	v->n = c->options->n;
	if (c->option_peer < 0) {
		v->strs = (const char *const *)c->options->values;
		return;
	}
	/* an instance: its template's map with its peer's address */
	const char **values = v->n <= ARRAY_SIZE(v->list) ? v->list : (v->owned = xcalloc(v->n, sizeof(char *)));
	for (size_t i = 0; i < v->n; i++)
		values[i] = connection_option_value(c, i, v->buf);
	v->strs = values;
}

/* "api", or "FILE:LINE" of the conn section it was loaded from: what a
 * reload may touch (control.c). */
static void conn_source(const void *obj, struct view_value *v)
{
	const char *source = ((const struct connection *)obj)->source;
	v->s = source ? source : CONNECTION_SOURCE_API;
}

static void conn_routing(const void *obj, struct view_value *v)
{
	v->s = routing_state_name(((const struct connection *)obj)->routing);
}

static void conn_template(const void *obj, struct view_value *v)
{
	v->b = ((const struct connection *)obj)->is_template;
}

/* A road-warrior instance's template (none for any other connection, and
 * for an instance whose template was deleted). */
static void conn_instance_of(const void *obj, struct view_value *v)
{
	v->conn = ((const struct connection *)obj)->template;
}

/* The serials of c's states, newest first (state.c's per-connection list). */
static void conn_states(const void *obj, struct view_value *v)
{
	const struct connection *c = obj;
	uint32_t *serials = xcalloc(c->n_states + 1, sizeof(uint32_t));
	for (struct state *st = connection_states(c); st; st = st->conn_next)
		serials[v->n++] = st->serial;
	v->u32s = serials;
	v->owned = serials;
}

static void conn_newest_isakmp(const void *obj, struct view_value *v)
{
	v->u = ((const struct connection *)obj)->newest_isakmp;
}

static void conn_newest_ipsec(const void *obj, struct view_value *v)
{
	v->u = ((const struct connection *)obj)->newest_ipsec;
}

static void conn_debug_classes(const void *obj, struct view_value *v)
{
	debug_classes(obj, v);
}

/* --- State --- */

#define STATE(obj) ((const struct state *)(obj))

static void state_serial(const void *obj, struct view_value *v)
{
	v->u = STATE(obj)->serial;
}

static void state_connection(const void *obj, struct view_value *v)
{
	v->conn = STATE(obj)->connection;
}

static void state_kind(const void *obj, struct view_value *v)
{
	v->s = STATE(obj)->kind == STATE_KIND_ISAKMP ? "isakmp" : "ipsec";
}

static void state_name(const void *obj, struct view_value *v)
{
	v->s = state_name_str(STATE(obj)->name);
}

static void state_established(const void *obj, struct view_value *v)
{
	v->b = STATE(obj)->established;
}

static void state_initiator(const void *obj, struct view_value *v)
{
	v->b = STATE(obj)->initiator;
}

static void state_peer_address(const void *obj, struct view_value *v)
{
	_Static_assert(sizeof(v->buf) >= IP_STR_MAX, "view_value.buf holds an address");
	v->s = ip_is_set(&STATE(obj)->peer) ? ip_str(&STATE(obj)->peer, v->buf) : "";
}

static void state_peer_id(const void *obj, struct view_value *v)
{
	v->s = STATE(obj)->peer_id;
}

static void state_algorithms(const void *obj, struct view_value *v)
{
	v->s = STATE(obj)->algorithms;
}

static void state_inbound_spis(const void *obj, struct view_value *v)
{
	v->u32s = STATE(obj)->inbound_spis;
	v->n = MIN(STATE(obj)->n_inbound_spis, SPIS_MAX);
}

static void state_outbound_spis(const void *obj, struct view_value *v)
{
	v->u32s = STATE(obj)->outbound_spis;
	v->n = MIN(STATE(obj)->n_outbound_spis, SPIS_MAX);
}

static void state_expires_at(const void *obj, struct view_value *v)
{
	v->u = STATE(obj)->expires_at_usec;
}

static void state_rekey_at(const void *obj, struct view_value *v)
{
	v->u = STATE(obj)->rekey_at_usec;
}

/* remote access (XAUTH, Mode Config), on the ISAKMP state */

static void state_xauth_user(const void *obj, struct view_value *v)
{
	v->s = STATE(obj)->xauth_user;
}

static void state_virtual_address(const void *obj, struct view_value *v)
{
	const struct state *st = STATE(obj);
	const struct state_modecfg *m = state_modecfg(st);
	v->s = m->has_virtual_address ? subnet_str(&m->virtual_address, v->buf) : "";
}

static void state_dns(const void *obj, struct view_value *v)
{
	const struct state_modecfg *m = state_modecfg(STATE(obj));
	size_t n = MIN(m->n_dns, ARRAY_SIZE(m->dns));
	char (*text)[IP_STR_MAX] = xmalloc((n ? n : 1) * IP_STR_MAX);
	v->owned = text;
	for (size_t i = 0; i < n; i++)
		v->list[i] = ip_str(&m->dns[i], text[i]);
	v->n = n;
	v->strs = v->list;
}

/* the comma list split into its names (empty items dropped) */
static void state_domains(const void *obj, struct view_value *v)
{
	const struct state *st = STATE(obj);
	size_t len = strlen(st->domains);
	char *copy = xmalloc(len + 1);
	memcpy(copy, st->domains, len);
	copy[len] = '\0';
	v->owned = copy;
	v->n = 0;
	for (char *save = NULL, *d = strtok_r(copy, ",", &save); d && v->n < ARRAY_SIZE(v->list);
	     d = strtok_r(NULL, ",", &save))
		v->list[v->n++] = d;
	v->strs = v->list;
}

static void state_banner(const void *obj, struct view_value *v)
{
	v->s = STATE(obj)->banner;
}

static void state_split_include(const void *obj, struct view_value *v)
{
	const struct state_modecfg *m = state_modecfg(STATE(obj));
	size_t n = MIN(m->n_split_include, ARRAY_SIZE(m->split_include));
	char (*text)[IP_STR_MAX] = xmalloc((n ? n : 1) * IP_STR_MAX);
	v->owned = text;
	for (size_t i = 0; i < n; i++)
		v->list[i] = subnet_str(&m->split_include[i], text[i]);
	v->n = n;
	v->strs = v->list;
}

/* --- the getter tables, indexed by field id --- */

static const view_getter manager_getters[VIEW_MGR__COUNT] = {
	[VIEW_MGR_VERSION] = mgr_version,
	[VIEW_MGR_LISTENING] = mgr_listening,
	[VIEW_MGR_INTERFACES] = mgr_interfaces,
	[VIEW_MGR_KERNEL_BACKEND] = mgr_kernel_backend,
	[VIEW_MGR_DEBUG_CLASSES] = mgr_debug_classes,
};

static const view_getter connection_getters[VIEW_CONN__COUNT] = {
	[VIEW_CONN_NAME] = conn_name,
	[VIEW_CONN_OPTIONS] = conn_options,
	[VIEW_CONN_SOURCE] = conn_source,
	[VIEW_CONN_ROUTING] = conn_routing,
	[VIEW_CONN_TEMPLATE] = conn_template,
	[VIEW_CONN_INSTANCE_OF] = conn_instance_of,
	[VIEW_CONN_STATES] = conn_states,
	[VIEW_CONN_NEWEST_ISAKMP] = conn_newest_isakmp,
	[VIEW_CONN_NEWEST_IPSEC] = conn_newest_ipsec,
	[VIEW_CONN_DEBUG_CLASSES] = conn_debug_classes,
};

static const view_getter state_getters[VIEW_STATE__COUNT] = {
	[VIEW_STATE_SERIAL] = state_serial,
	[VIEW_STATE_CONNECTION] = state_connection,
	[VIEW_STATE_KIND] = state_kind,
	[VIEW_STATE_NAME] = state_name,
	[VIEW_STATE_ESTABLISHED] = state_established,
	[VIEW_STATE_INITIATOR] = state_initiator,
	[VIEW_STATE_PEER_ADDRESS] = state_peer_address,
	[VIEW_STATE_PEER_ID] = state_peer_id,
	[VIEW_STATE_ALGORITHMS] = state_algorithms,
	[VIEW_STATE_INBOUND_SPIS] = state_inbound_spis,
	[VIEW_STATE_OUTBOUND_SPIS] = state_outbound_spis,
	[VIEW_STATE_EXPIRES_AT] = state_expires_at,
	[VIEW_STATE_REKEY_AT] = state_rekey_at,
	[VIEW_STATE_XAUTH_USER] = state_xauth_user,
	[VIEW_STATE_VIRTUAL_ADDRESS] = state_virtual_address,
	[VIEW_STATE_DNS] = state_dns,
	[VIEW_STATE_DOMAINS] = state_domains,
	[VIEW_STATE_BANNER] = state_banner,
	[VIEW_STATE_SPLIT_INCLUDE] = state_split_include,
};

_Static_assert(VIEW_MGR__COUNT <= 32 && VIEW_CONN__COUNT <= 32 && VIEW_STATE__COUNT <= 32,
	       "view_mask has one bit per field");

static const view_getter *getters(enum view_kind kind)
{
	return kind == VIEW_MANAGER ? manager_getters : kind == VIEW_CONNECTION ? connection_getters
										  : state_getters;
}

const struct view_field_name *view_fields(enum view_kind kind, size_t *n)
{
	return view_field_names(kind, n);
}

int view_field_by_dbus(enum view_kind kind, const char *property)
{
	size_t n;
	const struct view_field_name *f = view_fields(kind, &n);
	for (size_t i = 0; i < n; i++)
		if (f[i].dbus && streq(f[i].dbus, property))
			return (int)i;
	return -1;
}

void view_get(enum view_kind kind, const void *obj, unsigned field, struct view_value *v)
{
	size_t n;
	const struct view_field_name *f = view_fields(kind, &n);
	/* the members, not the storage (buf, list: ~300 bytes the getters
	 * write before use): Status and GetManagedObjects of 30,000 objects
	 * get half a million values */
	v->s = NULL;
	v->b = false;
	v->u = 0;
	v->conn = NULL;
	v->keys = v->strs = NULL;
	v->u32s = NULL;
	v->n = 0;
	v->owned = NULL;
	v->type = VIEW_STRING;
	if (field >= n)
		return;
	v->type = f[field].type;
	getters(kind)[field](obj, v);
}

void view_value_clear(struct view_value *v)
{
	free(v->owned);
	v->owned = NULL;
}

/* --- change detection --- */

/* "LEN:TEXT" without printf: every connection's option map goes through
 * here when it is added (10,000 at start-up) */
static void add_counted(struct strbuf *sb, const char *s)
{
	char digits[24], *p = digits + sizeof(digits);
	size_t n = strlen(s), k = n;
	*--p = ':';
	do
		*--p = (char)('0' + k % 10);
	while ((k /= 10) != 0);
	strbuf_addn(sb, p, (size_t)(digits + sizeof(digits) - p));
	strbuf_addn(sb, s, n);
}

/* The value as one string that differs whenever the value differs:
 * list entries carry their length, so no separator can be confused with
 * content. */
static char *value_key(const struct view_value *v)
{
	struct strbuf sb;
	strbuf_init(&sb);
	switch (v->type) {
	case VIEW_STRING:
		strbuf_add(&sb, v->s ? v->s : "");
		break;
	case VIEW_BOOL:
		strbuf_add(&sb, v->b ? "1" : "0");
		break;
	case VIEW_U32:
	case VIEW_U64:
	case VIEW_STATE_REF:
		strbuf_addf(&sb, "%" PRIu64, v->u);
		break;
	case VIEW_CONN_REF:
		/* "-" for none: a connection name is never empty */
		strbuf_addf(&sb, "%s%s", v->conn ? "=" : "-", v->conn ? v->conn->name : "");
		break;
	case VIEW_STRING_MAP:
		for (size_t i = 0; i < v->n; i++) {
			add_counted(&sb, v->keys[i]);
			add_counted(&sb, v->strs[i]);
		}
		break;
	case VIEW_STRING_LIST:
		for (size_t i = 0; i < v->n; i++)
			add_counted(&sb, v->strs[i]);
		break;
	case VIEW_U32_LIST:
	case VIEW_STATE_REFS:
		for (size_t i = 0; i < v->n; i++)
			strbuf_addf(&sb, "%" PRIu32 ",", v->u32s[i]);
		break;
	}
	return strbuf_steal(&sb);
}

/* Every connection and state has one: it holds a 64-bit digest of each
 * field's value_key as last announced, not the text (8 bytes a field and
 * one allocation an object, where the texts cost a small allocation
 * each: with thousands of tunnels that was a third of their memory). Two
 * different values with the same FNV-1a digest would hide one change;
 * at 64 bits that is not a case to design for. */
struct view_cache {
	unsigned epoch;       /* cache_epoch when it was filled: older is stale */
	size_t n;
	view_mask announced;  /* fields with a digest; the others were never announced */
	uint64_t digest[];
};

/* Moved on by view_caches_expire: a cache of another epoch was filled
 * before a time nobody remembered values, so it may hold ones that were
 * never announced to the watchers now listening. */
static unsigned cache_epoch;

void view_caches_expire(void)
{
	cache_epoch++;
}

view_mask view_told(enum view_kind kind, unsigned field)
{
	size_t n;
	view_fields(kind, &n);
	return field < n ? VIEW_BIT(field) : (view_mask)(((uint64_t)1 << n) - 1);
}

static struct view_cache *cache_get(enum view_kind kind, struct view_cache **cache)
{
	if (*cache && (*cache)->epoch != cache_epoch) {
		(*cache)->epoch = cache_epoch;
		(*cache)->announced = 0;
	}
	if (!*cache) {
		size_t n;
		view_fields(kind, &n);
		*cache = xcalloc(1, sizeof(**cache) + n * sizeof((*cache)->digest[0]));
		(*cache)->n = n;
		(*cache)->epoch = cache_epoch;
	}
	return *cache;
}

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Remember field's value; true when it differs from the one before. */
static bool update(enum view_kind kind, const void *obj, struct view_cache *cache, unsigned field)
{
	struct view_value v;
	view_get(kind, obj, field, &v);
	char *key = value_key(&v);
	view_value_clear(&v);
	uint64_t digest = fnv1a64(key);
	free(key);
	bool changed = !(cache->announced & VIEW_BIT(field)) || cache->digest[field] != digest;
	cache->announced |= VIEW_BIT(field);
	cache->digest[field] = digest;
	return changed;
}

void view_remember(enum view_kind kind, const void *obj, struct view_cache **cache)
{
	struct view_cache *vc = cache_get(kind, cache);
	for (unsigned i = 0; i < vc->n; i++)
		update(kind, obj, vc, i);
}

view_mask view_changes(enum view_kind kind, const void *obj, struct view_cache **cache, unsigned field)
{
	struct view_cache *vc = *cache;
	view_mask changed = 0;
	if (!vc)
		/* never announced (a test's stand-in object, or a change before
		 * the object was added): nothing to compare with, so pass the
		 * change on as told, and keep nothing that would need freeing */
		return view_told(kind, field);
	if (vc->epoch != cache_epoch) {
		/* filled before nobody listened: what the watchers know is
		 * unknown, so every value is news; remember them from now */
		view_remember(kind, obj, cache);
		return view_told(kind, field);
	}
	for (unsigned i = 0; i < vc->n; i++)
		if ((field >= vc->n || i == field) && update(kind, obj, vc, i))
			changed |= VIEW_BIT(i);
	return changed;
}

void view_cache_free(struct view_cache **cache)
{
	if (!*cache)
		return;
	free(*cache);
	*cache = NULL;
}

struct view_cache **view_manager_cache(void)
{
	static struct view_cache *manager;
	return &manager;
}

void view_mask_names(enum view_kind kind, view_mask mask, char *buf, size_t len)
{
	size_t n, used = 0;
	const struct view_field_name *f = view_fields(kind, &n);
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		if (!(mask & VIEW_BIT(i)))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", f[i].dbus ? f[i].dbus : f[i].json);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
