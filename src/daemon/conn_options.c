/* The one parser of the connection option vocabulary (API.md section 1).
 * A table maps each keyword to a handler; left/right keywords share one
 * handler that receives the end. Every value is checked here, so the rest
 * of pluto can trust a connection_config. */
#include "daemon/conn_options.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/intern.h"
#include "common/util.h"
#include "daemon/addresspool.h"

/* Defaults: the seed's, documented in pluto(8) */
#define DEFAULT_IKELIFETIME  3600ULL      /* 1h */
#define DEFAULT_SALIFETIME   28800ULL     /* 8h */
#define DEFAULT_REKEYMARGIN  540ULL       /* 9m */
#define DEFAULT_REKEYFUZZ    100U         /* percent */
#define DEFAULT_KEYINGTRIES  3U
#define DEFAULT_IKEPORT      500
#define DEFAULT_DPDDELAY     0ULL         /* off */
#define DEFAULT_DPDTIMEOUT   120ULL       /* seconds, as libreswan */
#define DEFAULT_DPDACTION    DPD_ACTION_HOLD

/* The config's texts (updown, rsasigkey, proposals, ...) are interned:
 * a road-warrior instance shares its template's, an RSA key's text is
 * held once however many connections name it. */
static void set_text(const char **field, const char *v)
{
	const char *old = *field;
	*field = intern(v, strlen(v) + 1);
	intern_release(old);
}

typedef bool (*end_fn)(struct end *e, const char *v, const char **why);
typedef bool (*conn_fn)(struct connection_config *cfg, const char *v, const char **why);

struct option_rule {
	const char *keyword;    /* without "left"/"right" for per-end options */
	end_fn per_end;
	conn_fn whole;
	const char *hint;       /* accepted values, for the error message */
};

/* --- per-end values --- */

static bool opt_host(struct end *e, const char *v, const char **why)
{
	if (streq(v, "%any")) {
		e->host_kind = HOST_ANY;
		return true;
	}
	if (streq(v, "%defaultroute")) {
		e->host_kind = HOST_DEFAULTROUTE;
		return true;
	}
	if (!ip_parse(v, &e->host)) {
		*why = "not an IP address";
		return false;
	}
	e->host_kind = HOST_ADDRESS;
	return true;
}

static bool opt_id(struct end *e, const char *v, const char **why)
{
	return id_parse(v, &e->id, why);
}

static bool opt_subnet(struct end *e, const char *v, const char **why)
{
	if (!subnet_parse(v, &e->client, why))
		return false;
	e->has_client = true;
	return true;
}

static bool opt_nexthop(struct end *e, const char *v, const char **why)
{
	if (streq(v, "%direct") || streq(v, "0.0.0.0")) {
		e->nexthop_direct = true;
		return true;
	}
	if (!ip_parse(v, &e->nexthop)) {
		*why = "not an IP address or %direct";
		return false;
	}
	return true;
}

static bool opt_ikeport(struct end *e, const char *v, const char **why)
{
	unsigned long long port;
	if (!parse_uint(v, 65535, &port) || port == 0) {
		*why = "not a UDP port (1-65535)";
		return false;
	}
	e->ikeport = (uint16_t)port;
	return true;
}

/* A command line, or %disabled (libreswan's word: no updown at all).
 * Another %word is a mistake, not a command named so. */
static bool opt_updown(struct end *e, const char *v, const char **why)
{
	if (!*v || strpbrk(v, "\n\r")) {
		*why = "must be a non-empty one-line command, or %disabled";
		return false;
	}
	if (v[0] == '%' && strcmp(v, "%disabled") != 0) {
		*why = "must be a command line or %disabled";
		return false;
	}
	set_text(&e->updown, v);
	return true;
}

static bool opt_rsasigkey(struct end *e, const char *v, const char **why)
{
	/* Only the form is checked here; keys.c decodes it when the
	 * connection is added (and says precisely what is wrong). */
	if (!(strncmp(v, "0s", 2) == 0 || strncmp(v, "0x", 2) == 0 ||
	      strncmp(v, "%file:", 6) == 0 || strncmp(v, "-----BEGIN", 10) == 0) || strlen(v) < 4) {
		*why = "must be 0s<base64>, 0x<hex>, %file:/path.pem or PEM text";
		return false;
	}
	set_text(&e->rsasigkey, v);
	return true;
}

static bool yes_no(const char *v, bool *out, const char **why)
{
	if (streq(v, "yes")) { *out = true; return true; }
	if (streq(v, "no")) { *out = false; return true; }
	*why = "must be yes or no";
	return false;
}

/* --- per-end remote access (XAUTH, Mode Config) --- */

static bool opt_xauthclient(struct end *e, const char *v, const char **why)
{
	return yes_no(v, &e->xauthclient, why);
}

static bool opt_xauthserver(struct end *e, const char *v, const char **why)
{
	return yes_no(v, &e->xauthserver, why);
}

static bool opt_modecfgclient(struct end *e, const char *v, const char **why)
{
	return yes_no(v, &e->modecfgclient, why);
}

static bool opt_modecfgserver(struct end *e, const char *v, const char **why)
{
	return yes_no(v, &e->modecfgserver, why);
}

/* A user name goes into ipsec.secrets(5) as `@user : XAUTH "..."` and
 * onto the State's XauthUser (128 bytes): printable, no blanks or quotes. */
