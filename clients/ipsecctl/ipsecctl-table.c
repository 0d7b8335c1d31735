/* Aligned text tables: cells are collected first, then every column is as
 * wide as its widest cell (so no column declares a width). The columns
 * are tables naming fields of the daemon's view by id
 * (common/view-fields.h), whose JSON names the daemon renders from. */
#include "ipsecctl-table.h"

#include <stdlib.h>
#include <string.h>

#include "common/view-fields.h"
#include "varlink-client.h"

#define MAX_COLUMNS 12

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

/* How a field becomes the text of a cell. */
enum cell_format {
	CELL_TEXT,        /* a string as it is */
	CELL_YES_NO,      /* a bool */
	CELL_SERIAL,      /* a serial: "#3" */
	CELL_SERIALS,     /* serials: "#1,#2" */
	CELL_LIST,        /* strings: "a, b" */
	CELL_LEFT_END,    /* the options map: the left end as status shows it */
	CELL_RIGHT_END,   /* ... the right end */
};

/* A column of a table, or a line of the summary: a field of the view
 * (common/view-fields.h), so the JSON names are the daemon's own. */
struct column {
	const char *header;
	unsigned field;           /* id of the table's view kind */
	enum cell_format format;
	const char *missing;      /* text when the field is absent or empty */
	bool when_set;            /* only shown when some row has a value */
};

static const struct column manager_lines[] = {
	{ "Version",    VIEW_MGR_VERSION,        CELL_TEXT,   "?", false },
	{ "Listening",  VIEW_MGR_LISTENING,      CELL_YES_NO, NULL, false },
	{ "Interfaces", VIEW_MGR_INTERFACES,     CELL_LIST,   "-", false },
	{ "Kernel",     VIEW_MGR_KERNEL_BACKEND, CELL_TEXT,   "?", false },
	{ "Debug",      VIEW_MGR_DEBUG_CLASSES,  CELL_LIST,   "none", false },
};

static const struct column connection_columns[] = {
	{ "NAME",    VIEW_CONN_NAME,    CELL_TEXT,      "?", false },
	{ "LEFT",    VIEW_CONN_OPTIONS, CELL_LEFT_END,  NULL, false },
	{ "RIGHT",   VIEW_CONN_OPTIONS, CELL_RIGHT_END, NULL, false },
	{ "ROUTING", VIEW_CONN_ROUTING, CELL_TEXT,      "?", false },
	{ "STATES",  VIEW_CONN_STATES,  CELL_SERIALS,   NULL, false },
};

static const struct column state_columns[] = {
	{ "SERIAL",      VIEW_STATE_SERIAL,       CELL_SERIAL,  NULL, false },
	{ "CONNECTION",  VIEW_STATE_CONNECTION,   CELL_TEXT,    "?", false },
	{ "KIND",        VIEW_STATE_KIND,         CELL_TEXT,    "?", false },
	{ "NAME",        VIEW_STATE_NAME,         CELL_TEXT,    "?", false },
	{ "ESTABLISHED", VIEW_STATE_ESTABLISHED,  CELL_YES_NO,  NULL, false },
	{ "PEER",        VIEW_STATE_PEER_ADDRESS, CELL_TEXT,    "", false },
	/* remote access: the columns appear only when a state has them */
	{ "USER",        VIEW_STATE_XAUTH_USER,   CELL_TEXT,    "-", true },
	{ "VIRTUAL",     VIEW_STATE_VIRTUAL_ADDRESS, CELL_TEXT, "-", true },
	{ "DNS",         VIEW_STATE_DNS,          CELL_LIST,    "-", true },
};

/* The text of col for obj, a JSON object of the view kind. */
static void cell_text(json_object *obj, enum view_kind kind, const struct column *col, char *out, size_t len)
{
	size_t n;
	const char *name = view_field_names(kind, &n)[col->field].json;
	out[0] = '\0';
	switch (col->format) {
	case CELL_TEXT:
		snprintf(out, len, "%s", vl_get_string(obj, name, col->missing));
		break;
	case CELL_YES_NO:
		snprintf(out, len, "%s", vl_get_bool(obj, name, false) ? "yes" : "no");
		break;
	case CELL_SERIAL:
		snprintf(out, len, "#%lld", vl_get_int(obj, name, 0));
		break;
	case CELL_SERIALS:
		join_array(field(obj, name), ",", "#", out, len);
		break;
	case CELL_LIST:
		join_array(field(obj, name), ", ", "", out, len);
		break;
	case CELL_LEFT_END:
	case CELL_RIGHT_END:
		end_text(field(obj, name), col->format == CELL_LEFT_END ? "left" : "right", out, len);
		break;
	}
	if (!*out && col->missing)
		snprintf(out, len, "%s", col->missing);
}

/* One table: a header row, then a row per element of the JSON array.
 * A when_set column is left out when no row has a value for it. */
