/* The claim on the Varlink control socket's path: one pluto per path. */
#pragma once
#include <stdbool.h>

#include "common/errors.h"

/* Take PATH.lock (flock, held until varlink_unclaim or exit) and make sure
 * no live process answers on PATH. -1 with a message naming the socket
 * when another pluto (or anything else) owns it. Not for a socket systemd
 * passed: then pluto neither binds nor unlinks anything. */
int varlink_claim(const char *socket_path, struct ctl_error *err);
/* Write our pid into the lock file again (after the daemon fork). */
void varlink_claim_note_pid(void);
/* Remove the lock file and let go of it. */
void varlink_unclaim(void);
/* true when something accepts connections on the unix socket at path */
bool varlink_socket_answers(const char *socket_path);