static bool opt_username(struct end *e, const char *v, const char **why)
{
	size_t len = strlen(v);
	if (len == 0 || len >= 128) {
		*why = "must be 1 to 127 characters";
		return false;
	}
	for (const char *c = v; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '"') {
			*why = "must be printable, without blanks or quotes";
			return false;
		}
	}
	set_text(&e->username, v);
	return true;
}

static bool opt_addresspool(struct end *e, const char *v, const char **why)
{
	if (!address_range_parse(v, &e->pool_first, &e->pool_last, why))
		return false;
	e->has_addresspool = true;
	return true;
}

/* --- whole-connection values --- */

static bool set_flag(struct connection_config *cfg, unsigned flag, const char *v, bool invert,
		     const char **why)
{
	bool on;
	if (!yes_no(v, &on, why))
		return false;
	if (on != invert)
		cfg->policy |= flag;
	else
		cfg->policy &= ~flag;
	return true;
}

static bool opt_authby(struct connection_config *cfg, const char *v, const char **why)
{
	static const struct { const char *word; unsigned bits; } forms[] = {
		{ "secret", POLICY_PSK }, { "psk", POLICY_PSK },
		{ "rsasig", POLICY_RSASIG },
		{ "secret|rsasig", POLICY_PSK | POLICY_RSASIG },
		{ "rsasig|secret", POLICY_PSK | POLICY_RSASIG },
	};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		if (streq(v, forms[i].word)) {
			cfg->policy = (cfg->policy & ~(POLICY_PSK | POLICY_RSASIG)) | forms[i].bits;
			return true;
		}
	}
	*why = "must be secret, rsasig or secret|rsasig";
	return false;
}

static bool opt_phase2(struct connection_config *cfg, const char *v, const char **why)
{
	unsigned bits;
	if (streq(v, "esp"))
		bits = POLICY_ENCRYPT;
	else if (streq(v, "ah"))
		bits = POLICY_AUTHENTICATE;
	else if (streq(v, "none"))
		bits = 0;
	else {
		*why = "must be esp, ah or none";
		return false;
	}
	cfg->policy = (cfg->policy & ~(POLICY_ENCRYPT | POLICY_AUTHENTICATE)) | bits;
	return true;
}

static bool opt_type(struct connection_config *cfg, const char *v, const char **why)
{
	if (streq(v, "tunnel"))
		cfg->policy |= POLICY_TUNNEL;
	else if (streq(v, "transport"))
		cfg->policy &= ~POLICY_TUNNEL;
	else {
		*why = "must be tunnel or transport";
		return false;
	}
	return true;
}

static bool opt_compress(struct connection_config *cfg, const char *v, const char **why)
{
	return set_flag(cfg, POLICY_COMPRESS, v, false, why);
}

static bool opt_pfs(struct connection_config *cfg, const char *v, const char **why)
{
	return set_flag(cfg, POLICY_PFS, v, false, why);
}

static bool opt_rekey(struct connection_config *cfg, const char *v, const char **why)
{
	return set_flag(cfg, POLICY_DONT_REKEY, v, true, why);
}

/* Proposal lists: parse once here so a typo fails AddConnection. */
static char proposal_why[160];

/* Parses v into a zeroed table (unused slots zero: equal proposals are
 * equal bytes) and interns it in place of the config's old one. */
