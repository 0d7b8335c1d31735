/* One Varlink request, from bytes to a method call: JSON parsing, the
 * envelope ({method, parameters, more, oneway}), interface and method
 * lookup, the access check, and parameter validation against the method's
 * table, so that a method only runs on parameters of the right types and
 * nothing is done for a malformed call. Also org.varlink.service. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "bus/varlink-internal.h"
#include "common/util.h"
#include "daemon/log.h"

#define VL_SERVICE_ERROR "org.varlink.service."

/* --- replies --- */

void vl_reply(struct vl_call *call, json_object *parameters)
{
	if (call->oneway) {
		json_object_put(parameters);
		return;
	}
	vl_client_send(call->client, parameters, NULL, false);
}

void vl_reply_message(struct vl_call *call, struct strbuf *message)
{
	if (!call->oneway)
		vl_client_send_message(call->client, message);
	strbuf_free(message);
}

void vl_reply_error(struct vl_call *call, const char *error, json_object *parameters)
{
	if (call->oneway) {
		json_object_put(parameters);
		return;
	}
	vl_client_send(call->client, parameters, error, false);
}

const char *vl_ctl_error_name(const struct ctl_error *err, char *buf, size_t len)
{
	snprintf(buf, len, PLUTO_VARLINK_ERROR_PREFIX "%s", pluto_error_info(err->code)->name);
	return buf;
}

json_object *vl_ctl_error_parameters(const struct ctl_error *err)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "message", json_object_new_string(err->message));
	if (err->rc)
		json_object_object_add(p, "code", json_object_new_int((int)err->rc));
	return p;
}

void vl_reply_ctl_error(struct vl_call *call, const struct ctl_error *err)
{
	char name[128];
	vl_reply_error(call, vl_ctl_error_name(err, name, sizeof(name)), vl_ctl_error_parameters(err));
}

static void reply_error_field(struct vl_call *call, const char *error, const char *field, const char *value)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, field, json_object_new_string(value));
	vl_reply_error(call, error, p);
}

void vl_reply_invalid_parameter(struct vl_call *call, const char *parameter)
{
	reply_error_field(call, VL_SERVICE_ERROR "InvalidParameter", "parameter", parameter);
}

const char *vl_param_string(json_object *parameters, const char *name)
{
	json_object *v;
	if (!json_object_object_get_ex(parameters, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* --- parameter validation --- */

/* A string with an embedded NUL (\u0000) would be silently cut short by
 * everything downstream: refuse it instead. */
static bool is_clean_string(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

static bool value_has_type(json_object *v, enum vl_type type);

/* One entry of a VL_CONNECTION_LIST: exactly a name and an option map. */
static bool is_connection_entry(json_object *e)
{
	json_object *name, *options;
	return json_object_is_type(e, json_type_object) && json_object_object_length(e) == 2 &&
	       json_object_object_get_ex(e, "name", &name) && is_clean_string(name) &&
	       json_object_object_get_ex(e, "options", &options) && value_has_type(options, VL_STRING_MAP);
}

static bool value_has_type(json_object *v, enum vl_type type)
{
	switch (type) {
	case VL_STRING:
		return is_clean_string(v);
	case VL_INT:
		return json_object_is_type(v, json_type_int);
	case VL_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case VL_STRING_LIST:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!is_clean_string(json_object_array_get_idx(v, i)))
				return false;
		return true;
	case VL_STRING_MAP:
		if (!json_object_is_type(v, json_type_object))
			return false;
		json_object_object_foreach(v, key, val) {
			if (!is_clean_string(val) || !*key)
				return false;
		}
		return true;
	case VL_CONNECTION_LIST:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!is_connection_entry(json_object_array_get_idx(v, i)))
				return false;
		return true;
	}
	return false;
}

/* NULL when the parameters fit the table, else the name of the first one
 * that does not (unknown, wrong type, or required and missing). Unknown
 * parameters are refused so that a misspelt one is not silently ignored. */
static const char *invalid_parameter(const struct vl_param *table, json_object *parameters)
{
	json_object_object_foreach(parameters, key, val) {
		const struct vl_param *p = table;
		while (p->name && !streq(p->name, key))
			p++;
		if (!p->name)
			return key;
		if (json_object_is_type(val, json_type_null) ? !p->optional : !value_has_type(val, p->type))
			return key;
	}
	for (const struct vl_param *p = table; p->name; p++) {
		json_object *v;
		if (!p->optional && !json_object_object_get_ex(parameters, p->name, &v))
			return p->name;
	}
	return NULL;
}

/* --- org.varlink.service --- */

static const struct vl_interface *const interfaces[] = {
	&vl_interface_service,
	&vl_interface_pluto,
};

static void service_get_info(struct vl_call *call, json_object *parameters)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "vendor", json_object_new_string("pluto project"));
	json_object_object_add(p, "product", json_object_new_string("pluto"));
	json_object_object_add(p, "version", json_object_new_string(PLUTO_VERSION));
	json_object_object_add(p, "url", json_object_new_string("https://www.freeswan.org/"));
	json_object *list = json_object_new_array();
	for (size_t i = 0; i < ARRAY_SIZE(interfaces); i++)
		json_object_array_add(list, json_object_new_string(interfaces[i]->name));
	json_object_object_add(p, "interfaces", list);
	vl_reply(call, p);
}

