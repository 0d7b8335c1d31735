/* The fields of the three objects every front end shows (the Manager, a
 * Connection, a State), written once: the D-Bus property name, the
 * Varlink JSON name, the value type, the IDL type the JSON has in
 * org.freeswan.pluto.varlink, and whether the value can change.
 *
 * The daemon renders D-Bus properties, Varlink JSON and Monitor changes
 * from these rows plus one getter per row (daemon/views.c); ipsecctl
 * names its columns by the same ids (clients/ipsecctl/ipsecctl-table.c),
 * so a renamed field is renamed everywhere. Names only: no daemon code,
 * so the clients include this without linking the daemon.
 *
 * Row: X(ID, D-Bus name or NULL, JSON name, view type, IDL type, flags) */
#pragma once
#include <stddef.h>

/* How a value is held, and so how each front end spells it:
 *   type            D-Bus   JSON
 *   STRING          s       string
 *   BOOL            b       bool
 *   U32 / U64       u / t   int
 *   STRING_MAP      a{ss}   object of strings
 *   STRING_LIST     as      array of strings
 *   U32_LIST        au      array of ints
 *   STATE_REF       o       int (serial; 0 = none, D-Bus "/")
 *   STATE_REFS      ao      array of ints (serials)
 *   CONN_REF        o       string (the name; "" or absent = none, D-Bus "/") */
enum view_type {
	VIEW_STRING,
	VIEW_BOOL,
	VIEW_U32,
	VIEW_U64,
	VIEW_STRING_MAP,
	VIEW_STRING_LIST,
	VIEW_U32_LIST,
	VIEW_STATE_REF,
	VIEW_STATE_REFS,
	VIEW_CONN_REF,
};

enum view_field_flags {
	VF_CONST = 1u << 0,      /* never changes while the object lives */
	VF_OPTIONAL = 1u << 1,   /* JSON: left out when empty (IDL "?type") */
};

#define VIEW_MANAGER_FIELDS(X)                                                              \
	X(MGR_VERSION,        "Version",       "version",       VIEW_STRING,      "string",   VF_CONST) \
	X(MGR_LISTENING,      "Listening",     "listening",     VIEW_BOOL,        "bool",     0)        \
	X(MGR_INTERFACES,     "Interfaces",    "interfaces",    VIEW_STRING_LIST, "[]string", 0)        \
	X(MGR_KERNEL_BACKEND, "KernelBackend", "kernelBackend", VIEW_STRING,      "string",   0)        \
	X(MGR_DEBUG_CLASSES,  "DebugClasses",  "debugClasses",  VIEW_STRING_LIST, "[]string", 0)

/* InstanceOf is an extension beyond API.md (a road-warrior instance's
 * template); debugClasses of a connection is shown over Varlink only. */
#define VIEW_CONNECTION_FIELDS(X)                                                                             \
	X(CONN_NAME,           "Name",              "name",              VIEW_STRING,     "string",         VF_CONST)    \
	X(CONN_OPTIONS,        "Options",           "options",           VIEW_STRING_MAP, "[string]string", 0)           \
	X(CONN_SOURCE,         "Source",            "source",            VIEW_STRING,     "string",         0)           \
	X(CONN_ROUTING,        "Routing",           "routing",           VIEW_STRING,     "string",         0)           \
	X(CONN_TEMPLATE,       "Template",          "template",          VIEW_BOOL,       "bool",           VF_CONST)    \
	X(CONN_INSTANCE_OF,    "InstanceOf",        "instanceOf",        VIEW_CONN_REF,   "?string",        VF_OPTIONAL) \
	X(CONN_STATES,         "States",            "states",            VIEW_STATE_REFS, "[]int",          0)           \
	X(CONN_NEWEST_ISAKMP,  "NewestIsakmpState", "newestIsakmpState", VIEW_STATE_REF,  "int",            0)           \
	X(CONN_NEWEST_IPSEC,   "NewestIpsecState",  "newestIpsecState",  VIEW_STATE_REF,  "int",            0)           \
	X(CONN_DEBUG_CLASSES,  NULL,                "debugClasses",      VIEW_STRING_LIST, "[]string",      0)

/* Serial and Kind never change; everything else may as negotiation goes
 * on (the engine may even move a state to a new instance connection).
 * The remote-access fields (XauthUser .. Banner) are filled on the
 * ISAKMP state by XAUTH and Mode Config; "" / [] when none. */
