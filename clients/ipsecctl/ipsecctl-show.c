/* ipsecctl show NAME: a connection's options, source, routing and states
 * with their algorithms, SPIs and lifetimes left, picked out of the Status
 * reply (which every local user may read). Field names come from
 * common/view-fields.h, so they are the daemon's own. */
#include "ipsecctl-show.h"

#include <string.h>

#include "common/view-fields.h"
#include "varlink-client.h"

#define CONN_JSON(id) VIEW_JSON(view_connection_field_names, id)
#define STATE_JSON(id) VIEW_JSON(view_state_field_names, id)

static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (obj)
		json_object_object_get_ex(obj, key, &v);
	return v;
}

static size_t array_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Is serial one of conn's states? */
static bool has_serial(json_object *conn, long long serial)
{
	json_object *serials = member(conn, CONN_JSON(CONN_STATES));
	for (size_t i = 0; i < array_len(serials); i++)
		if (json_object_get_int64(json_object_array_get_idx(serials, i)) == serial)
			return true;
	return false;
}

json_object *show_collect(json_object *status, const char *name)
{
	json_object *conns = member(status, "connections"), *conn = NULL;
	for (size_t i = 0; i < array_len(conns) && !conn; i++) {
		json_object *c = json_object_array_get_idx(conns, i);
		if (strcmp(vl_get_string(c, CONN_JSON(CONN_NAME), ""), name) == 0)
			conn = c;
	}
	if (!conn)
		return NULL;
	json_object *states = json_object_new_array(), *all = member(status, "states");
	for (size_t i = 0; i < array_len(all); i++) {
		json_object *st = json_object_array_get_idx(all, i);
		if (has_serial(conn, vl_get_int(st, STATE_JSON(STATE_SERIAL), -1)) ||
		    strcmp(vl_get_string(st, STATE_JSON(STATE_CONNECTION), ""), name) == 0)
			json_object_array_add(states, json_object_get(st));
	}
	json_object *shown = json_object_new_object();
	json_object_object_add(shown, "connection", json_object_get(conn));
	json_object_object_add(shown, "states", states);
	return shown;
}

void show_duration(long long seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	long long d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
	if (d)
		snprintf(buf, len, "%lldd %lldh %lldm %llds", d, h, m, s);
	else if (h)
		snprintf(buf, len, "%lldh %lldm %llds", h, m, s);
	else if (m)
		snprintf(buf, len, "%lldm %llds", m, s);
	else
		snprintf(buf, len, "%llds", s);
}

/* "rekey in 51m 3s" / "rekey due" / "rekey never", for a CLOCK_REALTIME
 * microsecond time (0 = never) */
static void time_left(const char *what, long long at_usec, long long now_usec, char *buf, size_t len)
{
	char d[64];
	if (at_usec == 0)
		snprintf(buf, len, "%s never", what);
	else if (at_usec <= now_usec)
		snprintf(buf, len, "%s due", what);
	else {
		show_duration((at_usec - now_usec + 999999) / 1000000, d, sizeof(d));
		snprintf(buf, len, "%s in %s", what, d);
	}
}

/* "0xc0a80001 0x00001234", or "-" */
static void spis_text(json_object *spis, char *buf, size_t len)
{
	size_t used = 0;
	snprintf(buf, len, "-");
	for (size_t i = 0; i < array_len(spis) && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s0x%08llx", i ? " " : "",
					 (unsigned long long)json_object_get_int64(json_object_array_get_idx(spis, i)));
}