static void service_get_interface_description(struct vl_call *call, json_object *parameters)
{
	const char *name = vl_param_string(parameters, "interface");
	for (size_t i = 0; i < ARRAY_SIZE(interfaces); i++) {
		if (streq(interfaces[i]->name, name)) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "description",
					       json_object_new_string_len(interfaces[i]->description,
									  (int)*interfaces[i]->description_len));
			vl_reply(call, p);
			return;
		}
	}
	reply_error_field(call, VL_SERVICE_ERROR "InterfaceNotFound", "interface", name);
}

/* Our own wording of the interface every Varlink service implements. */
static const char service_description[] =
	"# Every Varlink service implements this interface: it says what the\n"
	"# service is and describes the interfaces it offers.\n"
	"interface org.varlink.service\n"
	"\n"
	"# Who made the service, which version runs, and its interfaces.\n"
	"method GetInfo() -> (\n"
	"  vendor: string,\n"
	"  product: string,\n"
	"  version: string,\n"
	"  url: string,\n"
	"  interfaces: []string\n"
	")\n"
	"\n"
	"# The IDL text of one of the service's interfaces.\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n"
	"\n"
	"# No interface of that name here.\n"
	"error InterfaceNotFound (interface: string)\n"
	"\n"
	"# The interface has no method of that name.\n"
	"error MethodNotFound (method: string)\n"
	"\n"
	"# The interface declares the method but this service does not provide it.\n"
	"error MethodNotImplemented (method: string)\n"
	"\n"
	"# A parameter is missing, unknown or of the wrong type.\n"
	"error InvalidParameter (parameter: string)\n"
	"\n"
	"# The caller may not do this.\n"
	"error PermissionDenied ()\n"
	"\n"
	"# The method streams its replies and must be called with \"more\": true.\n"
	"error ExpectedMore ()\n";

static const size_t service_description_len = sizeof(service_description) - 1;

static const struct vl_param get_interface_description_params[] = {
	{ "interface", VL_STRING, false },
	{ 0 },
};
static const struct vl_param no_params[] = { { 0 } };

static const struct vl_method service_methods[] = {
	{ "GetInfo", service_get_info, VL_READ_ONLY, no_params },
	{ "GetInterfaceDescription", service_get_interface_description, VL_READ_ONLY,
	  get_interface_description_params },
	{ 0 },
};

const struct vl_interface vl_interface_service = {
	.name = "org.varlink.service",
	.methods = service_methods,
	.description = service_description,
	.description_len = &service_description_len,
};

/* --- the request --- */

