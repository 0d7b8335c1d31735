/* whack's option table and its checks. Every FreeS/WAN 1.x whack flag has a
 * row: it either sets a field of the request, or is rejected with the reason
 * pluto cannot honour it; nothing is silently dropped. */
#include "whack-args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/debug_class.h"
#include "common/util.h"
#include "common/words.h"

enum opt_kind {
	O_FLAG,        /* bool field of the request */
	O_STRING,      /* const char * field of the request */
	O_END,         /* const char * field of the current whack_end */
	O_TO,          /* switch to the second end */
	O_DEBUG,       /* --debug-CLASS: arg names the class */
	O_DELETESTATE, /* numeric state serial */
	O_OPTIONSFROM, /* read more flags from a file */
	O_REJECT,      /* recognised but not honoured: arg says why */
};

enum opt_flags {
	F_VALUE = 1 << 0,   /* takes a value */
	F_CONN = 1 << 1,    /* part of a connection description */
	F_NUMERIC = 1 << 2, /* the value must be a decimal number */
	F_PERCENT = 1 << 3, /* ... optionally followed by '%' */
};

struct whack_option {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	unsigned flags;
	const char *arg;
};

#define REQ(f) offsetof(struct whack_request, f)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define END(f) offsetof(struct whack_end, f)

static const struct whack_option options[] = {
	/* all forms */
	{ "help",          O_FLAG,   REQ(help),    0, NULL },
	{ "version",       O_FLAG,   REQ(version), 0, NULL },
	{ "ctlbase",       O_STRING, REQ(ctlbase), F_VALUE, NULL },
	{ "label",         O_STRING, REQ(label),   F_VALUE, NULL },
	{ "optionsfrom",   O_OPTIONSFROM, 0,       F_VALUE, NULL },
	{ "name",          O_STRING, REQ(name),    F_VALUE, NULL },

	/* connection description: per end */
	{ "to",            O_TO,  0,             F_CONN, NULL },
	{ "host",          O_END, END(host),     F_CONN | F_VALUE, NULL },
	{ "id",            O_END, END(id),       F_CONN | F_VALUE, NULL },
	{ "client",        O_END, END(client),   F_CONN | F_VALUE, NULL },
	{ "nexthop",       O_END, END(nexthop),  F_CONN | F_VALUE, NULL },
	{ "ikeport",       O_END, END(ikeport),  F_CONN | F_VALUE | F_NUMERIC, NULL },
	{ "updown",        O_END, END(updown),   F_CONN | F_VALUE, NULL },
	{ "dnskeyondemand", O_REJECT, 0, F_CONN,
	  "is not supported: pluto does not fetch public keys from DNS; give the key with --keyid and --pubkeyrsa" },

	/* connection description: policy */
	{ "psk",           O_FLAG, REQ(psk),          F_CONN, NULL },
	{ "rsasig",        O_FLAG, REQ(rsasig),       F_CONN, NULL },
	{ "encrypt",       O_FLAG, REQ(encrypt),      F_CONN, NULL },
	{ "authenticate",  O_FLAG, REQ(authenticate), F_CONN, NULL },
	{ "compress",      O_FLAG, REQ(compress),     F_CONN, NULL },
	{ "tunnel",        O_FLAG, REQ(tunnel),       F_CONN, NULL },
	{ "pfs",           O_FLAG, REQ(pfs),          F_CONN, NULL },
	{ "dontrekey",     O_FLAG, REQ(dontrekey),    F_CONN, NULL },
	{ "ipv4",          O_FLAG, REQ(ipv4),         F_CONN, NULL },
	{ "ipv6",          O_FLAG, REQ(ipv6),         F_CONN, NULL },
	{ "tunnelipv4",    O_FLAG, REQ(tunnelipv4),   F_CONN, NULL },
	{ "tunnelipv6",    O_FLAG, REQ(tunnelipv6),   F_CONN, NULL },
	{ "disablearrivalcheck", O_REJECT, 0, F_CONN,
	  "is not supported: the kernel always checks that arriving packets match their SA" },
	{ "ikelifetime",   O_STRING, REQ(ikelifetime),   F_CONN | F_VALUE | F_NUMERIC, NULL },
	{ "ipseclifetime", O_STRING, REQ(ipseclifetime), F_CONN | F_VALUE | F_NUMERIC, NULL },
	{ "rekeymargin",   O_STRING, REQ(rekeymargin),   F_CONN | F_VALUE | F_NUMERIC, NULL },
	{ "rekeyfuzz",     O_STRING, REQ(rekeyfuzz),     F_CONN | F_VALUE | F_NUMERIC | F_PERCENT, NULL },
	{ "keyingtries",   O_STRING, REQ(keyingtries),   F_CONN | F_VALUE | F_NUMERIC, NULL },
	/* libreswan's whack names: Dead Peer Detection (pluto checks the values) */
	{ "dpddelay",      O_STRING, REQ(dpddelay),      F_CONN | F_VALUE, NULL },
	{ "dpdtimeout",    O_STRING, REQ(dpdtimeout),    F_CONN | F_VALUE, NULL },
	{ "dpdaction",     O_STRING, REQ(dpdaction),     F_CONN | F_VALUE, NULL },

	/* public key */
	{ "keyid",         O_STRING, REQ(keyid),     F_VALUE, NULL },
	{ "pubkeyrsa",     O_STRING, REQ(pubkeyrsa), F_VALUE, NULL },
	{ "addkey",        O_FLAG,   REQ(addkey),    0, NULL },

	/* actions */
	{ "delete",        O_FLAG, REQ(delete_conn),  0, NULL },
	{ "deletestate",   O_DELETESTATE, 0,          F_VALUE | F_NUMERIC, NULL },
	{ "route",         O_FLAG, REQ(route),        0, NULL },
	{ "unroute",       O_FLAG, REQ(unroute),      0, NULL },
	{ "initiate",      O_FLAG, REQ(initiate),     0, NULL },
	{ "asynchronous",  O_FLAG, REQ(asynchronous), 0, NULL },
	{ "terminate",     O_FLAG, REQ(terminate),    0, NULL },
	{ "listen",        O_FLAG, REQ(listen),       0, NULL },
	{ "unlisten",      O_FLAG, REQ(unlisten),     0, NULL },
	{ "status",        O_FLAG, REQ(status),       0, NULL },
	{ "shutdown",      O_FLAG, REQ(shutdown),     0, NULL },
	{ "oppohere",      O_REJECT, 0, F_VALUE,
	  "is not supported: pluto does not do opportunistic encryption" },
	{ "oppothere",     O_REJECT, 0, F_VALUE,
	  "is not supported: pluto does not do opportunistic encryption" },
	/* --debug-CLASS: not rows here, but every name of
	 * src/common/debug_class.c (see find_debug_option) */
};

