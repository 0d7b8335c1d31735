/* Arbitrary bytes through the Varlink server's own framing, JSON parsing,
 * envelope and parameter validation and method dispatch (a client without
 * a socket: varlink_fuzz_feed), once as root and once as an unprivileged
 * caller. Whatever the input did to the daemon is undone after each run,
 * so LeakSanitizer sees every allocation freed. */
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/varlink-internal.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/secrets.h"
#include "daemon/state.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Listen must never open the host's IKE port: a private network
	 * namespace when we may make one, and in any case an interface list
	 * that matches nothing. */
	(void)unshare(CLONE_NEWNET);
	static const char *const no_iface[] = { "pluto-fuzz-none" };
	demux_set_interfaces(no_iface, 1);
	secrets_set_path("/nonexistent/pluto-fuzz/ipsec.secrets");
	log_init(LOG_TO_STDERR, "fuzz-varlink");
	return 0;
}

static void reset_daemon(void)
{
	connections_delete_all();
	states_delete_all();
	demux_unlisten();
	pubkeys_clear();
	secrets_clear();
	debug_global = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	varlink_fuzz_feed(data, size, true);
	reset_daemon();
	varlink_fuzz_feed(data, size, false);
	reset_daemon();
	return 0;
}