static json_object *parse_json(const char *msg, size_t len, const char **why)
{
	json_tokener *tok = json_tokener_new_ex(VL_JSON_DEPTH);
	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *obj = len > 0 && len <= VL_MESSAGE_MAX ? json_tokener_parse_ex(tok, msg, (int)len) : NULL;
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		*why = len == 0 ? "empty message"
		     : jerr == json_tokener_continue ? "incomplete JSON" : json_tokener_error_desc(jerr);
		json_object_put(obj);
		return NULL;
	}
	for (size_t i = end; i < len; i++) {
		if (!strchr(" \t\r\n", msg[i])) {
			*why = "data after the JSON object";
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

/* "more", "oneway", "upgrade": absent or a boolean */
static bool flag(json_object *req, const char *name, bool *out, bool *bad)
{
	json_object *v;
	*out = false;
	if (!json_object_object_get_ex(req, name, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		*bad = true;
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

static const struct vl_method *find_method(struct vl_call *call, const char *full)
{
	const char *dot = strrchr(full, '.');
	size_t iface_len = dot ? (size_t)(dot - full) : 0;
	for (size_t i = 0; i < ARRAY_SIZE(interfaces); i++) {
		const struct vl_interface *in = interfaces[i];
		if (strlen(in->name) != iface_len || strncmp(in->name, full, iface_len) != 0)
			continue;
		for (const struct vl_method *m = in->methods; m->name; m++)
			if (streq(m->name, dot + 1))
				return m;
		reply_error_field(call, VL_SERVICE_ERROR "MethodNotFound", "method", full);
		return NULL;
	}
	char iface[256];
	snprintf(iface, sizeof(iface), "%.*s", (int)(iface_len < 255 ? iface_len : 255), full);
	reply_error_field(call, VL_SERVICE_ERROR "InterfaceNotFound", "interface", iface);
	return NULL;
}

void vl_dispatch(struct vl_client *c, const char *msg, size_t len)
{
	const char *why = NULL;
	json_object *req = parse_json(msg, len, &why);
	if (!req) {
		vl_client_fail(c, "bad JSON in request: %s", why);
		return;
	}
	json_object *method, *parameters = NULL;
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "method", &method) || !is_clean_string(method)) {
		vl_client_fail(c, "request is not a JSON object with a \"method\" string");
		json_object_put(req);
		return;
	}
	struct vl_call call = { .client = c, .method = json_object_get_string(method) };
	bool upgrade = false, bad = false;
	const char *bad_flag = !flag(req, "more", &call.more, &bad) ? "more"
			     : !flag(req, "oneway", &call.oneway, &bad) ? "oneway"
			     : !flag(req, "upgrade", &upgrade, &bad) ? "upgrade" : NULL;
	if (bad_flag) {
		vl_reply_invalid_parameter(&call, bad_flag);
		goto out;
	}

	const struct vl_method *m = find_method(&call, call.method);
	if (!m)
		goto out;
	/* connection upgrades (to another protocol) are not offered */
	if (upgrade) {
		vl_reply_invalid_parameter(&call, "upgrade");
		goto out;
	}
	if ((m->flags & VL_NEEDS_MORE) && (!call.more || call.oneway)) {
		vl_reply_error(&call, VL_SERVICE_ERROR "ExpectedMore", NULL);
		goto out;
	}
	if (!(m->flags & VL_READ_ONLY) && !vl_client_privileged(c)) {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "varlink: %s denied to %s (not root or in the admin group)", call.method,
		     vl_client_describe(c));
		struct ctl_error err = { .code = PE__MAX };
		snprintf(err.message, sizeof(err.message), "%s changes the daemon's state: only root "
			 "or the admin group may call it", call.method);
		vl_reply_error(&call, PLUTO_VARLINK_ERROR_PREFIX "PermissionDenied", vl_ctl_error_parameters(&err));
		goto out;
	}
	if (json_object_object_get_ex(req, "parameters", &parameters) &&
	    !json_object_is_type(parameters, json_type_null)) {
		if (!json_object_is_type(parameters, json_type_object)) {
			vl_reply_invalid_parameter(&call, "parameters");
			goto out;
		}
		json_object_get(parameters);
	} else {
		parameters = json_object_new_object();
	}
	const char *invalid = invalid_parameter(m->params, parameters);
	if (invalid) {
		DBG(DBG_CONTROL, NULL, "varlink: %s from %s: invalid parameter \"%s\"", call.method,
		    vl_client_describe(c), invalid);
		vl_reply_invalid_parameter(&call, invalid);
	} else {
		DBG(DBG_CONTROL, NULL, "varlink: %s from %s%s%s", call.method, vl_client_describe(c),
		    call.more ? " (more)" : "", call.oneway ? " (oneway)" : "");
		m->run(&call, parameters);
	}
	json_object_put(parameters);
out:
	json_object_put(req);
}