#define SET_PROPOSALS(kind)                                                                   \
	static bool set_##kind##_proposals(struct connection_config *cfg, const char *v)      \
	{                                                                                     \
		struct kind##_proposals parsed;                                               \
		memset(&parsed, 0, sizeof(parsed));                                           \
		if (!kind##_proposals_parse(v, &parsed, proposal_why, sizeof(proposal_why)))  \
			return false;                                                         \
		intern_release(cfg->kind##_proposals);                                        \
		cfg->kind##_proposals = intern(&parsed, sizeof(parsed));                      \
		return true;                                                                  \
	}
SET_PROPOSALS(ike)
SET_PROPOSALS(esp)
SET_PROPOSALS(ah)

static bool opt_ike(struct connection_config *cfg, const char *v, const char **why)
{
	if (!set_ike_proposals(cfg, v)) {
		*why = proposal_why;
		return false;
	}
	set_text(&cfg->ike, v);
	return true;
}

static bool opt_esp(struct connection_config *cfg, const char *v, const char **why)
{
	if (!set_esp_proposals(cfg, v)) {
		*why = proposal_why;
		return false;
	}
	set_text(&cfg->esp, v);
	return true;
}

static bool opt_ah(struct connection_config *cfg, const char *v, const char **why)
{
	if (!set_ah_proposals(cfg, v)) {
		*why = proposal_why;
		return false;
	}
	set_text(&cfg->ah, v);
	return true;
}

static bool opt_pfsgroup(struct connection_config *cfg, const char *v, const char **why)
{
	const struct alg *g = alg_by_name(ALG_DH, v);
	if (!g) {
		*why = "unknown DH group (modp1024, modp1536, modp2048, ..., ecp256, ecp384, curve25519)";
		return false;
	}
	cfg->pfs_group = g;
	set_text(&cfg->pfsgroup, g->name);
	return true;
}

static bool duration(const char *v, unsigned long long *out, const char **why)
{
	if (!parse_duration(v, out)) {
		*why = "must be a duration: seconds, or a number with s, m, h or d (at most ten years)";
		return false;
	}
	return true;
}

static bool opt_ikelifetime(struct connection_config *cfg, const char *v, const char **why)
{
	return duration(v, &cfg->ikelifetime, why);
}

static bool opt_salifetime(struct connection_config *cfg, const char *v, const char **why)
{
	return duration(v, &cfg->salifetime, why);
}

static bool opt_rekeymargin(struct connection_config *cfg, const char *v, const char **why)
{
	return duration(v, &cfg->rekeymargin, why);
}

static bool opt_rekeyfuzz(struct connection_config *cfg, const char *v, const char **why)
{
	char num[16];
	size_t n = strlen(v);
	unsigned long long pct;
	if (n == 0 || n >= sizeof(num)) {
		*why = "must be a percentage such as 100%";
		return false;
	}
	memcpy(num, v, n + 1);
	if (num[n - 1] == '%')
		num[n - 1] = '\0';
	if (!parse_uint(num, 10000, &pct)) {
		*why = "must be a percentage such as 100% (0-10000)";
		return false;
	}
	cfg->rekeyfuzz = (unsigned)pct;
	return true;
}

static bool opt_keyingtries(struct connection_config *cfg, const char *v, const char **why)
{
	unsigned long long n;
	if (streq(v, "%forever")) {
		cfg->keyingtries = 0;
		return true;
	}
	if (!parse_uint(v, 1000000, &n)) {
		*why = "must be a count, 0 or %forever";
		return false;
	}
	cfg->keyingtries = (unsigned)n;
	return true;
}

static bool opt_auto(struct connection_config *cfg, const char *v, const char **why)
{
	if (streq(v, "add"))
		cfg->auto_action = AUTO_ADD;
	else if (streq(v, "route"))
		cfg->auto_action = AUTO_ROUTE;
	else if (streq(v, "start"))
		cfg->auto_action = AUTO_START;
	else if (streq(v, "ignore"))
		cfg->auto_action = AUTO_IGNORE;
	else {
		*why = "must be ignore, add, route or start";
		return false;
	}
	return true;
}

/* --- NAT traversal and Dead Peer Detection --- */

static const char *const encaps_names[] = { [ENCAPS_AUTO] = "auto", [ENCAPS_YES] = "yes", [ENCAPS_NO] = "no" };

const char *encapsulation_name(enum encapsulation e)
{
	return (unsigned)e < ARRAY_SIZE(encaps_names) ? encaps_names[e] : "?";
}

bool conn_opt_encapsulation(struct connection_config *cfg, const char *v, const char **why)
{
	for (unsigned i = 0; i < ARRAY_SIZE(encaps_names); i++) {
		if (streq(v, encaps_names[i])) {
			cfg->encapsulation = (enum encapsulation)i;
			return true;
		}
	}
	*why = "must be auto, yes or no";
	return false;
}

static const char *const dpd_action_names[] = {
	[DPD_ACTION_CLEAR] = "clear",
	[DPD_ACTION_HOLD] = "hold",
	[DPD_ACTION_RESTART] = "restart",
};

const char *dpd_action_name(enum dpd_action a)
{
	return (unsigned)a < ARRAY_SIZE(dpd_action_names) ? dpd_action_names[a] : "?";
}

static bool dpd_duration(const char *v, unsigned long long *out, const char **why)
{
	if (!parse_duration(v, out)) {
		*why = "must be a duration: seconds, or a number with s, m, h or d (0 = off)";
		return false;
	}
	return true;
}

static bool opt_dpddelay(struct connection_config *cfg, const char *v, const char **why)
{
	return dpd_duration(v, &cfg->dpddelay, why);
}

static bool opt_dpdtimeout(struct connection_config *cfg, const char *v, const char **why)
{
	if (!dpd_duration(v, &cfg->dpdtimeout, why))
		return false;
	if (cfg->dpdtimeout == 0) {
		*why = "must be longer than 0 s";
		return false;
	}
	return true;
}

static bool opt_dpdaction(struct connection_config *cfg, const char *v, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(dpd_action_names); i++) {
		if (streq(v, dpd_action_names[i])) {
			cfg->dpdaction = (unsigned)i;
			return true;
		}
	}
	*why = "must be clear, hold or restart";
	return false;
}

/* NULL when dpddelay and dpdtimeout fit together, else a message naming
 * both (written to buf). */
static const char *dpd_config_check(const struct connection_config *cfg, char *buf, size_t len)
{
	if (cfg->dpddelay == 0 || cfg->dpdtimeout > cfg->dpddelay)
		return NULL;
	snprintf(buf, len, "dpdtimeout (%llus) must be longer than dpddelay (%llus)", cfg->dpdtimeout,
		 cfg->dpddelay);
	return buf;
}

/* --- what a Mode Config server sends, how XAUTH is checked --- */

static bool opt_modecfgpull(struct connection_config *cfg, const char *v, const char **why)
{
	return yes_no(v, &cfg->modecfgpull, why);
}

/* Next comma-separated item of *p, blanks around it trimmed, into buf;
 * false at the end of the list. An empty item comes back as "". */
static bool next_item(const char **p, char *buf, size_t len, bool *too_long)
{
	if (!*p)
		return false;
	const char *start = *p, *comma = strchr(start, ',');
	const char *end = comma ? comma : start + strlen(start);
	*p = comma ? comma + 1 : NULL;
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t n = (size_t)(end - start);
	*too_long = n >= len;
	if (*too_long)
		n = len - 1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return true;
}

static bool opt_modecfgdns(struct connection_config *cfg, const char *v, const char **why)
{
	char item[IP_STR_MAX];
	bool too_long;
	size_t n = 0;
	const char *p = v;
	while (next_item(&p, item, sizeof(item), &too_long)) {
		if (n == ARRAY_SIZE(cfg->modecfgdns)) {
			*why = "at most 4 DNS server addresses";
			return false;
		}
		if (too_long || !ip_parse(item, &cfg->modecfgdns[n])) {
			*why = "must be a comma list of IP addresses";
			return false;
		}
		n++;
	}
	cfg->n_modecfgdns = n;
	return true;
}

/* Domain names only (letters, digits, '-', '.'): the client hands them
 * to its resolver configuration; normalised without blanks. The State's
 * Domains field holds 255 characters. */
static bool opt_modecfgdomains(struct connection_config *cfg, const char *v, const char **why)
{
	char item[256], joined[256] = "";
	bool too_long;
	const char *p = v;
	while (next_item(&p, item, sizeof(item), &too_long)) {
		if (too_long || !*item || strspn(item, "abcdefghijklmnopqrstuvwxyz"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != strlen(item)) {
			*why = "must be a comma list of domain names";
			return false;
		}
		if (strlen(joined) + strlen(item) + 2 > sizeof(joined)) {
			*why = "at most 255 characters of domain names";
			return false;
		}
		if (*joined)
			strcat(joined, ",");
		strcat(joined, item);
	}
	set_text(&cfg->modecfgdomains, joined);
	return true;
}

static bool opt_modecfgbanner(struct connection_config *cfg, const char *v, const char **why)
{
	if (strlen(v) >= 512) {
		*why = "at most 511 characters";
		return false;
	}
	for (const char *c = v; *c; c++) {
		if ((unsigned char)*c < ' ' || *c == 0x7f) {
			*why = "must be one line of text, without control characters";
			return false;
		}
	}
	set_text(&cfg->modecfgbanner, v);
	return true;
}

static const char *const xauthby_names[] = { [XAUTHBY_FILE] = "file", [XAUTHBY_ALWAYSOK] = "alwaysok" };

static bool opt_xauthby(struct connection_config *cfg, const char *v, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(xauthby_names); i++) {
		if (streq(v, xauthby_names[i])) {
			cfg->xauthby = (enum xauthby)i;
			return true;
		}
	}
	*why = "must be file or alwaysok";
	return false;
}

static const struct option_rule rules[] = {
	{ "",          opt_host,      NULL, "IP address, %any or %defaultroute" },
	{ "id",        opt_id,        NULL, "@fqdn, user@fqdn, IP address or %any" },
	{ "subnet",    opt_subnet,    NULL, "CIDR subnet" },
	{ "nexthop",   opt_nexthop,   NULL, "IP address or %direct" },
	{ "ikeport",   opt_ikeport,   NULL, "UDP port" },
	{ "updown",    opt_updown,    NULL, "command line" },
	{ "rsasigkey", opt_rsasigkey, NULL, "RSA public key" },
	{ "xauthclient",   opt_xauthclient,   NULL, "yes or no" },
	{ "xauthserver",   opt_xauthserver,   NULL, "yes or no" },
	{ "username",      opt_username,      NULL, "XAUTH user name" },
	{ "xauthusername", opt_username,      NULL, "XAUTH user name" },   /* alias */
	{ "modecfgclient", opt_modecfgclient, NULL, "yes or no" },
	{ "modecfgserver", opt_modecfgserver, NULL, "yes or no" },
	{ "addresspool",   opt_addresspool,   NULL, "A-B range or CIDR block" },
	{ "authby",      NULL, opt_authby, NULL },
	{ "phase2",      NULL, opt_phase2, NULL },
	{ "type",        NULL, opt_type, NULL },
	{ "compress",    NULL, opt_compress, NULL },
	{ "pfs",         NULL, opt_pfs, NULL },
	{ "ike",         NULL, opt_ike, NULL },
	{ "esp",         NULL, opt_esp, NULL },
	{ "ah",          NULL, opt_ah, NULL },
	{ "pfsgroup",    NULL, opt_pfsgroup, NULL },
	{ "ikelifetime", NULL, opt_ikelifetime, NULL },
	{ "salifetime",  NULL, opt_salifetime, NULL },
	{ "rekeymargin", NULL, opt_rekeymargin, NULL },
	{ "rekeyfuzz",   NULL, opt_rekeyfuzz, NULL },
	{ "keyingtries", NULL, opt_keyingtries, NULL },
	{ "rekey",       NULL, opt_rekey, NULL },
	{ "auto",        NULL, opt_auto, NULL },
	{ "encapsulation", NULL, conn_opt_encapsulation, NULL },
	{ "dpddelay",    NULL, opt_dpddelay, NULL },
	{ "dpdtimeout",  NULL, opt_dpdtimeout, NULL },
	{ "dpdaction",   NULL, opt_dpdaction, NULL },
	{ "modecfgpull",    NULL, opt_modecfgpull, NULL },
	{ "modecfgdns",     NULL, opt_modecfgdns, NULL },
	{ "modecfgdomains", NULL, opt_modecfgdomains, NULL },
	{ "modecfgbanner",  NULL, opt_modecfgbanner, NULL },
	{ "xauthby",        NULL, opt_xauthby, NULL },
};

static void config_defaults(struct connection_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < 2; i++) {
		cfg->end[i].host_kind = HOST_ADDRESS;
		cfg->end[i].ikeport = DEFAULT_IKEPORT;
	}
	/* authby default: both, as the seed says; phase2 default: esp, tunnel */
	cfg->policy = POLICY_PSK | POLICY_RSASIG | POLICY_ENCRYPT | POLICY_TUNNEL;
	cfg->ikelifetime = DEFAULT_IKELIFETIME;
	cfg->salifetime = DEFAULT_SALIFETIME;
	cfg->rekeymargin = DEFAULT_REKEYMARGIN;
	cfg->rekeyfuzz = DEFAULT_REKEYFUZZ;
	cfg->keyingtries = DEFAULT_KEYINGTRIES;
	cfg->auto_action = AUTO_ADD;
	cfg->dpddelay = DEFAULT_DPDDELAY;
	cfg->dpdtimeout = DEFAULT_DPDTIMEOUT;
	cfg->dpdaction = DEFAULT_DPDACTION;
	cfg->modecfgpull = true;
	cfg->xauthby = XAUTHBY_FILE;
}