const char whack_usage[] =
	"Usage:\n"
	"all forms: [--ctlbase PATH] [--optionsfrom FILE] [--label TEXT]\n"
	"help:        whack --help | --version\n"
	"connection:  whack --name NAME [--ipv4 | --ipv6] [--tunnelipv4 | --tunnelipv6]\n"
	"               --host ADDR [--id ID] [--ikeport PORT] [--nexthop ADDR]\n"
	"               [--client SUBNET] [--updown COMMAND]\n"
	"             --to\n"
	"               --host ADDR [--id ID] [--ikeport PORT] [--nexthop ADDR]\n"
	"               [--client SUBNET] [--updown COMMAND]\n"
	"             [--psk] [--rsasig] [--encrypt | --authenticate] [--compress]\n"
	"             [--tunnel] [--pfs] [--ikelifetime SECONDS] [--ipseclifetime SECONDS]\n"
	"             [--rekeymargin SECONDS] [--rekeyfuzz PERCENT] [--keyingtries COUNT]\n"
	"             [--dontrekey] [--dpddelay SECONDS] [--dpdtimeout SECONDS]\n"
	"             [--dpdaction clear|hold|restart]\n"
	"public key:  whack --keyid ID --pubkeyrsa KEY\n"
	"delete:      whack --delete --name NAME\n"
	"deletestate: whack --deletestate SERIAL\n"
	"routing:     whack (--route | --unroute) --name NAME\n"
	"initiation:  whack --initiate --name NAME [--asynchronous]\n"
	"termination: whack --terminate --name NAME\n"
	"debug:       whack [--name NAME] --debug-none | --debug-all | --debug-CLASS...\n"
	"             CLASS: raw crypt parsing emitting control lifecycle klips dns oppo private\n"
	"listen:      whack --listen | --unlisten\n"
	"status:      whack --status\n"
	"shutdown:    whack --shutdown\n"
	"Rejected with an explanation: --dnskeyondemand --disablearrivalcheck --addkey\n"
	"  --oppohere --oppothere\n";

