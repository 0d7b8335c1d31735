/* NM's IP configuration dictionaries (nm-ipconfig-emit.h) */
#include "nm-ipconfig-emit.h"

#include <stdint.h>
#include <string.h>

/* the keys (libnm nm-vpn-dbus-interface.h) */
#define KEY_GATEWAY       "gateway"
#define KEY_HAS_IP4       "has-ip4"
#define KEY_HAS_IP6       "has-ip6"
#define KEY_BANNER        "banner"
#define KEY_ADDRESS       "address"
#define KEY_PREFIX        "prefix"
#define KEY_DNS           "dns"
#define KEY_DOMAINS       "domains"
#define KEY_ROUTES        "routes"
#define KEY_NEVER_DEFAULT "never-default"

static uint32_t v4(const ip_address *a)
{
	uint32_t u;
	memcpy(&u, &a->u.v4, sizeof(u));   /* the address bytes, as NM reads them back */
	return u;
}

static int add_u(sd_bus_message *m, const char *key, uint32_t u)
{
	return sd_bus_message_append(m, "{sv}", key, "u", u);
}

static int add_b(sd_bus_message *m, const char *key, bool b)
{
	return sd_bus_message_append(m, "{sv}", key, "b", (int)b);
}

static int add_ay(sd_bus_message *m, const char *key, const ip_address *a)
{
	int r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "ay");
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', a->u.bytes, 16);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* open the dictionary entry KEY whose variant holds an array: {KEY, v(a ELEM)};
 * close_entry ends the three containers (array, variant, entry) */
static int open_array_entry(sd_bus_message *m, const char *key, const char *vsig)
{
	int r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', vsig);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', vsig + 1);
	return r;
}

static int close_entry(sd_bus_message *m, int r)
{
	for (int k = 0; r >= 0 && k < 3; k++)
		r = sd_bus_message_close_container(m);
	return r;
}

static int add_domains(sd_bus_message *m, const struct nmp_ipconfig *c)
{
	int r = open_array_entry(m, KEY_DOMAINS, "as");
	for (size_t i = 0; r >= 0 && i < c->n_domains; i++)
		r = sd_bus_message_append(m, "s", c->domains[i]);
	return close_entry(m, r);
}

int nmp_emit_config(sd_bus_message *m, const struct nmp_ipconfig *c)
{
	int r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = c->gateway.family == AF_INET ? add_u(m, KEY_GATEWAY, v4(&c->gateway))
						  : add_ay(m, KEY_GATEWAY, &c->gateway);
	if (r >= 0)
		r = add_b(m, KEY_HAS_IP4, c->ip4.present);
	if (r >= 0)
		r = add_b(m, KEY_HAS_IP6, c->ip6.present);
	if (r >= 0 && c->banner)
		r = sd_bus_message_append(m, "{sv}", KEY_BANNER, "s", c->banner);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* what both families share: prefix, domains, never-default */
static int add_common(sd_bus_message *m, const struct nmp_ipconfig *c, const struct nmp_ipx *x)
{
	int r = add_u(m, KEY_PREFIX, x->prefix);
	if (r >= 0 && x->domains && c->n_domains > 0)
		r = add_domains(m, c);
	if (r >= 0)
		r = add_b(m, KEY_NEVER_DEFAULT, x->never_default);
	return r;
}

int nmp_emit_ip4(sd_bus_message *m, const struct nmp_ipconfig *c)
{
	const struct nmp_ipx *x = &c->ip4;
	int r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = add_u(m, KEY_ADDRESS, v4(&x->address));
	if (r >= 0)
		r = add_common(m, c, x);
	if (r >= 0 && x->n_dns > 0) {
		r = open_array_entry(m, KEY_DNS, "au");
		for (size_t i = 0; r >= 0 && i < x->n_dns; i++)
			r = sd_bus_message_append(m, "u", v4(&x->dns[i]));
		r = close_entry(m, r);
	}
	if (r >= 0 && x->n_routes > 0) {
		/* aau: [network, prefix, next hop (0: none), metric (0: NM's)] */
		r = open_array_entry(m, KEY_ROUTES, "aau");
		for (size_t i = 0; r >= 0 && i < x->n_routes; i++)
			r = sd_bus_message_append(m, "au", 4, v4(&x->routes[i].addr), (uint32_t)x->routes[i].prefix,
						  (uint32_t)0, (uint32_t)0);
		r = close_entry(m, r);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

int nmp_emit_ip6(sd_bus_message *m, const struct nmp_ipconfig *c)
{
	static const ip_address none = { .family = AF_INET6 };
	const struct nmp_ipx *x = &c->ip6;
	int r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = add_ay(m, KEY_ADDRESS, &x->address);
	if (r >= 0)
		r = add_common(m, c, x);
	if (r >= 0 && x->n_dns > 0) {
		r = open_array_entry(m, KEY_DNS, "aay");
		for (size_t i = 0; r >= 0 && i < x->n_dns; i++)
			r = sd_bus_message_append_array(m, 'y', x->dns[i].u.bytes, 16);
		r = close_entry(m, r);
	}
	if (r >= 0 && x->n_routes > 0) {
		/* a(ayuayu): network, prefix, next hop (:: none), metric */
		r = open_array_entry(m, KEY_ROUTES, "a(ayuayu)");
		for (size_t i = 0; r >= 0 && i < x->n_routes; i++) {
			r = sd_bus_message_open_container(m, 'r', "ayuayu");
			if (r >= 0)
				r = sd_bus_message_append_array(m, 'y', x->routes[i].addr.u.bytes, 16);
			if (r >= 0)
				r = sd_bus_message_append(m, "u", (uint32_t)x->routes[i].prefix);
			if (r >= 0)
				r = sd_bus_message_append_array(m, 'y', none.u.bytes, 16);
			if (r >= 0)
				r = sd_bus_message_append(m, "u", (uint32_t)0);
			if (r >= 0)
				r = sd_bus_message_close_container(m);
		}
		r = close_entry(m, r);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}
