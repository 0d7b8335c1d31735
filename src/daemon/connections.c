#include "daemon/connections.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ifaddr.h"
#include "common/util.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/progress.h"
#include "daemon/state.h"
#include "daemon/state.h"

/* A list in insertion order (status shows them so), and an index by name:
 * a file of 10,000 conns is loaded and reloaded by name, so neither a
 * lookup nor an append nor a delete may walk the list. */
static struct connection *connections, *connections_last;
static size_t n_connections;
static struct connection *templates, *templates_last;
static unsigned long next_seq;
/* The responder's first question (which connection is this Main Mode
 * from that peer for?) is answered by the peer's address: with one
 * instance per road warrior, walking the list would cost connections x
 * handshakes. */
static struct hindex by_peer_host;
static struct connection **by_name;   /* buckets of name_next chains */
static size_t n_buckets;              /* a power of two, or 0 */

static size_t name_bucket(const char *name, size_t buckets)
{
	uint32_t h = 2166136261u;     /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h & (buckets - 1);
}

static void index_insert(struct connection **table, size_t buckets, struct connection *c)
{
	size_t b = name_bucket(c->name, buckets);
	c->name_next = table[b];
	table[b] = c;
}

/* Room for one more, at most two connections per bucket on average;
 * before the new one is in the list (a rehash indexes the list). */
static void index_grow(void)
{
	if (n_connections + 1 <= 2 * n_buckets)
		return;
	size_t buckets = n_buckets ? 2 * n_buckets : 64;
	struct connection **table = xcalloc(buckets, sizeof(*table));
	for (struct connection *c = connections; c; c = c->next)
		index_insert(table, buckets, c);
	free(by_name);
	by_name = table;
	n_buckets = buckets;
}

static void index_remove(struct connection *c)
{
	for (struct connection **pp = &by_name[name_bucket(c->name, n_buckets)]; *pp; pp = &(*pp)->name_next) {
		if (*pp == c) {
			*pp = c->name_next;
			return;
		}
	}
}

const char *routing_state_name(enum routing_state r)
{
	static const char *const names[] = {
		[RT_UNROUTED] = "unrouted", [RT_PROSPECTIVE] = "prospective", [RT_EROUTED] = "erouted",
	};
	return (unsigned)r < ARRAY_SIZE(names) ? names[r] : "unknown";
}

struct connection *connection_by_name(const char *name)
{
	if (!n_buckets)
		return NULL;
	for (struct connection *c = by_name[name_bucket(name, n_buckets)]; c; c = c->name_next)
		if (streq(c->name, name))
			return c;
	return NULL;
}

static bool peer_host_indexed(const struct connection *c, ip_address *key)
{
	if (c->this < 0)
		return false;
	const struct end *e = END_THAT(c);
	if (e->host_kind != HOST_ADDRESS && e->host_kind != HOST_DEFAULTROUTE)
		return false;
	*key = e->host;
	return true;
}

static void peer_host_index(struct connection *c)
{
	ip_address key;
	hindex_del(&by_peer_host, &c->peer_host_link);
	if (peer_host_indexed(c, &key))
		hindex_add(&by_peer_host, &c->peer_host_link, hash_address(HASH_SEED, &key));
}

struct connection *connection_by_peer_host_next(const struct connection *c, const ip_address *a)
{
	uint32_t h = hash_address(HASH_SEED, a);
	for (struct hlink *l = c ? hlink_next_same(&c->peer_host_link, h) : hindex_first(&by_peer_host, h); l;
	     l = hlink_next_same(l, h)) {
		struct connection *o = HLINK_OWNER(l, struct connection, peer_host_link);
		if (o->this >= 0 && ip_equal(&END_THAT(o)->host, a))
			return o;
	}
	return NULL;
}

struct connection *connection_by_peer_host(const ip_address *a)
{
	return connection_by_peer_host_next(NULL, a);
}

struct connection *connection_templates(void)
{
	return templates;
}

struct connection *connections_first(void)
{
	return connections;
}

size_t connections_count(void)
{
	return n_connections;
}

/* %defaultroute: the source address the kernel would pick for a packet
 * leaving by the default route. A connected UDP socket sends nothing. */
