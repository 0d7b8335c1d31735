/* Aligned text tables: cells are collected first, then every column is as
 * wide as its widest cell. */
#include "ipsecctl-table.h"

#include <stdlib.h>
#include <string.h>

#include "varlink-client.h"

#define MAX_COLUMNS 8

struct table {
	size_t columns, rows;
	char **cells;            /* rows * columns, row 0 is the header */
};

static void table_row(struct table *t, const char *const *cells)
{
	t->cells = realloc(t->cells, (t->rows + 1) * t->columns * sizeof(char *));
	if (!t->cells)
		abort();
	for (size_t c = 0; c < t->columns; c++) {
		char *s = strdup(cells[c] && *cells[c] ? cells[c] : "-");
		if (!s)
			abort();
		t->cells[t->rows * t->columns + c] = s;
	}
	t->rows++;
}

static void table_print(FILE *f, struct table *t)
{
	size_t width[MAX_COLUMNS] = { 0 };
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->columns; c++) {
			size_t l = strlen(t->cells[r * t->columns + c]);
			if (l > width[c])
				width[c] = l;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->columns; c++) {
			const char *s = t->cells[r * t->columns + c];
			if (c + 1 == t->columns)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)width[c], s);
		}
	}
	for (size_t i = 0; i < t->rows * t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

/* "a, b, c" from a JSON array of strings or numbers ("-" when empty) */
static void join_array(json_object *arr, const char *sep, const char *prefix, char *out, size_t len)
{
	out[0] = '\0';
	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	size_t used = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		int n = snprintf(out + used, len - used, "%s%s%s", i ? sep : "", prefix, s ? s : "");
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

static json_object *field(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (obj)
		json_object_object_get_ex(obj, key, &v);
	return v;
}

/* "subnet===host" as FreeS/WAN status shows an end; just the host without a subnet */
static void end_text(json_object *options, const char *side, char *out, size_t len)
{
	char key[32];
	const char *host = vl_get_string(options, side, "");
	snprintf(key, sizeof(key), "%ssubnet", side);
	const char *subnet = vl_get_string(options, key, NULL);
	if (subnet)
		snprintf(out, len, "%s===%s", subnet, host);
	else
		snprintf(out, len, "%s", host);
}

void print_status_tables(FILE *f, json_object *status)
{
	char buf[1024];
	fprintf(f, "Version:     %s\n", vl_get_string(status, "version", "?"));
	fprintf(f, "Listening:   %s\n", vl_get_bool(status, "listening", false) ? "yes" : "no");
	join_array(field(status, "interfaces"), ", ", "", buf, sizeof(buf));
	fprintf(f, "Interfaces:  %s\n", *buf ? buf : "-");
	fprintf(f, "Kernel:      %s\n", vl_get_string(status, "kernelBackend", "?"));
	join_array(field(status, "debugClasses"), ", ", "", buf, sizeof(buf));
	fprintf(f, "Debug:       %s\n", *buf ? buf : "none");

	struct table t = { .columns = 5 };
	const char *head[] = { "NAME", "LEFT", "RIGHT", "ROUTING", "STATES" };
	table_row(&t, head);
	json_object *conns = field(status, "connections");
	size_t n = conns && json_object_is_type(conns, json_type_array) ? json_object_array_length(conns) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(conns, i);
		json_object *opts = field(c, "options");
		char left[300], right[300], states[300];
		end_text(opts, "left", left, sizeof(left));
		end_text(opts, "right", right, sizeof(right));
		join_array(field(c, "states"), ",", "#", states, sizeof(states));
		const char *row[] = { vl_get_string(c, "name", "?"), left, right,
				      vl_get_string(c, "routing", "?"), states };
		table_row(&t, row);
	}
	fprintf(f, "\nConnections:\n");
	table_print(f, &t);

	t.columns = 6;
	const char *shead[] = { "SERIAL", "CONNECTION", "KIND", "NAME", "ESTABLISHED", "PEER" };
	table_row(&t, shead);
	json_object *states = field(status, "states");
	n = states && json_object_is_type(states, json_type_array) ? json_object_array_length(states) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(states, i);
		char serial[32];
		snprintf(serial, sizeof(serial), "#%lld", vl_get_int(s, "serial", 0));
		const char *row[] = { serial, vl_get_string(s, "connection", "?"),
				      vl_get_string(s, "kind", "?"), vl_get_string(s, "name", "?"),
				      vl_get_bool(s, "established", false) ? "yes" : "no",
				      vl_get_string(s, "peerAddress", "") };
		table_row(&t, row);
	}
	fprintf(f, "\nStates:\n");
	table_print(f, &t);
}

void print_change_line(FILE *f, json_object *change)
{
	fprintf(f, "%s", vl_get_string(change, "event", "unknown"));
	json_object *conn = field(change, "connection");
	json_object *state = field(change, "state");
	const char *name = vl_get_string(change, "connectionName", NULL);
	if (!name && conn)
		name = vl_get_string(conn, "name", NULL);
	if (!name && state)
		name = vl_get_string(state, "connection", NULL);
	if (name)
		fprintf(f, " connection=%s", name);
	if (conn && json_object_is_type(conn, json_type_object))
		fprintf(f, " routing=%s", vl_get_string(conn, "routing", "?"));
	if (state && json_object_is_type(state, json_type_object))
		fprintf(f, " serial=%lld state=%s established=%s", vl_get_int(state, "serial", 0),
			vl_get_string(state, "name", "?"),
			vl_get_bool(state, "established", false) ? "yes" : "no");
	const char *prop = vl_get_string(change, "property", NULL);
	if (prop)
		fprintf(f, " property=%s", prop);
	if (vl_has(change, "code") && json_object_is_type(field(change, "code"), json_type_int))
		fprintf(f, " code=%03lld", vl_get_int(change, "code", 0));
	/* last, unquoted: it runs to the end of the line */
	const char *msg = vl_get_string(change, "message", NULL);
	if (msg)
		fprintf(f, " message=%s", msg);
	fputc('\n', f);
}