/* Find the rule for a keyword; *end_index is 0/1 for left/right options. */
static const struct option_rule *find_rule(const char *key, int *end_index)
{
	*end_index = -1;
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct option_rule *r = &rules[i];
		if (r->per_end) {
			static const char *const sides[2] = { "left", "right" };
			for (int s = 0; s < 2; s++) {
				size_t sl = strlen(sides[s]);
				if (strncmp(key, sides[s], sl) == 0 && streq(key + sl, r->keyword)) {
					*end_index = s;
					return r;
				}
			}
		} else if (streq(key, r->keyword)) {
			return r;
		}
	}
	return NULL;
}

static int invalid(struct connection_config *cfg, struct ctl_error *err, const char *fmt,
		   const char *a, const char *b, const char *c)
{
	connection_config_free(cfg);
	return ctl_fail(err, PE_INVALID_OPTION, fmt, a, b, c);
}

/* --- remote access: the roles of the two ends must fit together --- */

static bool both_xauth_roles(const struct end *e, const struct end *o)
{
	(void)o;
	return e->xauthclient && e->xauthserver;
}

static bool both_modecfg_roles(const struct end *e, const struct end *o)
{
	(void)o;
	return e->modecfgclient && e->modecfgserver;
}

static bool xauthclient_alone(const struct end *e, const struct end *o)
{
	return e->xauthclient && !o->xauthserver;
}