/* --optionsfrom files may name further files; this bounds the nesting. */
#define MAX_OPTIONSFROM_DEPTH 8


static const struct whack_option *find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(options); i++)
		if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

/* --debug-none, --debug-all, --debug-CLASS: the class names come from the
 * one table pluto uses too, so whack cannot offer a class pluto lacks. */
static const struct whack_option *find_debug_option(const char *name, size_t len,
						    struct whack_option *scratch)
{
	static const char prefix[] = "debug-";
	if (len <= strlen(prefix) || strncmp(name, prefix, strlen(prefix)) != 0)
		return NULL;
	const char *cls = debug_class_canonical(name + strlen(prefix), len - strlen(prefix));
	if (!cls)
		return NULL;
	*scratch = (struct whack_option){ .kind = O_DEBUG, .arg = cls };
	return scratch;
}

static bool is_number(const char *v, bool percent_ok)
{
	size_t n = strspn(v, "0123456789");
	if (n == 0 || n > 9)
		return false;
	return v[n] == '\0' || (percent_ok && v[n] == '%' && v[n + 1] == '\0');
}

/* The words of a --optionsfrom file, split by the rules pluto uses too
 * (common/words.h); the request owns them for as long as it lives. */
static int read_words(const char *path, struct whack_request *req, char ***words, size_t *n_words,
		      char *err, size_t errlen)
{
	struct words file;
	char why[512];
	*words = NULL;
	*n_words = 0;
	if (words_from_file(path, &file, why, sizeof(why)) < 0)
		return fail_msg(err, errlen, "--optionsfrom %s", why);
	char **p = realloc(req->owned, (req->n_owned + file.n + 1) * sizeof(*p));
	if (!p)
		abort();
	req->owned = p;
	for (size_t i = 0; i < file.n; i++)
		req->owned[req->n_owned++] = file.v[i];
	*words = file.v;       /* the array is the caller's to free, the words are the request's */
	*n_words = file.n;
	return 0;
}

static int parse_words(char **argv, size_t argc, struct whack_request *req, int depth,
		       int *end, char *err, size_t errlen);

static int apply(const struct whack_option *o, const char *value, struct whack_request *req,
		 int depth, int *end, char *err, size_t errlen)
{
	if (o->flags & F_NUMERIC && !is_number(value, o->flags & F_PERCENT))
		return fail_msg(err, errlen, "--%s needs a number%s, not \"%s\"", o->name,
			    o->flags & F_PERCENT ? " (optionally with %)" : "", value);
	if (o->flags & F_CONN)
		req->has_conn = true;

	switch (o->kind) {
	case O_FLAG: {
		bool *b = (bool *)((char *)req + o->offset);
		if (*b)
			return fail_msg(err, errlen, "--%s given twice", o->name);
		*b = true;
		return 0;
	}
	case O_STRING: {
		const char **s = (const char **)((char *)req + o->offset);
		if (*s)
			return fail_msg(err, errlen, "--%s given twice", o->name);
		*s = value;
		return 0;
	}
	case O_END: {
		const char **s = (const char **)((char *)&req->ends[*end] + o->offset);
		if (*s)
			return fail_msg(err, errlen, "--%s given twice for the %s end", o->name,
				    *end ? "second (after --to)" : "first (before --to)");
		*s = value;
		return 0;
	}
	case O_TO:
		if (req->seen_to)
			return fail_msg(err, errlen, "--to given twice");
		req->seen_to = true;
		*end = 1;
		return 0;
	case O_DEBUG:
		if (req->n_debug >= WHACK_MAX_DEBUG)
			return fail_msg(err, errlen, "too many --debug flags");
		req->debug[req->n_debug++] = o->arg;
		return 0;
	case O_DELETESTATE:
		if (req->has_deletestate)
			return fail_msg(err, errlen, "--deletestate given twice");
		req->has_deletestate = true;
		req->deletestate = (unsigned)strtoul(value, NULL, 10);
		return 0;
	case O_OPTIONSFROM: {
		if (depth >= MAX_OPTIONSFROM_DEPTH)
			return fail_msg(err, errlen, "--optionsfrom %s: nested too deeply", value);
		char **words = NULL;
		size_t n = 0;
		int r = read_words(value, req, &words, &n, err, errlen);
		if (r == 0)
			r = parse_words(words, n, req, depth + 1, end, err, errlen);
		free(words);
		return r;
	}
	case O_REJECT:
		return fail_msg(err, errlen, "--%s %s", o->name, o->arg);
	}
	return fail_msg(err, errlen, "internal error in option table");
}

