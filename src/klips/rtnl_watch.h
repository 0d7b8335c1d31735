/* The host's links and addresses from rtnetlink: one dump when started,
 * then the kernel's announcements (RTMGRP_LINK, RTMGRP_IPV4_IFADDR,
 * RTMGRP_IPV6_IFADDR) on a socket watched by the event loop keep the
 * table of common/ifaddr.h current, so that orientation and the updown
 * environment never call getifaddrs per handshake. A lost announcement
 * (the socket's buffer overran) is repaired by dumping again. */
#pragma once
#include <systemd/sd-event.h>

/* 0, or -errno when rtnetlink cannot be used (then ifaddr.c keeps asking
 * getifaddrs, as before). */
int rtnl_watch_start(sd_event *event);
void rtnl_watch_stop(void);