static bool xauthserver_alone(const struct end *e, const struct end *o)
{
	return e->xauthserver && !o->xauthclient;
}

static bool modecfgclient_alone(const struct end *e, const struct end *o)
{
	return e->modecfgclient && !o->modecfgserver;
}

static bool modecfgserver_alone(const struct end *e, const struct end *o)
{
	return e->modecfgserver && !o->modecfgclient;
}

static bool username_not_client(const struct end *e, const struct end *o)
{
	(void)o;
	return e->username && !e->xauthclient;
}

static bool pool_without_modecfg(const struct end *e, const struct end *o)
{
	return e->has_addresspool && !(e->modecfgclient && o->modecfgserver);
}

/* the virtual address talks to the other end's subnet, and replaces
 * this end's own subnet in Quick Mode: both must be of its family */
static bool pool_family_mismatch(const struct end *e, const struct end *o)
{
	return e->has_addresspool &&
	       ((o->has_client && o->client.addr.family != e->pool_first.family) ||
		(e->has_client && e->client.addr.family != e->pool_first.family));
}

/* In the messages $E names this end ("left"/"right"), $O the other. */
static const struct {
	bool (*wrong)(const struct end *e, const struct end *o);
	const char *message;
} end_pair_rules[] = {
	{ both_xauth_roles,     "$Exauthclient and $Exauthserver: one end cannot be both XAUTH client and server" },
	{ both_modecfg_roles,   "$Emodecfgclient and $Emodecfgserver: one end cannot be both Mode Config client and server" },
	{ xauthclient_alone,    "$Exauthclient=yes needs $Oxauthserver=yes (the other end asks for the credentials)" },
	{ xauthserver_alone,    "$Exauthserver=yes needs $Oxauthclient=yes (the other end answers with credentials)" },
	{ modecfgclient_alone,  "$Emodecfgclient=yes needs $Omodecfgserver=yes (the other end hands out the address)" },
	{ modecfgserver_alone,  "$Emodecfgserver=yes needs $Omodecfgclient=yes (the other end takes the address)" },
	{ username_not_client,  "$Eusername is the XAUTH user of a client end: it needs $Exauthclient=yes" },
	{ pool_without_modecfg, "$Eaddresspool needs $Emodecfgclient=yes and $Omodecfgserver=yes (the pool $E's address comes from)" },
	{ pool_family_mismatch, "$Eaddresspool is of another address family than $Esubnet or $Osubnet" },
};

