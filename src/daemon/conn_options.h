/* The per-connection option vocabulary (API.md section 1): a connection's
 * ends, policy and lifetimes as parsed and validated from an option map,
 * before the connection database (connections.h) holds it. Below the
 * database: it knows nothing of connections, states or routing. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "common/id.h"
#include "common/ip.h"
#include "policy/algs.h"

enum host_kind { HOST_ADDRESS, HOST_ANY, HOST_DEFAULTROUTE };

struct end {
	enum host_kind host_kind;
	ip_address host;             /* HOST_ADDRESS, or resolved %defaultroute */
	struct pluto_id id;          /* kind ID_NONE when not given */
	bool has_client;             /* a subnet behind this end */
	ip_subnet client;
	ip_address nexthop;          /* unset = not given */
	bool nexthop_direct;         /* %direct */
	uint16_t ikeport;
	const char *updown;          /* command line, or NULL */
	const char *rsasigkey;       /* public key text as given, or NULL */
	/* remote access (XAUTH, Mode Config; API.md section 1) */
	bool xauthclient;            /* this end proves a user with XAUTH after Main Mode */
	bool xauthserver;            /* this end asks the other for XAUTH credentials */
	const char *username;        /* XAUTH user name of a client end, or NULL */
	bool modecfgclient;          /* this end gets its inner address (and DNS) by Mode Config */
	bool modecfgserver;          /* this end hands them out */
	bool has_addresspool;        /* Xaddresspool=: the pool end X's address comes from */
	ip_address pool_first, pool_last;   /* inclusive range, one family */
};

/* xauthby=: how a server end checks XAUTH passwords */
enum xauthby { XAUTHBY_FILE, XAUTHBY_ALWAYSOK };

enum conn_policy {
	POLICY_PSK         = 1u << 0,
	POLICY_RSASIG      = 1u << 1,
	POLICY_ENCRYPT     = 1u << 2,   /* phase2=esp */
	POLICY_AUTHENTICATE= 1u << 3,   /* phase2=ah */
	POLICY_TUNNEL      = 1u << 4,
	POLICY_COMPRESS    = 1u << 5,
	POLICY_PFS         = 1u << 6,
	POLICY_DONT_REKEY  = 1u << 7,
};

/* AUTO_IGNORE (auto=ignore) only has a meaning in ipsec.conf(5): the loader
 * validates such a conn and never loads it; the control core refuses it. */
enum auto_action { AUTO_ADD, AUTO_ROUTE, AUTO_START, AUTO_IGNORE };

/* encapsulation= (NAT traversal, nat_traversal.h): auto = UDP-encapsulate
 * when NAT-D finds a NAT; yes = always (pretend a NAT); no = never (RFC
 * 3947 is not announced). */
enum encapsulation { ENCAPS_AUTO, ENCAPS_YES, ENCAPS_NO };
const char *encapsulation_name(enum encapsulation e);

/* dpdaction= (Dead Peer Detection, what each does: ikev1/dpd.h) */
enum dpd_action { DPD_ACTION_CLEAR, DPD_ACTION_HOLD, DPD_ACTION_RESTART };
const char *dpd_action_name(enum dpd_action a);

/* Everything the option vocabulary describes, parsed and validated. */
struct connection_config {
	struct end end[2];           /* [0] = left, [1] = right, as written */
	unsigned policy;             /* enum conn_policy bits */
	/* the texts are interned (common/intern.h): set them only through
	 * conn_options.c, which shares equal ones */
	const char *ike, *esp, *ah, *pfsgroup;   /* normalised proposal strings */
	/* their parsed tables, interned (common/intern.h): shared by every
	 * config with the same proposals, instances and their template
	 * among them; never NULL after a successful parse */
	const struct ike_proposals *ike_proposals;
	const struct esp_proposals *esp_proposals;
	const struct ah_proposals *ah_proposals;
	const struct alg *pfs_group; /* NULL: use the phase-1 group */
	unsigned long long ikelifetime, salifetime, rekeymargin;  /* seconds */
	unsigned rekeyfuzz;          /* percent */
	unsigned keyingtries;        /* 0 = forever */
	unsigned long long dpddelay, dpdtimeout;   /* seconds; dpddelay 0 = no DPD of our own (dpd.h) */
	unsigned dpdaction;          /* enum dpd_action */
	enum auto_action auto_action;
	enum encapsulation encapsulation;
	/* remote access: what a Mode Config server end sends, how it works */
	bool modecfgpull;            /* yes (default): the client asks; no: the server pushes */
	size_t n_modecfgdns;
	ip_address modecfgdns[4];    /* modecfgdns=a,b: INTERNAL_IP4_DNS / IP6_DNS */
	const char *modecfgdomains;  /* comma list as given (normalised: no spaces), or NULL */
	const char *modecfgbanner;   /* one line of text, or NULL */
	enum xauthby xauthby;
};

/* Parse and validate an option map (API.md section 1) into *cfg. On error
 * fills err (InvalidOption naming the keyword and value) and leaves *cfg
 * empty. keys/values are parallel arrays of n strings. */
int connection_config_parse(struct connection_config *cfg, const char *const *keys,
			    const char *const *values, size_t n, struct ctl_error *err);
/* The same, and on error *bad_index is the index of the keyword that failed
 * (unknown, given twice, bad value), or SIZE_MAX when the error spans
 * keywords (a required one missing, inconsistent options): ipsec.conf(5)
 * points its message at that keyword's line. */
int connection_config_parse_at(struct connection_config *cfg, const char *const *keys,
			       const char *const *values, size_t n, size_t *bad_index,
			       struct ctl_error *err);
/* The checks that span keywords (families of the ends, remote-access
 * roles, ...) on a config changed after its parse: 0, or -1 with
 * InvalidOption as the parse would say. */
int connection_config_check(const struct connection_config *cfg, struct ctl_error *err);
/* true when key is a keyword of the vocabulary ("also" is not: only the
 * ipsec.conf(5) loader knows it) */
bool connection_option_known(const char *key);
void connection_config_free(struct connection_config *cfg);
/* *to = a copy of from holding its own references to the interned texts
 * and tables: what a road-warrior instance starts from. */
void connection_config_copy(struct connection_config *to, const struct connection_config *from);
/* The encapsulation= keyword alone (its unit test calls it directly):
 * false with *why set for anything but auto, yes or no. */
bool conn_opt_encapsulation(struct connection_config *cfg, const char *v, const char **why);

/* The normalised option map of a parsed config (every keyword with its
 * effective value, defaults included); arrays of n malloc'd strings. */
void connection_config_normalise(const struct connection_config *cfg, size_t *n,
				 char ***keys, char ***values);

/* Every keyword the vocabulary accepts, the per-end ones spelt with
 * "left" and "right", in the table's order, each handed to fn. For
 * ipsecctl list-keywords and shell completion: they list this one table
 * instead of keeping a copy. */
void conn_option_keywords(void (*fn)(const char *keyword, void *ctx), void *ctx);