/* "a, b" from a JSON array of strings, or "" */
static void strings_text(json_object *arr, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < array_len(arr) && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* XAUTH and Mode Config results of an ISAKMP state, the lines only when
 * set (a plain connection's show is as before) */
static void print_remote_access(FILE *f, json_object *st)
{
	static const struct { const char *label; unsigned field; bool list; } lines[] = {
		{ "user:        ", VIEW_STATE_XAUTH_USER, false },
		{ "address:     ", VIEW_STATE_VIRTUAL_ADDRESS, false },
		{ "DNS:         ", VIEW_STATE_DNS, true },
		{ "domains:     ", VIEW_STATE_DOMAINS, true },
		{ "banner:      ", VIEW_STATE_BANNER, false },
		{ "split:       ", VIEW_STATE_SPLIT_INCLUDE, true },
	};
	char text[600];
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *name = view_state_field_names[lines[i].field].json;
		if (lines[i].list)
			strings_text(member(st, name), text, sizeof(text));
		else
			snprintf(text, sizeof(text), "%s", vl_get_string(st, name, ""));
		if (*text)
			fprintf(f, "      %s%s\n", lines[i].label, text);
	}
}

static void print_state(FILE *f, json_object *st, long long now_usec)
{
	char rekey[96], expires[96], in[128], out[128];
	fprintf(f, "  #%lld %s %s%s\n", vl_get_int(st, STATE_JSON(STATE_SERIAL), 0),
		vl_get_string(st, STATE_JSON(STATE_KIND), "?"), vl_get_string(st, STATE_JSON(STATE_NAME), "?"),
		vl_get_bool(st, STATE_JSON(STATE_ESTABLISHED), false) ? " established" : "");
	const char *algs = vl_get_string(st, STATE_JSON(STATE_ALGORITHMS), "");
	fprintf(f, "      algorithms:  %s\n", *algs ? algs : "-");
	fprintf(f, "      peer:        %s", vl_get_string(st, STATE_JSON(STATE_PEER_ADDRESS), "-"));
	const char *peer_id = vl_get_string(st, STATE_JSON(STATE_PEER_ID), "");
	fprintf(f, "%s%s%s\n", *peer_id ? " (id " : "", peer_id, *peer_id ? ")" : "");
	spis_text(member(st, STATE_JSON(STATE_INBOUND_SPIS)), in, sizeof(in));
	spis_text(member(st, STATE_JSON(STATE_OUTBOUND_SPIS)), out, sizeof(out));
	if (array_len(member(st, STATE_JSON(STATE_INBOUND_SPIS))) ||
	    array_len(member(st, STATE_JSON(STATE_OUTBOUND_SPIS))))
		fprintf(f, "      SPIs:        in %s, out %s\n", in, out);
	print_remote_access(f, st);
	time_left("rekey", vl_get_int(st, STATE_JSON(STATE_REKEY_AT), 0), now_usec, rekey, sizeof(rekey));
	time_left("expires", vl_get_int(st, STATE_JSON(STATE_EXPIRES_AT), 0), now_usec, expires, sizeof(expires));
	fprintf(f, "      lifetime:    %s, %s\n", rekey, expires);
}

void show_print(FILE *f, json_object *shown, long long now_usec)
{
	json_object *conn = member(shown, "connection"), *states = member(shown, "states");
	fprintf(f, "Connection:  %s\n", vl_get_string(conn, CONN_JSON(CONN_NAME), "?"));
	const char *source = vl_get_string(conn, CONN_JSON(CONN_SOURCE), NULL);
	if (source)
		fprintf(f, "Source:      %s\n", source);
	fprintf(f, "Routing:     %s\n", vl_get_string(conn, CONN_JSON(CONN_ROUTING), "?"));
	fprintf(f, "Template:    %s\n", vl_get_bool(conn, CONN_JSON(CONN_TEMPLATE), false) ? "yes" : "no");
	const char *instance_of = vl_get_string(conn, CONN_JSON(CONN_INSTANCE_OF), "");
	if (*instance_of)
		fprintf(f, "Instance of: %s\n", instance_of);
	fputs("Options:\n", f);
	json_object *options = member(conn, CONN_JSON(CONN_OPTIONS));
	size_t width = 0;
	if (options && json_object_is_type(options, json_type_object)) {
		json_object_object_foreach(options, key, val) {
			(void)val;
			if (strlen(key) > width)
				width = strlen(key);
		}
		json_object_object_foreach(options, k, v)
			fprintf(f, "  %-*s  %s\n", (int)width, k, json_object_get_string(v));
	}
	fprintf(f, "States:%s\n", array_len(states) ? "" : " none");
	for (size_t i = 0; i < array_len(states); i++)
		print_state(f, json_object_array_get_idx(states, i), now_usec);
}