/* message with $E and $O replaced by the sides' names */
static const char *expand_sides(const char *message, int side, char *buf, size_t len)
{
	static const char *const names[2] = { "left", "right" };
	size_t out = 0;
	for (const char *m = message; *m && out + 6 < len; m++) {
		if (m[0] == '$' && (m[1] == 'E' || m[1] == 'O')) {
			const char *name = names[m[1] == 'E' ? side : 1 - side];
			size_t n = strlen(name);
			memcpy(buf + out, name, n);
			out += n;
			m++;
		} else {
			buf[out++] = *m;
		}
	}
	buf[out] = '\0';
	return buf;
}

static const char *check_remote_access(const struct connection_config *cfg, char *buf, size_t len)
{
	for (size_t r = 0; r < ARRAY_SIZE(end_pair_rules); r++)
		for (int side = 0; side < 2; side++)
			if (end_pair_rules[r].wrong(&cfg->end[side], &cfg->end[1 - side]))
				return expand_sides(end_pair_rules[r].message, side, buf, len);
	bool server = cfg->end[0].modecfgserver || cfg->end[1].modecfgserver;
	if (!server && (cfg->n_modecfgdns || cfg->modecfgdomains || cfg->modecfgbanner))
		return "modecfgdns, modecfgdomains and modecfgbanner are what a Mode Config server "
		       "sends: they need leftmodecfgserver=yes or rightmodecfgserver=yes";
	return NULL;
}

/* Checks that need several keywords at once. */
static const char *check_consistency(const struct connection_config *cfg)
{
	const struct end *l = &cfg->end[0], *r = &cfg->end[1];
	if (l->host_kind == HOST_ANY && r->host_kind == HOST_ANY)
		return "left and right cannot both be %any";
	if (l->host_kind == HOST_ADDRESS && r->host_kind == HOST_ADDRESS &&
	    l->host.family != r->host.family)
		return "left and right are of different address families";
	if (l->has_client && r->has_client && l->client.addr.family != r->client.addr.family)
		return "leftsubnet and rightsubnet are of different address families";
	if (!(cfg->policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE)) &&
	    (l->has_client || r->has_client))
		return "phase2=none builds only an ISAKMP SA: client subnets have no meaning";
	if (!(cfg->policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE)) &&
	    (cfg->policy & (POLICY_COMPRESS | POLICY_PFS)))
		return "compress and pfs need phase2=esp or phase2=ah";
	if (cfg->rekeymargin >= cfg->salifetime || cfg->rekeymargin >= cfg->ikelifetime)
		return "rekeymargin must be shorter than ikelifetime and salifetime";
	static char dpd_why[120];
	if (dpd_config_check(cfg, dpd_why, sizeof(dpd_why)))
		return dpd_why;
	static char remote_access_why[200];
	return check_remote_access(cfg, remote_access_why, sizeof(remote_access_why));
}

int connection_config_check(const struct connection_config *cfg, struct ctl_error *err)
{
	const char *inconsistent = check_consistency(cfg);
	if (inconsistent)
		return ctl_fail(err, PE_INVALID_OPTION, "inconsistent options: %s", inconsistent);
	return 0;
}

bool connection_option_known(const char *key)
{
	int side;
	return find_rule(key, &side) != NULL;
}

int connection_config_parse(struct connection_config *cfg, const char *const *keys,
			    const char *const *values, size_t n, struct ctl_error *err)
{
	size_t bad_index;
	return connection_config_parse_at(cfg, keys, values, n, &bad_index, err);
}

int connection_config_parse_at(struct connection_config *cfg, const char *const *keys,
			       const char *const *values, size_t n, size_t *bad_index,
			       struct ctl_error *err)
{
	bool seen_host[2] = { false, false };
	config_defaults(cfg);
	*bad_index = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const char *key = keys[i], *value = values[i];
		int side;
		const struct option_rule *r = find_rule(key, &side);
		const char *why = NULL;
		*bad_index = i;
		/* the loader resolves also= before the options get here */
		if (!r && streq(key, "also"))
			return invalid(cfg, err, "option 'also' is only for ipsec.conf(5) files%s%s%s", "", "", "");
		if (!r)
			return invalid(cfg, err, "unknown option keyword '%s'%s%s", key, "", "");
		for (size_t j = 0; j < i; j++) {
			if (streq(keys[j], key))
				return invalid(cfg, err, "option '%s' given twice%s%s", key, "", "");
			/* an alias (leftxauthusername) and its keyword fill one field */
			int other_side;
			const struct option_rule *other = find_rule(keys[j], &other_side);
			if (other && other_side == side && r->per_end && other->per_end == r->per_end)
				return invalid(cfg, err, "option '%s' given twice (also as '%s')%s", key,
					       keys[j], "");
		}
		bool ok = r->per_end ? r->per_end(&cfg->end[side], value, &why)
				     : r->whole(cfg, value, &why);
		if (!ok)
			return invalid(cfg, err, "invalid value '%s' for option '%s': %s", value, key,
				       why ? why : "not accepted");
		if (r->per_end && r->keyword[0] == '\0')
			seen_host[side] = true;
	}
	*bad_index = SIZE_MAX;
	if (!seen_host[0] || !seen_host[1])
		return invalid(cfg, err, "option '%s' is required (%s)%s",
			       seen_host[0] ? "right" : "left", "IP address, %any or %defaultroute", "");
	if (!cfg->ike) {
		set_text(&cfg->ike, default_ike_proposals);
		set_ike_proposals(cfg, cfg->ike);
	}
	if (!cfg->esp) {
		set_text(&cfg->esp, default_esp_proposals);
		set_esp_proposals(cfg, cfg->esp);
	}
	if (!cfg->ah) {
		set_text(&cfg->ah, default_ah_proposals);
		set_ah_proposals(cfg, cfg->ah);
	}
	const char *inconsistent = check_consistency(cfg);
	if (inconsistent)
		return invalid(cfg, err, "inconsistent options: %s%s%s", inconsistent, "", "");
	return 0;
}