static bool default_route_source(int family, ip_address *out)
{
	ip_address probe;
	struct sockaddr_storage ss;
	ip_parse(family == AF_INET6 ? "2001:db8::1" : "192.0.2.254", &probe);
	/* documentation prefixes: routed by the default route, never used */
	socklen_t len = ip_to_sockaddr(&probe, 9, &ss);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&ss, len) == 0;
	if (ok) {
		len = sizeof(ss);
		ok = getsockname(fd, (struct sockaddr *)&ss, &len) == 0;
		if (ok)
			ip_from_sockaddr((struct sockaddr *)&ss, out, NULL);
	}
	close(fd);
	return ok && ip_is_set(out);
}

static bool end_is_local(struct end *e, int family_hint)
{
	if (e->host_kind == HOST_DEFAULTROUTE) {
		int family = family_hint ? family_hint : AF_INET;
		if (!default_route_source(family, &e->host))
			return false;
		return true;
	}
	return e->host_kind == HOST_ADDRESS && local_address(&e->host);
}

int connection_orient(struct connection *c, struct ctl_error *err)
{
	struct end *l = &c->cfg.end[0], *r = &c->cfg.end[1];
	int family = l->host_kind == HOST_ADDRESS ? l->host.family
		   : r->host_kind == HOST_ADDRESS ? r->host.family : 0;
	bool left = end_is_local(l, family);
	bool right = end_is_local(r, family);
	char lb[IP_STR_MAX], rb[IP_STR_MAX];
	if (left && right && l->host_kind == HOST_ADDRESS && r->host_kind == HOST_ADDRESS) {
		c->this = c->that = -1;
		return ctl_fail(err, PE_CANNOT_ORIENT,
				"\"%s\": both ends (%s and %s) are addresses of this host",
				c->name, ip_str(&l->host, lb), ip_str(&r->host, rb));
	}
	if (left || right) {
		c->this = left ? 0 : 1;
		c->that = 1 - c->this;
		return 0;
	}
	c->this = c->that = -1;
	return ctl_fail(err, PE_CANNOT_ORIENT,
			"\"%s\": cannot orient: neither left=%s nor right=%s is an address of this host",
			c->name,
			l->host_kind == HOST_ANY ? "%any" : l->host_kind == HOST_DEFAULTROUTE ? "%defaultroute" : ip_str(&l->host, lb),
			r->host_kind == HOST_ANY ? "%any" : r->host_kind == HOST_DEFAULTROUTE ? "%defaultroute" : ip_str(&r->host, rb));
}

void connections_reorient(void)
{
	for (struct connection *c = connections; c; c = c->next) {
		int was = c->this;
		struct ctl_error err;
		if (connection_orient(c, &err) < 0) {
			if (was >= 0)
				llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_CONTROL,
				     "no longer oriented: %s", err.message);
		} else if (was != c->this) {
			llog(CONN_LOGGER(c), LS_INFO, MSGID_GENERIC, "oriented as %s end", c->this == 0 ? "left" : "right");
		}
		peer_host_index(c);   /* the ends may have swapped, %defaultroute moved */
	}
}

int connection_config_check_orient(const char *name, const struct connection_config *cfg,
				   struct ctl_error *err)
{
	/* a shallow copy: orienting only writes the ends' addresses */
	struct connection probe = { .name = (char *)name, .cfg = *cfg };
	return connection_orient(&probe, err);
}

/* The normalised option map in one allocation: the struct, both arrays,
 * then the texts. Some 25 options are 50 small strings, which cost more
 * in allocator overhead than in text. */
static struct option_map *option_map_new(const struct connection_config *cfg)
{
	size_t n;
	char **keys, **values;
	connection_config_normalise(cfg, &n, &keys, &values);
	size_t text = 0;
	for (size_t i = 0; i < n; i++)
		text += strlen(keys[i]) + 1 + strlen(values[i]) + 1;
	struct option_map *m = xmalloc(sizeof(*m) + 2 * n * sizeof(char *) + text + 1);
	char **block = (char **)(m + 1);
	char *p = (char *)(block + 2 * n);
	m->refs = 1;
	m->n = n;
	m->keys = block;
	m->values = block + n;
	m->host_index[0] = m->host_index[1] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		char *const from[2] = { keys[i], values[i] };
		for (int kv = 0; kv < 2; kv++) {
			size_t len = strlen(from[kv]) + 1;
			memcpy(p, from[kv], len);
			block[kv * n + i] = p;
			p += len;
			free(from[kv]);
		}
		if (streq(m->keys[i], "left"))
			m->host_index[0] = i;
		else if (streq(m->keys[i], "right"))
			m->host_index[1] = i;
	}
	free(keys);
	free(values);
	return m;
}

