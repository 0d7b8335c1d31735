/* D-Bus properties rendered from the view (daemon/views.h): the vtables
 * of the Manager, Connection and State interfaces get one property per
 * view row that has a D-Bus name, all served by one getter, and change
 * events become PropertiesChanged for exactly the fields that changed. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "daemon/views.h"

/* indexed by enum view_type: the D-Bus signature each type has */
static const char *const dbus_signature[] = {
	[VIEW_STRING] = "s",
	[VIEW_BOOL] = "b",
	[VIEW_U32] = "u",
	[VIEW_U64] = "t",
	[VIEW_STRING_MAP] = "a{ss}",
	[VIEW_STRING_LIST] = "as",
	[VIEW_U32_LIST] = "au",
	[VIEW_STATE_REF] = "o",
	[VIEW_STATE_REFS] = "ao",
	[VIEW_CONN_REF] = "o",
};

const char *dbus_view_signature(enum view_type type)
{
	return (unsigned)type < ARRAY_SIZE(dbus_signature) ? dbus_signature[type] : NULL;
}

/* --- the wire size of what is appended: a reply bigger than the bus's
 * message limit must be refused, not sent (dbus-objects.c), and sd-bus
 * does not tell a message's size. The D-Bus marshalling rules, counted
 * from the start of the body (which is 8-aligned). --- */

size_t dbus_wire_align(size_t pos, size_t to)
{
	return (pos + to - 1) & ~(to - 1);
}

/* s and o: length, bytes, NUL */
size_t dbus_wire_string(size_t pos, size_t len)
{
	return dbus_wire_align(pos, 4) + 4 + len + 1;
}

/* an array's length, then the padding to its first element's alignment
 * (there even when it is empty) */
size_t dbus_wire_array(size_t pos, size_t element_align)
{
	return dbus_wire_align(dbus_wire_align(pos, 4) + 4, element_align);
}

/* A string (type s or o) appended, and counted when wire is not NULL. */
static int append_text(sd_bus_message *reply, char type, const char *text, size_t *wire)
{
	if (wire)
		*wire = dbus_wire_string(*wire, strlen(text));
	return dbus_basic(reply, type, text);
}

static int append_u32(sd_bus_message *reply, char type, uint32_t u, size_t *wire)
{
	if (wire)
		*wire = dbus_wire_align(*wire, 4) + 4;
	return dbus_basic(reply, type, &u);
}

static int append_path(sd_bus_message *reply, char *path, size_t *wire)
{
	_cleanup_free_ char *p = path;
	return p ? append_text(reply, 'o', p, wire) : -ENOMEM;
}

int dbus_append_state_ref(sd_bus_message *reply, unsigned serial, size_t *wire)
{
	char path[sizeof(PLUTO_DBUS_STATE_PREFIX "/4294967295")];
	if (serial == 0)
		return append_text(reply, 'o', "/", wire);
	snprintf(path, sizeof(path), PLUTO_DBUS_STATE_PREFIX "/%u", serial);
	return append_text(reply, 'o', path, wire);
}