void connection_config_free(struct connection_config *cfg)
{
	for (int i = 0; i < 2; i++) {
		intern_release(cfg->end[i].updown);
		intern_release(cfg->end[i].rsasigkey);
		intern_release(cfg->end[i].username);
	}
	intern_release(cfg->modecfgdomains);
	intern_release(cfg->modecfgbanner);
	intern_release(cfg->ike);
	intern_release(cfg->esp);
	intern_release(cfg->ah);
	intern_release(cfg->pfsgroup);
	intern_release(cfg->ike_proposals);
	intern_release(cfg->esp_proposals);
	intern_release(cfg->ah_proposals);
	memset(cfg, 0, sizeof(*cfg));
}

void connection_config_copy(struct connection_config *to, const struct connection_config *from)
{
	*to = *from;
	for (int i = 0; i < 2; i++) {
		to->end[i].updown = intern_ref(from->end[i].updown);
		to->end[i].rsasigkey = intern_ref(from->end[i].rsasigkey);
		to->end[i].username = intern_ref(from->end[i].username);
	}
	to->modecfgdomains = intern_ref(from->modecfgdomains);
	to->modecfgbanner = intern_ref(from->modecfgbanner);
	to->ike = intern_ref(from->ike);
	to->esp = intern_ref(from->esp);
	to->ah = intern_ref(from->ah);
	to->pfsgroup = intern_ref(from->pfsgroup);
	to->ike_proposals = intern_ref(from->ike_proposals);
	to->esp_proposals = intern_ref(from->esp_proposals);
	to->ah_proposals = intern_ref(from->ah_proposals);
}

/* --- the normalised map for the Options property and status --- */

struct kv_builder {
	size_t n, cap;
	char **keys, **values;
};

static void kv_add(struct kv_builder *b, const char *key, char *value /* owned */)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		b->keys = xrealloc(b->keys, b->cap * sizeof(char *));
		b->values = xrealloc(b->values, b->cap * sizeof(char *));
	}
	b->keys[b->n] = xstrdup(key);
	b->values[b->n] = value;
	b->n++;
}