static int parse_words(char **argv, size_t argc, struct whack_request *req, int depth,
		       int *end, char *err, size_t errlen)
{
	for (size_t i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
			return fail_msg(err, errlen, "unexpected argument \"%s\" (flags start with --)", a);
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		const struct whack_option *o = find_option(a + 2, len);
		struct whack_option debug_row;
		char debug_name[64];
		if (!o && (o = find_debug_option(a + 2, len, &debug_row))) {
			snprintf(debug_name, sizeof(debug_name), "%.*s", (int)len, a + 2);
			debug_row.name = debug_name;
		}
		if (!o)
			return fail_msg(err, errlen, "unknown flag \"%.*s\" (see --help)", (int)(len + 2), a);
		const char *value = NULL;
		if (o->flags & F_VALUE) {
			if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				return fail_msg(err, errlen, "--%s needs a value", o->name);
			}
		} else if (eq) {
			return fail_msg(err, errlen, "--%s takes no value", o->name);
		}
		if (apply(o, value, req, depth, end, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Does an address text look like IPv6? Keywords (%any, ...) fit both. */
static bool family_mismatch(const char *addr, bool want_v6)
{
	if (!addr || addr[0] == '%')
		return false;
	return (strchr(addr, ':') != NULL) != want_v6;
}

static bool flag_at(const struct whack_request *req, size_t offset)
{
	return *(const bool *)((const char *)req + offset);
}

/* Flags that cannot go together, each table in the order it is checked. */
struct conflict {
	size_t a, b;
	const char *message;
};

static const struct conflict conn_conflicts[] = {
	{ REQ(encrypt), REQ(authenticate),
	  "--encrypt with --authenticate (ESP inside AH) is not supported: choose one" },
	{ REQ(ipv4), REQ(ipv6), "--ipv4 conflicts with --ipv6" },
	{ REQ(tunnelipv4), REQ(tunnelipv6), "--tunnelipv4 conflicts with --tunnelipv6" },
};

static const struct conflict action_conflicts[] = {
	{ REQ(listen), REQ(unlisten), "--listen conflicts with --unlisten" },
	{ REQ(route), REQ(unroute), "--route conflicts with --unroute" },
	{ REQ(initiate), REQ(terminate), "--initiate conflicts with --terminate" },
};

static int check_conflicts(const struct whack_request *req, const struct conflict *table, size_t n,
			   char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (flag_at(req, table[i].a) && flag_at(req, table[i].b))
			return fail_msg(err, errlen, "%s", table[i].message);
	return 0;
}

/* The actions that name a connection, in the order one is blamed. */
static const struct { size_t flag; const char *name; } needs_name[] = {
	{ REQ(delete_conn), "--delete" },
	{ REQ(route), "--route" },
	{ REQ(unroute), "--unroute" },
	{ REQ(initiate), "--initiate" },
	{ REQ(terminate), "--terminate" },
};

static int check(struct whack_request *req, char *err, size_t errlen)
{
	if (req->help || req->version)
		return 0;
	if (req->has_conn) {
		if (!req->name)
			return fail_msg(err, errlen, "a connection description needs --name");
		if (!req->seen_to)
			return fail_msg(err, errlen, "connection description lacks --to");
		if (!req->ends[0].host)
			return fail_msg(err, errlen, "missing --host before --to");
		if (!req->ends[1].host)
			return fail_msg(err, errlen, "missing --host after --to");
		if (check_conflicts(req, conn_conflicts, ARRAY_LEN(conn_conflicts), err, errlen) < 0)
			return -1;
		for (int e = 0; e < 2; e++) {
			const struct whack_end *end = &req->ends[e];
			if ((req->ipv4 || req->ipv6) &&
			    (family_mismatch(end->host, req->ipv6) || family_mismatch(end->nexthop, req->ipv6)))
				return fail_msg(err, errlen, "address family of host or nexthop is not %s",
					    req->ipv6 ? "IPv6 (--ipv6)" : "IPv4 (--ipv4)");
			if ((req->tunnelipv4 || req->tunnelipv6) && family_mismatch(end->client, req->tunnelipv6))
				return fail_msg(err, errlen, "address family of client subnet is not %s",
					    req->tunnelipv6 ? "IPv6 (--tunnelipv6)" : "IPv4 (--tunnelipv4)");
		}
	}
	if (req->addkey)
		return fail_msg(err, errlen, "--addkey is not supported: pluto keeps one public key per id, "
			    "so --keyid with --pubkeyrsa replaces it");
	if (req->pubkeyrsa && !req->keyid)
		return fail_msg(err, errlen, "--pubkeyrsa needs --keyid");
	if (req->keyid && !req->pubkeyrsa)
		return fail_msg(err, errlen, "--keyid needs --pubkeyrsa (pluto cannot delete public keys)");
	for (size_t i = 0; i < ARRAY_LEN(needs_name) && !req->name; i++)
		if (flag_at(req, needs_name[i].flag))
			return fail_msg(err, errlen, "%s needs --name", needs_name[i].name);
	if (req->asynchronous && !req->initiate)
		return fail_msg(err, errlen, "--asynchronous only goes with --initiate");
	if (check_conflicts(req, action_conflicts, ARRAY_LEN(action_conflicts), err, errlen) < 0)
		return -1;
	bool any = req->has_conn || req->keyid || req->delete_conn || req->has_deletestate ||
		   req->route || req->unroute || req->initiate || req->terminate || req->listen ||
		   req->unlisten || req->status || req->shutdown || req->n_debug > 0;
	if (!any)
		return fail_msg(err, errlen, "no action specified (see --help)");
	return 0;
}

int whack_parse(int argc, char **argv, struct whack_request *req, char *err, size_t errlen)
{
	memset(req, 0, sizeof(*req));
	int end = 0;
	if (argc < 2)
		return fail_msg(err, errlen, "no action specified (see --help)");
	if (parse_words(argv + 1, (size_t)argc - 1, req, 0, &end, err, errlen) < 0)
		return -1;
	return check(req, err, errlen);
}

size_t whack_connection_options(struct whack_request *req, const char *keys[],
				const char *values[], size_t max)
{
	size_t n = 0;
#define PUT(k, v) do { if ((v) && n < max) { keys[n] = (k); values[n] = (v); n++; } } while (0)
	static const char *const keyword[2][6] = {
		{ "left", "leftid", "leftsubnet", "leftnexthop", "leftikeport", "leftupdown" },
		{ "right", "rightid", "rightsubnet", "rightnexthop", "rightikeport", "rightupdown" },
	};
	for (int e = 0; e < 2; e++) {
		const struct whack_end *end = &req->ends[e];
		PUT(keyword[e][0], end->host);
		PUT(keyword[e][1], end->id);
		PUT(keyword[e][2], end->client);
		PUT(keyword[e][3], end->nexthop);
		PUT(keyword[e][4], end->ikeport);
		PUT(keyword[e][5], end->updown);
	}
	/* neither --psk nor --rsasig: leave authby to its default (both) */
	PUT("authby", req->psk && req->rsasig ? "secret|rsasig" : req->psk ? "secret" :
		      req->rsasig ? "rsasig" : NULL);
	/* whack flags are policy bits: an absent flag means "off" */
	PUT("phase2", req->encrypt ? "esp" : req->authenticate ? "ah" : "none");
	PUT("type", req->tunnel ? "tunnel" : "transport");
	PUT("compress", req->compress ? "yes" : "no");
	PUT("pfs", req->pfs ? "yes" : "no");
	PUT("ikelifetime", req->ikelifetime);
	PUT("salifetime", req->ipseclifetime);
	PUT("rekeymargin", req->rekeymargin);
	if (req->rekeyfuzz) {
		bool has_pct = strchr(req->rekeyfuzz, '%') != NULL;
		snprintf(req->fuzzbuf, sizeof(req->fuzzbuf), "%s%s", req->rekeyfuzz, has_pct ? "" : "%");
		PUT("rekeyfuzz", req->fuzzbuf);
	}
	PUT("keyingtries", req->keyingtries);
	PUT("rekey", req->dontrekey ? "no" : NULL);
	PUT("dpddelay", req->dpddelay);
	PUT("dpdtimeout", req->dpdtimeout);
	PUT("dpdaction", req->dpdaction);
#undef PUT
	return n;
}

void whack_request_free(struct whack_request *req)
{
	for (size_t i = 0; i < req->n_owned; i++)
		free(req->owned[i]);
	free(req->owned);
	req->owned = NULL;
	req->n_owned = 0;
}
