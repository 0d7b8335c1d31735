/* whack's command line: the FreeS/WAN 1.x flags (ipsec_pluto(8)) parsed by
 * one option table into a whack_request, then checked as a whole. Kept
 * apart from the Varlink side so it can be unit-tested. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The per-end part of a connection description: before --to is "left",
 * after it "right". */
struct whack_end {
	const char *host, *id, *client, *nexthop, *ikeport, *updown;
};

#define WHACK_MAX_DEBUG 32
#define WHACK_MAX_CONN_OPTIONS 32

struct whack_request {
	/* all forms */
	const char *ctlbase, *label, *name;
	bool help, version;

	/* connection description */
	bool has_conn;          /* some connection-description flag was given */
	bool seen_to;
	struct whack_end ends[2];
	bool psk, rsasig, encrypt, authenticate, compress, tunnel, pfs, dontrekey;
	bool ipv4, ipv6, tunnelipv4, tunnelipv6;
	const char *ikelifetime, *ipseclifetime, *rekeymargin, *rekeyfuzz, *keyingtries;
	const char *dpddelay, *dpdtimeout, *dpdaction;

	/* public key */
	const char *keyid, *pubkeyrsa;
	bool addkey;

	/* actions */
	bool delete_conn, route, unroute, initiate, asynchronous, terminate;
	bool listen, unlisten, status, shutdown;
	bool has_deletestate;
	unsigned deletestate;

	/* --debug-*, in the order given ("none", "all", class names) */
	const char *debug[WHACK_MAX_DEBUG];
	size_t n_debug;

	/* storage owned by the request (words read by --optionsfrom) */
	char **owned;
	size_t n_owned;
	char fuzzbuf[32];
};

/* Parse argv[1..argc-1]. Returns 0, or -1 with a message (without the
 * "whack error:" prefix) in err. */
int whack_parse(int argc, char **argv, struct whack_request *req, char *err, size_t errlen);

/* The AddConnection options (API.md section 1 keywords) the connection
 * description stands for; returns how many pairs were stored. */
size_t whack_connection_options(struct whack_request *req, const char *keys[],
				const char *values[], size_t max);

void whack_request_free(struct whack_request *req);

/* The usage text of --help */
extern const char whack_usage[];