static void end_normalise(struct kv_builder *b, const struct end *e, const char *side)
{
	char buf[IP_STR_MAX], idb[ID_STR_MAX], key[32];
	snprintf(key, sizeof(key), "%s", side);
	kv_add(b, key, xstrdup(e->host_kind == HOST_ANY ? "%any"
			       : e->host_kind == HOST_DEFAULTROUTE ? "%defaultroute"
			       : ip_str(&e->host, buf)));
	if (e->id.kind != ID_NONE) {
		snprintf(key, sizeof(key), "%sid", side);
		kv_add(b, key, xstrdup(id_str(&e->id, idb)));
	}
	if (e->has_client) {
		snprintf(key, sizeof(key), "%ssubnet", side);
		kv_add(b, key, xstrdup(subnet_str(&e->client, buf)));
	}
	if (e->nexthop_direct || ip_is_set(&e->nexthop)) {
		snprintf(key, sizeof(key), "%snexthop", side);
		kv_add(b, key, xstrdup(e->nexthop_direct ? "%direct" : ip_str(&e->nexthop, buf)));
	}
	snprintf(key, sizeof(key), "%sikeport", side);
	kv_add(b, key, xasprintf("%u", e->ikeport));
	if (e->updown) {
		snprintf(key, sizeof(key), "%supdown", side);
		kv_add(b, key, xstrdup(e->updown));
	}
	if (e->rsasigkey) {
		snprintf(key, sizeof(key), "%srsasigkey", side);
		kv_add(b, key, xstrdup(e->rsasigkey));   /* a public key: not a secret */
	}
	/* remote access: only what is set, so a plain connection's map is
	 * the same as before these keywords existed */
	static const struct { const char *keyword; size_t offset; } roles[] = {
		{ "xauthclient", offsetof(struct end, xauthclient) },
		{ "xauthserver", offsetof(struct end, xauthserver) },
		{ "modecfgclient", offsetof(struct end, modecfgclient) },
		{ "modecfgserver", offsetof(struct end, modecfgserver) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		if (*(const bool *)((const char *)e + roles[i].offset)) {
			snprintf(key, sizeof(key), "%s%s", side, roles[i].keyword);
			kv_add(b, key, xstrdup("yes"));
		}
	}
	if (e->username) {
		snprintf(key, sizeof(key), "%susername", side);
		kv_add(b, key, xstrdup(e->username));
	}
	if (e->has_addresspool) {
		char last[IP_STR_MAX];
		snprintf(key, sizeof(key), "%saddresspool", side);
		kv_add(b, key, xasprintf("%s-%s", ip_str(&e->pool_first, buf), ip_str(&e->pool_last, last)));
	}
}

static bool remote_access(const struct connection_config *cfg)
{
	for (int i = 0; i < 2; i++) {
		const struct end *e = &cfg->end[i];
		if (e->xauthclient || e->xauthserver || e->modecfgclient || e->modecfgserver)
			return true;
	}
	return false;
}

static void remote_access_normalise(struct kv_builder *b, const struct connection_config *cfg)
{
	if (!remote_access(cfg))
		return;
	kv_add(b, "modecfgpull", xstrdup(cfg->modecfgpull ? "yes" : "no"));
	kv_add(b, "xauthby", xstrdup(xauthby_names[cfg->xauthby]));
	if (cfg->n_modecfgdns) {
		char list[4 * (IP_STR_MAX + 1)] = "", buf[IP_STR_MAX];
		for (size_t i = 0; i < cfg->n_modecfgdns; i++) {
			if (i)
				strcat(list, ",");
			strcat(list, ip_str(&cfg->modecfgdns[i], buf));
		}
		kv_add(b, "modecfgdns", xstrdup(list));
	}
	if (cfg->modecfgdomains)
		kv_add(b, "modecfgdomains", xstrdup(cfg->modecfgdomains));
	if (cfg->modecfgbanner)
		kv_add(b, "modecfgbanner", xstrdup(cfg->modecfgbanner));
}

static int cmp_index(const void *a, const void *b, void *keys)
{
	char **k = keys;
	return strcmp(k[*(const size_t *)a], k[*(const size_t *)b]);
}

void connection_config_normalise(const struct connection_config *cfg, size_t *n, char ***keys,
				 char ***values)
{
	struct kv_builder b = { 0 };
	static const char *const auto_names[] = { "add", "route", "start", "ignore" };
	unsigned p = cfg->policy;
	end_normalise(&b, &cfg->end[0], "left");
	end_normalise(&b, &cfg->end[1], "right");
	kv_add(&b, "authby", xstrdup((p & POLICY_PSK) && (p & POLICY_RSASIG) ? "secret|rsasig"
				     : (p & POLICY_PSK) ? "secret" : "rsasig"));
	kv_add(&b, "phase2", xstrdup(p & POLICY_ENCRYPT ? "esp" : p & POLICY_AUTHENTICATE ? "ah" : "none"));
	kv_add(&b, "type", xstrdup(p & POLICY_TUNNEL ? "tunnel" : "transport"));
	kv_add(&b, "compress", xstrdup(p & POLICY_COMPRESS ? "yes" : "no"));
	kv_add(&b, "pfs", xstrdup(p & POLICY_PFS ? "yes" : "no"));
	kv_add(&b, "ike", xstrdup(cfg->ike ? cfg->ike : default_ike_proposals));
	kv_add(&b, "esp", xstrdup(cfg->esp ? cfg->esp : default_esp_proposals));
	kv_add(&b, "ah", xstrdup(cfg->ah ? cfg->ah : default_ah_proposals));
	if (cfg->pfsgroup)
		kv_add(&b, "pfsgroup", xstrdup(cfg->pfsgroup));
	kv_add(&b, "ikelifetime", xasprintf("%llus", cfg->ikelifetime));
	kv_add(&b, "salifetime", xasprintf("%llus", cfg->salifetime));
	kv_add(&b, "rekeymargin", xasprintf("%llus", cfg->rekeymargin));
	kv_add(&b, "rekeyfuzz", xasprintf("%u%%", cfg->rekeyfuzz));
	kv_add(&b, "keyingtries", xasprintf("%u", cfg->keyingtries));
	kv_add(&b, "rekey", xstrdup(p & POLICY_DONT_REKEY ? "no" : "yes"));
	kv_add(&b, "auto", xstrdup(auto_names[cfg->auto_action]));
	kv_add(&b, "encapsulation", xstrdup(encapsulation_name(cfg->encapsulation)));
	kv_add(&b, "dpddelay", xasprintf("%llus", cfg->dpddelay));
	kv_add(&b, "dpdtimeout", xasprintf("%llus", cfg->dpdtimeout));
	kv_add(&b, "dpdaction", xstrdup(dpd_action_name((enum dpd_action)cfg->dpdaction)));
	remote_access_normalise(&b, cfg);

	/* sorted by key so every API shows them in one order */
	size_t *order = xmalloc(b.n * sizeof(size_t));
	for (size_t i = 0; i < b.n; i++)
		order[i] = i;
	qsort_r(order, b.n, sizeof(size_t), cmp_index, b.keys);
	*keys = xmalloc(b.n * sizeof(char *));
	*values = xmalloc(b.n * sizeof(char *));
	for (size_t i = 0; i < b.n; i++) {
		(*keys)[i] = b.keys[order[i]];
		(*values)[i] = b.values[order[i]];
	}
	*n = b.n;
	free(order);
	free(b.keys);
	free(b.values);
}

void conn_option_keywords(void (*fn)(const char *keyword, void *ctx), void *ctx)
{
	static const char *const sides[2] = { "left", "right" };
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
			if (rules[i].per_end) {
				char keyword[64];
				snprintf(keyword, sizeof(keyword), "%s%s", sides[s], rules[i].keyword);
				fn(keyword, ctx);
			}
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (!rules[i].per_end)
			fn(rules[i].keyword, ctx);
}