static void print_table(FILE *f, const char *title, json_object *array, enum view_kind kind,
			const struct column *all_cols, size_t n_all)
{
	size_t n = array && json_object_is_type(array, json_type_array) ? json_object_array_length(array) : 0;
	const struct column *cols[MAX_COLUMNS];
	char cells[MAX_COLUMNS][300];
	size_t n_cols = 0;
	for (size_t c = 0; c < n_all && n_cols < MAX_COLUMNS; c++) {
		bool shown = !all_cols[c].when_set;
		for (size_t i = 0; i < n && !shown; i++) {
			cell_text(json_object_array_get_idx(array, i), kind, &all_cols[c], cells[0], sizeof(cells[0]));
			shown = strcmp(cells[0], all_cols[c].missing) != 0;
		}
		if (shown)
			cols[n_cols++] = &all_cols[c];
	}
	struct table t = { .columns = n_cols };
	const char *row[MAX_COLUMNS];
	for (size_t c = 0; c < n_cols; c++)
		row[c] = cols[c]->header;
	table_row(&t, row);
	for (size_t i = 0; i < n; i++) {
		json_object *obj = json_object_array_get_idx(array, i);
		for (size_t c = 0; c < n_cols; c++) {
			cell_text(obj, kind, cols[c], cells[c], sizeof(cells[c]));
			row[c] = cells[c];
		}
		table_row(&t, row);
	}
	fprintf(f, "\n%s:\n", title);
	table_print(f, &t);
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void print_status_tables(FILE *f, json_object *status)
{
	char buf[1024];
	for (size_t i = 0; i < N_OF(manager_lines); i++) {
		char label[32];
		cell_text(status, VIEW_MANAGER, &manager_lines[i], buf, sizeof(buf));
		snprintf(label, sizeof(label), "%s:", manager_lines[i].header);
		fprintf(f, "%-13s%s\n", label, buf);
	}
	print_table(f, "Connections", field(status, "connections"), VIEW_CONNECTION, connection_columns,
		    N_OF(connection_columns));
	print_table(f, "States", field(status, "states"), VIEW_STATE, state_columns, N_OF(state_columns));
}

/* The field names of a table's columns, once each, into names */
static void add_column_fields(json_object *names, enum view_kind kind, const struct column *cols, size_t n)
{
	size_t n_fields;
	const struct view_field_name *f = view_field_names(kind, &n_fields);
	for (size_t c = 0; c < n; c++) {
		bool seen = false;
		for (size_t i = 0; i < c; i++)
			seen |= cols[i].field == cols[c].field;
		if (!seen)
			json_object_array_add(names, json_object_new_string(f[cols[c].field].json));
	}
}

json_object *status_table_params(void)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "text", json_object_new_boolean(false));
	json_object *conn = json_object_new_array(), *state = json_object_new_array();
	add_column_fields(conn, VIEW_CONNECTION, connection_columns, N_OF(connection_columns));
	add_column_fields(state, VIEW_STATE, state_columns, N_OF(state_columns));
	json_object_object_add(p, "connectionFields", conn);
	json_object_object_add(p, "stateFields", state);
	/* the options end_text() reads */
	json_object *keys = json_object_new_array();
	static const char *const end_keys[] = { "left", "leftsubnet", "right", "rightsubnet" };
	for (size_t i = 0; i < N_OF(end_keys); i++)
		json_object_array_add(keys, json_object_new_string(end_keys[i]));
	json_object_object_add(p, "optionKeys", keys);
	return p;
}

#define CONN_JSON(id) VIEW_JSON(view_connection_field_names, id)
#define STATE_JSON(id) VIEW_JSON(view_state_field_names, id)

void print_change_line(FILE *f, json_object *change)
{
	fprintf(f, "%s", vl_get_string(change, "event", "unknown"));
	json_object *conn = field(change, "connection");
	json_object *state = field(change, "state");
	const char *name = vl_get_string(change, "connectionName", NULL);
	if (!name && conn)
		name = vl_get_string(conn, CONN_JSON(CONN_NAME), NULL);
	if (!name && state)
		name = vl_get_string(state, STATE_JSON(STATE_CONNECTION), NULL);
	if (name)
		fprintf(f, " connection=%s", name);
	if (conn && json_object_is_type(conn, json_type_object))
		fprintf(f, " routing=%s", vl_get_string(conn, CONN_JSON(CONN_ROUTING), "?"));
	if (state && json_object_is_type(state, json_type_object))
		fprintf(f, " serial=%lld state=%s established=%s", vl_get_int(state, STATE_JSON(STATE_SERIAL), 0),
			vl_get_string(state, STATE_JSON(STATE_NAME), "?"),
			vl_get_bool(state, STATE_JSON(STATE_ESTABLISHED), false) ? "yes" : "no");
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
