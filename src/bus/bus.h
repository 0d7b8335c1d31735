/* The two control front ends of the daemon: thin adapters over
 * daemon/control.h. main.c starts and stops them. */
#pragma once
#include <stddef.h>

#include "common/errors.h"

struct sd_event;

/* D-Bus: connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured),
 * registers the objects and takes the name org.freeswan.pluto1.
 * admin_gid: callers in this group may change state too (-1 = root only).
 * max_message: the biggest message the bus takes (0: dbus-daemon's
 * default, 32 MiB); bigger GetManagedObjects replies are refused. */
int dbus_start(struct sd_event *event, long admin_gid, size_t max_message, struct ctl_error *err);
void dbus_stop(void);
/* While the bus is lost (or not there yet) and retried with back-off:
 * what systemd's STATUS= adds ("; off the system bus, reconnecting");
 * "" otherwise. The hook is called whenever that changes. */
const char *dbus_status(void);
void dbus_set_status_hook(void (*changed)(void));

/* Varlink: serves org.freeswan.pluto and org.varlink.service on a unix
 * socket: listen_fd >= 0 is a socket passed by systemd (already bound and
 * listening), otherwise one is created at path (mode 0600, or 0660 with
 * group admin_gid). */
int varlink_start(struct sd_event *event, const char *path, int listen_fd, long admin_gid,
		  struct ctl_error *err);
void varlink_stop(void);