static void option_map_release(struct option_map *m)
{
	if (m && --m->refs == 0)
		free(m);
}

const char *connection_option_value(const struct connection *c, size_t i, char buf[IP_STR_MAX])
{
	if (c->option_peer >= 0 && i == (size_t)c->option_peer)
		return ip_str(&END_THAT(c)->host, buf);
	return c->options->values[i];
}

/* Takes cfg; an instance (template not NULL) shares template's option
 * map, the others get their own. */
static int add_connection(const char *name, const char *source, struct connection_config *cfg,
			  struct connection *template, struct connection **ret, struct ctl_error *err)
{
	struct connection *c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name);
	c->source = xstrdup(source);
	c->template = template;   /* set before the Added event, which shows it */
	c->option_peer = -1;
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	if (connection_orient(c, err) < 0) {
		connection_config_free(&c->cfg);
		free(c->source);
		free(c->name);
		free(c);
		return -1;
	}
	c->is_template = END_THAT(c)->host_kind == HOST_ANY;
	if (template && template->options->host_index[c->that] != SIZE_MAX) {
		/* the template's map but for the peer's host (ip_str of it,
		 * as connection_config_normalise would write it) */
		c->options = template->options;
		c->options->refs++;
		c->option_peer = (int)template->options->host_index[c->that];
	} else {
		c->options = option_map_new(&c->cfg);
	}

	index_grow();
	index_insert(by_name, n_buckets, c);
	c->seq = ++next_seq;
	peer_host_index(c);
	if (c->is_template) {
		c->tmpl_prev = templates_last;
		if (templates_last)
			templates_last->tmpl_next = c;
		else
			templates = c;
		templates_last = c;
	}
	/* append: status lists connections in the order they were added */
	c->prev = connections_last;
	if (connections_last)
		connections_last->next = c;
	else
		connections = c;
	connections_last = c;
	n_connections++;
	event_connection(EV_CONNECTION_ADDED, c, VIEW_CONN__ALL);
	if (ret)
		*ret = c;
	return 0;
}

int connection_add(const char *name, const char *source, struct connection_config *cfg,
		   struct connection **ret, struct ctl_error *err)
{
	return add_connection(name, source, cfg, NULL, ret, err);
}

int connection_add_instance(const char *name, struct connection *template, const ip_address *peer,
			    struct connection **ret, struct ctl_error *err)
{
	if (!template->is_template || template->that < 0)
		return ctl_fail(err, PE_INTERNAL, "\"%s\" is not a road-warrior template", template->name);
	/* a copy, not the template's option map parsed again (that was most
	 * of what a responder spent per handshake outside the crypto) */
	struct connection_config cfg;
	connection_config_copy(&cfg, &template->cfg);
	cfg.end[template->that].host_kind = HOST_ADDRESS;
	cfg.end[template->that].host = *peer;
	if (connection_config_check(&cfg, err) < 0) {
		connection_config_free(&cfg);
		return -1;
	}
	return add_connection(name, template->source, &cfg, template, ret, err);
}

void connection_set_source(struct connection *c, const char *source)
{
	if (c->source && streq(c->source, source))
		return;
	free(c->source);
	c->source = xstrdup(source);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_SOURCE);
}

bool connection_source_is_api(const struct connection *c)
{
	return !c->source || streq(c->source, CONNECTION_SOURCE_API);
}

