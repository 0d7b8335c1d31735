/* struct nmp_ipconfig -> the a{sv} of NetworkManager's Config, Ip4Config
 * and Ip6Config signals (the keys and types NM 1.42 reads in
 * src/core/vpn/nm-vpn-connection.c; libnm's nm-vpn-dbus-interface.h names
 * them). IPv4 addresses are "u" in network byte order (NM reads the
 * native u32 as the address bytes), IPv6 ones "ay". */
#pragma once
#include <systemd/sd-bus.h>

#include "nm-ipconfig.h"

/* Each appends one a{sv} to m; negative errno on failure. */
int nmp_emit_config(sd_bus_message *m, const struct nmp_ipconfig *c);
int nmp_emit_ip4(sd_bus_message *m, const struct nmp_ipconfig *c);
int nmp_emit_ip6(sd_bus_message *m, const struct nmp_ipconfig *c);
