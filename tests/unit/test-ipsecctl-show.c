/* ipsecctl status and show (clients/ipsecctl): the remote-access fields of
 * a state (user, virtual address, DNS, domains, banner) are shown when set
 * and leave the output of a plain state as it was. Fed with the JSON the
 * daemon's Varlink Status returns. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ipsecctl-show.h"
#include "ipsecctl-table.h"

static const char plain_state[] =
	"{\"serial\":1,\"connection\":\"gw\",\"kind\":\"isakmp\",\"name\":\"STATE_MAIN_I4\","
	"\"established\":true,\"initiator\":true,\"peerAddress\":\"192.0.2.2\",\"peerId\":\"@gw\","
	"\"algorithms\":\"aes128-sha1-modp2048\",\"inboundSpis\":[],\"outboundSpis\":[],"
	"\"expiresAt\":0,\"rekeyAt\":0,\"xauthUser\":\"\",\"virtualAddress\":\"\",\"dns\":[],"
	"\"domains\":[],\"banner\":\"\"}";
static const char ra_state[] =
	"{\"serial\":2,\"connection\":\"gw\",\"kind\":\"isakmp\",\"name\":\"STATE_MAIN_I4\","
	"\"established\":true,\"initiator\":true,\"peerAddress\":\"192.0.2.2\",\"peerId\":\"@gw\","
	"\"algorithms\":\"aes128-sha1-modp2048\",\"inboundSpis\":[],\"outboundSpis\":[],"
	"\"expiresAt\":0,\"rekeyAt\":0,\"xauthUser\":\"alice\",\"virtualAddress\":\"10.8.0.10/32\","
	"\"dns\":[\"10.1.0.53\",\"10.1.0.54\"],\"domains\":[\"corp.example\"],\"banner\":\"Welcome\"}";

static json_object *status_with(const char *const *states, size_t n)
{
	GString *s = g_string_new("{\"version\":\"x\",\"listening\":true,\"interfaces\":[],"
				  "\"kernelBackend\":\"netlink\",\"debugClasses\":[],"
				  "\"connections\":[{\"name\":\"gw\",\"options\":{\"left\":\"192.0.2.1\","
				  "\"right\":\"192.0.2.2\"},\"routing\":\"unrouted\",\"template\":false,"
				  "\"states\":[1,2],\"newestIsakmpState\":2,\"newestIpsecState\":0}],\"states\":[");
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i ? "," : "", states[i]);
	g_string_append(s, "]}");
	json_object *j = json_tokener_parse(s->str);
	g_assert_nonnull(j);
	g_string_free(s, TRUE);
	return j;
}

static char *status_text(json_object *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	print_status_tables(f, status);
	fclose(f);
	return buf;
}

static char *show_text(json_object *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *shown = show_collect(status, "gw");
	g_assert_nonnull(shown);
	show_print(f, shown, 0);
	json_object_put(shown);
	fclose(f);
	return buf;
}

static void test_plain(void)
{
	const char *states[] = { plain_state };
	json_object *status = status_with(states, 1);
	char *text = status_text(status);
	/* no remote-access column, no line */
	g_assert_null(strstr(text, "USER"));
	g_assert_null(strstr(text, "VIRTUAL"));
	g_assert_null(strstr(text, "DNS"));
	g_assert_nonnull(strstr(text, "PEER"));
	free(text);
	text = show_text(status);
	g_assert_null(strstr(text, "user:"));
	g_assert_null(strstr(text, "address:"));
	g_assert_null(strstr(text, "DNS:"));
	g_assert_nonnull(strstr(text, "peer:        192.0.2.2 (id @gw)"));
	free(text);
	json_object_put(status);
}

static void test_remote_access(void)
{
	const char *states[] = { plain_state, ra_state };
	json_object *status = status_with(states, 2);
	char *text = status_text(status);
	g_assert_nonnull(strstr(text, "USER"));
	g_assert_nonnull(strstr(text, "VIRTUAL"));
	g_assert_nonnull(strstr(text, "DNS"));
	g_assert_nonnull(strstr(text, "alice"));
	g_assert_nonnull(strstr(text, "10.8.0.10/32"));
	g_assert_nonnull(strstr(text, "10.1.0.53, 10.1.0.54"));
	/* the plain state's row: "-" in those columns */
	char *row1 = strstr(text, "#1 ");
	g_assert_nonnull(row1);
	char *eol = strchr(row1, '\n');
	g_assert_nonnull(eol);
	*eol = '\0';
	g_assert_nonnull(g_str_has_suffix(row1, "-") ? row1 : NULL);
	free(text);

	text = show_text(status);
	g_assert_nonnull(strstr(text, "      user:        alice\n"));
	g_assert_nonnull(strstr(text, "      address:     10.8.0.10/32\n"));
	g_assert_nonnull(strstr(text, "      DNS:         10.1.0.53, 10.1.0.54\n"));
	g_assert_nonnull(strstr(text, "      domains:     corp.example\n"));
	g_assert_nonnull(strstr(text, "      banner:      Welcome\n"));
	/* only once: the plain state has none */
	char *first = strstr(text, "user:");
	g_assert_null(strstr(first + 1, "user:"));
	free(text);
	json_object_put(status);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ipsecctl-show/plain", test_plain);
	g_test_add_func("/ipsecctl-show/remote-access", test_remote_access);
	return g_test_run();
}