void connection_delete(struct connection *c)
{
	struct ctl_error gone = { .code = PE_UNKNOWN_NAME };
	snprintf(gone.message, sizeof(gone.message), "\"%s\": connection deleted", c->name);
	progress_sinks_done(c, &gone);
	states_delete_for_connection(c);
	event_connection(EV_CONNECTION_REMOVED, c, VIEW_CONN__ALL);
	index_remove(c);
	hindex_del(&by_peer_host, &c->peer_host_link);
	if (c->is_template) {
		if (c->tmpl_prev)
			c->tmpl_prev->tmpl_next = c->tmpl_next;
		else
			templates = c->tmpl_next;
		if (c->tmpl_next)
			c->tmpl_next->tmpl_prev = c->tmpl_prev;
		else
			templates_last = c->tmpl_prev;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		connections = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		connections_last = c->prev;
	n_connections--;
	/* instances derived from this template lose their link */
	for (struct connection *o = c->is_template ? connections : NULL; o; o = o->next)
		if (o->template == c) {
			o->template = NULL;
			event_connection(EV_CONNECTION_CHANGED, o, VIEW_CONN_INSTANCE_OF);
		}
	option_map_release(c->options);
	connection_config_free(&c->cfg);
	view_cache_free(&c->view_cache);
	free(c->source);
	free(c->name);
	free(c);
}

void connections_delete_all(void)
{
	while (connections)
		connection_delete(connections);
	hindex_free(&by_peer_host);
}

/* --- a connection's progress sinks (progress.h): they live in struct
 * connection, so the list is handled here; progress.h stays a header
 * below the database. --- */

void progress_sink_attach(struct connection *c, struct progress_sink *sink)
{
	sink->next = c->sinks;
	c->sinks = sink;
}

void progress_sink_detach(struct connection *c, struct progress_sink *sink)
{
	for (struct progress_sink **pp = &c->sinks; *pp; pp = &(*pp)->next) {
		if (*pp == sink) {
			*pp = sink->next;
			sink->next = NULL;
			return;
		}
	}
}

void progress_sinks_line(struct connection *c, unsigned rc, const char *text)
{
	/* a sink may detach itself (client gone) from inside line() */
	struct progress_sink *next;
	for (struct progress_sink *s = c->sinks; s; s = next) {
		next = s->next;
		if (s->line)
			s->line(s->ctx, rc, text);
	}
}

void progress_sinks_done(struct connection *c, const struct ctl_error *err)
{
	struct progress_sink *list = c->sinks;
	c->sinks = NULL;
	while (list) {
		struct progress_sink *s = list;
		list = s->next;
		s->next = NULL;
		if (s->done)
			s->done(s->ctx, err);
	}
}

/* --- what log.c knows of connections and states --- */

static const char *log_connection_name(const struct connection *c)
{
	return c->name;
}

static unsigned log_connection_debug(const struct connection *c)
{
	return c->debug;
}

static unsigned log_state_serial(const struct state *st)
{
	return st->serial;
}

static const struct connection *log_state_connection(const struct state *st)
{
	return st->connection;
}

static void log_progress_line(const struct connection *c, const struct state *st,
			      enum whack_rc rc, const char *line)
{
	progress_sinks_line((struct connection *)c, rc, line);
	events_emit(&(struct pluto_event){ .kind = EV_PROGRESS, .c = (struct connection *)c,
					   .st = (struct state *)st, .rc = rc, .text = line });
}

static const struct log_subject_ops log_subject = {
	.connection_name = log_connection_name,
	.connection_debug = log_connection_debug,
	.state_serial = log_state_serial,
	.state_connection = log_state_connection,
	.progress_line = log_progress_line,
};

/* Registered when the program is loaded, before main() or any test runs:
 * no connection can exist (nor be logged about) without this object
 * linked in, and log, below it, must not call up. */
__attribute__((constructor)) static void log_subject_register(void)
{
	log_set_subject_ops(&log_subject);
}

static bool end_client(const struct connection *c, const struct end *e, ip_subnet *out)
{
	if (e->has_client) {
		*out = e->client;
		return true;
	}
	/* a Mode Config client's traffic leaves from the address it was lent
	 * (its Quick Mode proposes it, the gateway's accepts exactly it) */
	const struct state *isakmp = e->modecfgclient && c->newest_isakmp ? state_by_serial(c->newest_isakmp) : NULL;
	if (isakmp && state_modecfg(isakmp)->has_virtual_address) {
		*out = state_modecfg(isakmp)->virtual_address;
		return true;
	}
	/* a Mode Config client without rightsubnet reaches what the gateway
	 * sent as Unity split include: its first network is the peer's
	 * client (Quick Mode proposes it, routing and updown use it) */
	const struct end *mine = e == END_THAT(c) ? END_THIS(c) : END_THAT(c);
	isakmp = mine->modecfgclient && c->newest_isakmp ? state_by_serial(c->newest_isakmp) : NULL;
	if (isakmp && state_modecfg(isakmp)->n_split_include) {
		*out = state_modecfg(isakmp)->split_include[0];
		return true;
	}
	subnet_from_address(&e->host, out);
	return false;
}

bool connection_this_client(const struct connection *c, ip_subnet *out)
{
	return end_client(c, END_THIS(c), out);
}

bool connection_that_client(const struct connection *c, ip_subnet *out)
{
	return end_client(c, END_THAT(c), out);
}
