/* The plugin's client side of pluto's D-Bus API (API.md section 2): the
 * calls it makes, each asynchronous on the plugin's one sd-bus connection,
 * and the reading of an ISAKMP State's properties. Nothing here knows
 * NetworkManager. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "nm-settings.h"

#define PLUTO_BUS_NAME     "org.freeswan.pluto1"
#define PLUTO_ROOT_PATH    "/org/freeswan/pluto1"
#define PLUTO_MANAGER_IF   "org.freeswan.pluto1.Manager"
#define PLUTO_CONNECTION_IF "org.freeswan.pluto1.Connection"
#define PLUTO_STATE_IF     "org.freeswan.pluto1.State"
#define PLUTO_ERROR_PREFIX "org.freeswan.pluto1.Error."
/* Progress code of a refused authentication (200 + the notification
 * AUTHENTICATION_FAILED, 24): whack's exit code for it */
#define PLUTO_RC_AUTHENTICATION_FAILED 224
/* Progress codes of Main Mode's states (100 + the state, whack's "new
 * state" lines): MI3 sent (the authenticated exchange), the ISAKMP SA up */
#define PLUTO_RC_MAIN_I3 106
#define PLUTO_RC_MAIN_I4 108

/* Initiate(true) returns when Main Mode, XAUTH, Mode Config and Quick Mode
 * are done or pluto gives up after one keying attempt (some 14 s of
 * retransmissions per exchange): well inside this. */
#define NMP_INITIATE_TIMEOUT_USEC (120ULL * 1000000ULL)

/* Each starts one call; cb gets the reply (an error reply too: see
 * sd_bus_message_get_error). The call's slot floats (owned by the bus).
 * 0 or a negative errno when the call could not even be sent. */
int nmp_pluto_set_secret(sd_bus *bus, const struct nmp_secret *s, sd_bus_message_handler_t cb, void *ud);
int nmp_pluto_delete_secret(sd_bus *bus, const struct nmp_secret *s, sd_bus_message_handler_t cb, void *ud);
int nmp_pluto_add_connection(sd_bus *bus, const struct nmp_request *req, sd_bus_message_handler_t cb,
			     void *ud);
int nmp_pluto_delete_connection(sd_bus *bus, const char *name, sd_bus_message_handler_t cb, void *ud);
int nmp_pluto_listen(sd_bus *bus, sd_bus_message_handler_t cb, void *ud);
int nmp_pluto_initiate(sd_bus *bus, const char *conn_path, sd_bus_message_handler_t cb, void *ud);
int nmp_pluto_get_state(sd_bus *bus, const char *state_path, sd_bus_message_handler_t cb, void *ud);

/* Progress(u code, s message) of one connection object */
int nmp_pluto_watch_progress(sd_bus *bus, sd_bus_slot **slot, const char *conn_path,
			     sd_bus_message_handler_t cb, void *ud);
/* PropertiesChanged of one connection object */
int nmp_pluto_watch_connection(sd_bus *bus, sd_bus_slot **slot, const char *conn_path,
			       sd_bus_message_handler_t cb, void *ud);
/* Get one property of a connection object ("o" ones: NewestIpsecState) */
int nmp_pluto_get_connection_property(sd_bus *bus, const char *conn_path, const char *property,
				      sd_bus_message_handler_t cb, void *ud);
/* NameOwnerChanged of a well-known name (pluto's, NetworkManager's) */
int nmp_watch_name_owner(sd_bus *bus, sd_bus_slot **slot, const char *name,
			 sd_bus_message_handler_t cb, void *ud);

/* The ISAKMP State's remote-access facts (GetAll of org.freeswan.pluto1.State) */
struct nmp_state_facts {
	char *kind;                /* "isakmp" / "ipsec" */
	char *peer_address;
	char *virtual_address;
	char *banner;
	char **dns, **domains, **split_include;   /* NULL-terminated */
};
int nmp_state_facts_read(sd_bus_message *getall_reply, struct nmp_state_facts *f);
void nmp_state_facts_free(struct nmp_state_facts *f);
size_t nmp_strv_len(char *const *v);

/* GetManagedObjects of pluto's root: every connection with its Options */
int nmp_pluto_get_managed_objects(sd_bus *bus, sd_bus_message_handler_t cb, void *ud);
/* In a GetManagedObjects reply: the name of another connection of this
 * plugin ("nm-..." but not self) that is an XAUTH client as user, or NULL
 * (malloc'd). pluto keeps one XAUTH password per user name, so it must stay
 * while such a connection is up. */
char *nmp_pluto_xauth_user_elsewhere(sd_bus_message *reply, const char *self, const char *user);

/* An error reply's name without pluto's prefix ("AuthenticationFailed"),
 * or the whole name for a bus error. */
const char *nmp_pluto_error_short(const sd_bus_error *e);