#define VIEW_STATE_FIELDS(X)                                                                        \
	X(STATE_SERIAL,        "Serial",       "serial",       VIEW_U32,      "int",             VF_CONST) \
	X(STATE_CONNECTION,    "Connection",   "connection",   VIEW_CONN_REF, "string",          0)        \
	X(STATE_KIND,          "Kind",         "kind",         VIEW_STRING,   "(isakmp, ipsec)", VF_CONST) \
	X(STATE_NAME,          "Name",         "name",         VIEW_STRING,   "string",          0)        \
	X(STATE_ESTABLISHED,   "Established",  "established",  VIEW_BOOL,     "bool",            0)        \
	X(STATE_INITIATOR,     "Initiator",    "initiator",    VIEW_BOOL,     "bool",            0)        \
	X(STATE_PEER_ADDRESS,  "PeerAddress",  "peerAddress",  VIEW_STRING,   "string",          0)        \
	X(STATE_PEER_ID,       "PeerId",       "peerId",       VIEW_STRING,   "string",          0)        \
	X(STATE_ALGORITHMS,    "Algorithms",   "algorithms",   VIEW_STRING,   "string",          0)        \
	X(STATE_INBOUND_SPIS,  "InboundSpis",  "inboundSpis",  VIEW_U32_LIST, "[]int",           0)        \
	X(STATE_OUTBOUND_SPIS, "OutboundSpis", "outboundSpis", VIEW_U32_LIST, "[]int",           0)        \
	X(STATE_EXPIRES_AT,    "ExpiresAt",    "expiresAt",    VIEW_U64,      "int",             0)        \
	X(STATE_REKEY_AT,      "RekeyAt",      "rekeyAt",      VIEW_U64,      "int",             0)        \
	X(STATE_XAUTH_USER,    "XauthUser",    "xauthUser",    VIEW_STRING,   "string",          0)        \
	X(STATE_VIRTUAL_ADDRESS, "VirtualAddress", "virtualAddress", VIEW_STRING, "string",        0)        \
	X(STATE_DNS,           "Dns",          "dns",          VIEW_STRING_LIST, "[]string",     0)        \
	X(STATE_DOMAINS,       "Domains",      "domains",      VIEW_STRING_LIST, "[]string",     0)        \
	X(STATE_BANNER,        "Banner",       "banner",       VIEW_STRING,   "string",          0)        \
	X(STATE_SPLIT_INCLUDE, "SplitInclude", "splitInclude", VIEW_STRING_LIST, "[]string",     0)

#define VIEW_FIELD_ID_(id, dbus, json, type, idl, flags) VIEW_##id,

/* Field ids: what change events carry. *__ALL stands for "several of
 * them changed, compare every one". */
enum view_manager_field { VIEW_MANAGER_FIELDS(VIEW_FIELD_ID_) VIEW_MGR__COUNT, VIEW_MGR__ALL = VIEW_MGR__COUNT };
enum view_connection_field { VIEW_CONNECTION_FIELDS(VIEW_FIELD_ID_) VIEW_CONN__COUNT, VIEW_CONN__ALL = VIEW_CONN__COUNT };
enum view_state_field { VIEW_STATE_FIELDS(VIEW_FIELD_ID_) VIEW_STATE__COUNT, VIEW_STATE__ALL = VIEW_STATE__COUNT };

/* The objects that have a view. */
enum view_kind { VIEW_MANAGER, VIEW_CONNECTION, VIEW_STATE, VIEW__KINDS };

/* One row of the tables above. */
struct view_field_name {
	const char *dbus;        /* D-Bus property, NULL = not on D-Bus */
	const char *json;        /* Varlink JSON member */
	enum view_type type;
	const char *idl;         /* its type in org.freeswan.pluto.varlink */
	unsigned flags;          /* enum view_field_flags */
};

#define VIEW_FIELD_NAME_(id, dbus_, json_, type_, idl_, flags_) \
	[VIEW_##id] = { .dbus = dbus_, .json = json_, .type = type_, .idl = idl_, .flags = flags_ },

/* static: every user gets its own copy of a few hundred bytes, and a
 * client needs nothing to link. */
static const struct view_field_name view_manager_field_names[VIEW_MGR__COUNT]
	__attribute__((unused)) = { VIEW_MANAGER_FIELDS(VIEW_FIELD_NAME_) };
static const struct view_field_name view_connection_field_names[VIEW_CONN__COUNT]
	__attribute__((unused)) = { VIEW_CONNECTION_FIELDS(VIEW_FIELD_NAME_) };
static const struct view_field_name view_state_field_names[VIEW_STATE__COUNT]
	__attribute__((unused)) = { VIEW_STATE_FIELDS(VIEW_FIELD_NAME_) };

/* The rows of one kind; *n gets their number. */
static inline const struct view_field_name *view_field_names(enum view_kind kind, size_t *n)
{
	switch (kind) {
	case VIEW_MANAGER:
		*n = VIEW_MGR__COUNT;
		return view_manager_field_names;
	case VIEW_CONNECTION:
		*n = VIEW_CONN__COUNT;
		return view_connection_field_names;
	case VIEW_STATE:
	default:
		*n = VIEW_STATE__COUNT;
		return view_state_field_names;
	}
}

/* A field's JSON name by id, for clients reading Varlink replies. */
#define VIEW_JSON(kind_table, id) (kind_table[VIEW_##id].json)
