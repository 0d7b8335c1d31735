/* The object NetworkManager drives: /org/freedesktop/NetworkManager/VPN/Plugin
 * with org.freedesktop.NetworkManager.VPN.Plugin (methods NeedSecrets,
 * Connect, ConnectInteractive, NewSecrets, Disconnect, SetConfig,
 * SetIp4Config, SetIp6Config, SetFailure; signals StateChanged, Config,
 * Ip4Config, Ip6Config, LoginBanner, Failure, SecretsRequired; property
 * State), and the state machine behind it that drives pluto (nm-pluto.h).
 *
 * One process serves one VPN activation (NM starts one per connection with
 * --bus-name <service>.Connection_<N>). It exits after the connection is
 * stopped, when NetworkManager leaves the bus, on SIGTERM/SIGINT, or when
 * nobody asks it to connect; each time it first deletes the connection
 * and the secrets it gave pluto. */
#pragma once
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

struct nmp_plugin;

/* Export the object on bus (not yet owning a name). NULL on failure. */
struct nmp_plugin *nmp_plugin_new(sd_bus *bus, sd_event *event, const char *bus_name);
/* Clean up in pluto, then leave the event loop (exit code 0). */
void nmp_plugin_quit(struct nmp_plugin *p, const char *why);
void nmp_plugin_free(struct nmp_plugin *p);