int dbus_append_view_value(sd_bus_message *reply, const struct view_value *v, size_t *wire)
{
	int r;
	switch (v->type) {
	case VIEW_STRING:
		return append_text(reply, 's', v->s ? v->s : "", wire);
	case VIEW_BOOL:
		return append_u32(reply, 'b', v->b, wire);
	case VIEW_U32:
		return append_u32(reply, 'u', (uint32_t)v->u, wire);
	case VIEW_U64:
		if (wire)
			*wire = dbus_wire_align(*wire, 8) + 8;
		return dbus_basic(reply, 't', &v->u);
	case VIEW_STRING_MAP:
		/* entry by entry with append_basic: sd_bus_message_append
		 * would parse "{ss}" again for each of the ~30 options of each
		 * of 10,000 connections in a GetManagedObjects */
		if (wire)
			*wire = dbus_wire_array(*wire, 8);
		r = dbus_open(reply, 'a', "{ss}");
		for (size_t i = 0; r >= 0 && i < v->n; i++) {
			if (wire)
				*wire = dbus_wire_align(*wire, 8);
			r = dbus_open(reply, 'e', "ss");
			if (r >= 0)
				r = append_text(reply, 's', v->keys[i], wire);
			if (r >= 0)
				r = append_text(reply, 's', v->strs[i], wire);
			if (r >= 0)
				r = dbus_close(reply);
		}
		return r < 0 ? r : dbus_close(reply);
	case VIEW_STRING_LIST:
		if (wire)
			*wire = dbus_wire_array(*wire, 4);
		r = dbus_open(reply, 'a', "s");
		for (size_t i = 0; r >= 0 && i < v->n; i++)
			r = append_text(reply, 's', v->strs[i], wire);
		return r < 0 ? r : dbus_close(reply);
	case VIEW_U32_LIST:
		if (wire)
			*wire = dbus_wire_array(*wire, 4) + 4 * v->n;
		return reply ? sd_bus_message_append_array(reply, 'u', v->u32s, v->n * sizeof(uint32_t)) : 0;
	case VIEW_STATE_REF:
		return dbus_append_state_ref(reply, (unsigned)v->u, wire);
	case VIEW_STATE_REFS:
		if (wire)
			*wire = dbus_wire_array(*wire, 4);
		r = dbus_open(reply, 'a', "o");
		for (size_t i = 0; r >= 0 && i < v->n; i++)
			if (v->u32s[i])   /* 0 is no state: skipped, as "ao" has no "none" */
				r = dbus_append_state_ref(reply, v->u32s[i], wire);
		return r < 0 ? r : dbus_close(reply);
	case VIEW_CONN_REF:
		return append_path(reply, dbus_connection_path(v->conn), wire);
	}
	return -EINVAL;
}

static enum view_kind kind_of_interface(const char *interface)
{
	if (streq(interface, PLUTO_DBUS_MANAGER_IFACE))
		return VIEW_MANAGER;
	return streq(interface, PLUTO_DBUS_CONN_IFACE) ? VIEW_CONNECTION : VIEW_STATE;
}

/* The one getter of every property: userdata is the object the fallback
 * found (NULL for the Manager), the property name picks the row. */
static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	enum view_kind kind = kind_of_interface(interface);
	int field = view_field_by_dbus(kind, property);
	if (field < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property);
	struct view_value v;
	view_get(kind, userdata, (unsigned)field, &v);
	int r = dbus_append_view_value(reply, &v, NULL);
	view_value_clear(&v);
	return r;
}

sd_bus_vtable *dbus_view_vtable(enum view_kind kind, const sd_bus_vtable *methods)
{
	size_t n_fields, n_methods = 0;
	const struct view_field_name *f = view_fields(kind, &n_fields);
	/* methods[0] is its own START; copy up to its END */
	while (methods[1 + n_methods].type != _SD_BUS_VTABLE_END)
		n_methods++;
	sd_bus_vtable *vt = calloc(1 + n_fields + n_methods + 1, sizeof(*vt));
	if (!vt)
		return NULL;
	size_t i = 0;
	vt[i++] = methods[0];
	for (size_t k = 0; k < n_fields; k++) {
		if (!f[k].dbus)
			continue;
		uint64_t flags = f[k].flags & VF_CONST ? SD_BUS_VTABLE_PROPERTY_CONST : DBUS_CHANGES;
		vt[i++] = (sd_bus_vtable)SD_BUS_PROPERTY(f[k].dbus, dbus_view_signature(f[k].type), property_get,
							 0, flags);
	}
	for (size_t k = 0; k < n_methods; k++)
		vt[i++] = methods[1 + k];
	vt[i] = methods[1 + n_methods];
	return vt;
}

int dbus_emit_view_changes(sd_bus *bus, const char *path, const char *interface, enum view_kind kind,
			   view_mask changed)
{
	size_t n_fields, n = 0;
	const struct view_field_name *f = view_fields(kind, &n_fields);
	const char *names[33];
	for (size_t k = 0; k < n_fields && n + 1 < ARRAY_SIZE(names); k++)
		if ((changed & VIEW_BIT(k)) && f[k].dbus && !(f[k].flags & VF_CONST))
			names[n++] = f[k].dbus;
	names[n] = NULL;
	if (n == 0)
		return 0;   /* only fields D-Bus does not show changed */
	return sd_bus_emit_properties_changed_strv(bus, path, interface, (char **)names);
}
