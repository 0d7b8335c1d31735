#!/bin/bash
# SetSecret / DeleteSecret (API.md 2 and 3) between two plutos whose
# secrets files hold no PSK at all: a (namespace a, 198.51.100.1) gets its
# PSK over D-Bus with busctl, b (198.51.100.2) over Varlink spoken raw with
# socat. The tunnel comes up on those secrets alone; ReloadSecrets, a new
# Listen and (when pluto has --config) Reload do not drop them (a second
# negotiation after them works);
# bad requests are refused with InvalidOption, a plain user with
# AccessDenied; DeleteSecret on the responder makes the next negotiation
# fail with an authentication error (b falls back to a second, wrong,
# any-peer PSK it was also given, so the peer hears AUTHENTICATION_FAILED
# and its whack exits 224); deleting what is not there is UnknownName.
# Finally every output either daemon produced -- the stderr logs with
# --debug-all, whack --status, ipsecctl status --json, D-Bus Status,
# introspection and every property, the D-Bus signals, two Varlink Monitor
# streams, the error replies -- is searched for the secrets (as text and
# as hex): they must appear nowhere.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"

io_require_netns jq socat busctl gdbus dbus-daemon setpriv
io_side a pluto
io_side b pluto
io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"

DEST=org.freeswan.pluto1
ROOT=/org/freeswan/pluto1
MGR=org.freeswan.pluto1.Manager
PSK_GOOD="set-secret psk $$ Zq7"
PSK_WRONG="set-secret wrong $$ Xk2"
HOSTS=(left=198.51.100.1 right=198.51.100.2 authby=secret keyingtries=1)

# secrets files without any PSK: what the tunnel gets, it gets by the API
for s in a b; do
	mkdir -p "$T/$s"
	echo "# no PSK here: handed over by SetSecret" >"$T/$s/ipsec.secrets"
	chmod 600 "$T/$s/ipsec.secrets"
done

start_bus || { fail "private bus started"; io_finish; }
BUS=$DBUS_SYSTEM_BUS_ADDRESS
BUSCTL=(busctl --address="$BUS")
mgr_call() { "${BUSCTL[@]}" call "$DEST" "$ROOT" "$MGR" "$@" 2>&1; }
# gdbus prints the error NAME ("GDBus.Error:<name>: <message>")
gdbus_call() { gdbus call --system --dest "$DEST" --object-path "$ROOT" --method "$MGR.$1" "${@:2}" 2>&1; }
error_name() { sed -n 's/.*GDBus\.Error:\([^:]*\): .*/\1/p' <<<"$1"; }

# With start-up from a configuration file (pluto --config), each side
# gets one without connections, so Reload (file and secrets) is tried too.
for s in a b; do echo "# no connections: they come over the API" >"$T/$s/ipsec.conf"; done
conf_of() { echo "--config $T/$1/ipsec.conf"; }

# b: Varlink only; a: on the bus. Both with every debug class.
# shellcheck disable=SC2046 # conf_of: none or two words
pluto_launch b --nodbus --kernel none --debug-all $(conf_of b) || { fail "pluto b started"; io_finish; }
# shellcheck disable=SC2046
pluto_launch a --kernel none --debug-all $(conf_of a) || { fail "pluto a started"; io_finish; }
wait_for 10 "${BUSCTL[@]}" status "$DEST" >/dev/null || fail "pluto a owns $DEST"

# everything both daemons announce from now on
gdbus monitor --system --dest "$DEST" >"$T/dbus-signals.out" 2>&1 &
_pids+=($!)
for s in a b; do
	pluto_ctl "$s" monitor --json >"$T/$s-monitor.out" 2>&1 &
	_pids+=($!)
done
wait_for 10 grep -q "is owned by" "$T/dbus-signals.out" || fail "gdbus monitor started"
wait_for 10 grep -q '"Monitor"' "$T/a-monitor.out" || fail "Varlink Monitor on a started"
wait_for 10 grep -q '"Monitor"' "$T/b-monitor.out" || fail "Varlink Monitor on b started"

# vl_b JSON: one request to b over socat; the reply, NUL stripped
vl_b() { printf '%s\0' "$1" | socat -t 5 - "UNIX-CONNECT:$(pluto_sock b)" | tr -d '\0'; }
vl_set_b() {   # vl_set_b KIND IDS-JSON SECRET
	vl_b "$(jq -cn --arg k "$1" --argjson i "$2" --arg s "$3" \
		'{method: "org.freeswan.pluto.SetSecret", parameters: {kind: $k, ids: $i, secret: $s}}')"
}
vl_delete_b() { vl_b "$(jq -cn --arg k "$1" --argjson i "$2" '{method: "org.freeswan.pluto.DeleteSecret", parameters: {kind: $k, ids: $i}}')"; }
up() { status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate; }
# shellcheck disable=SC2317 # called through check and wait_for
both_established() {
	pluto_states_are a "STATE_MAIN_I4:true STATE_QUICK_I2:true" &&
		pluto_states_are b "STATE_MAIN_R3:true STATE_QUICK_R2:true"
}
# every reply and output that could leak, kept for the final search
keep() { cat >>"$T/outputs.out"; }

# --- the interfaces: both methods on D-Bus and in the Varlink IDL ---
intro=$("${BUSCTL[@]}" introspect "$DEST" "$ROOT" "$MGR" 2>&1)
check_eq "D-Bus SetSecret takes (s kind, as ids, s secret)" "sass" \
	"$(awk '$1 == ".SetSecret" {print $3}' <<<"$intro")"
check_eq "D-Bus DeleteSecret takes (s kind, as ids)" "sas" \
	"$(awk '$1 == ".DeleteSecret" {print $3}' <<<"$intro")"
idl=$(vl_b '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.freeswan.pluto"}}' | jq -r .parameters.description)
check_contains "the IDL has SetSecret" "method SetSecret(kind: string, ids: []string, secret: string) -> ()" "$idl"
check_contains "the IDL has DeleteSecret" "method DeleteSecret(kind: string, ids: []string) -> ()" "$idl"

# --- bad requests: InvalidOption naming what, nothing stored ---
out=$(gdbus_call SetSecret "'pks'" "['198.51.100.1']" "'$PSK_GOOD'")
keep <<<"$out"
check_eq "D-Bus: unknown kind is InvalidOption" "org.freeswan.pluto1.Error.InvalidOption" "$(error_name "$out")"
check_contains "D-Bus: the error names the kind" 'unknown secret kind "pks"' "$out"
out=$(gdbus_call SetSecret "'psk'" "['not an id!']" "'$PSK_GOOD'")
keep <<<"$out"
check_eq "D-Bus: a bad id is InvalidOption" "org.freeswan.pluto1.Error.InvalidOption" "$(error_name "$out")"
check_contains "D-Bus: the error names the id" 'bad id "not an id!"' "$out"
out=$(gdbus_call SetSecret "'psk'" "['198.51.100.1']" "''")
keep <<<"$out"
check_contains "D-Bus: an empty secret is refused" "the secret is empty" "$out"
out=$(vl_set_b xauth '[]' "$PSK_GOOD")
keep <<<"$out"
check_eq "Varlink: xauth without a user is InvalidOption" "org.freeswan.pluto.InvalidOption" "$(jq -r .error <<<"$out")"
out=$(vl_b '{"method":"org.freeswan.pluto.SetSecret","parameters":{"kind":"psk","ids":["198.51.100.1"]}}')
check_eq "Varlink: a missing secret is InvalidParameter secret" "org.varlink.service.InvalidParameter secret" \
	"$(jq -r '"\(.error) \(.parameters.parameter)"' <<<"$out")"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	gdbus call --system --dest "$DEST" --object-path "$ROOT" --method "$MGR.SetSecret" "'psk'" "['198.51.100.1']" "'$PSK_WRONG'" 2>&1)
check_eq "D-Bus: a plain user gets AccessDenied" "org.freedesktop.DBus.Error.AccessDenied" "$(error_name "$out")"

# --- hand the PSK over: a by busctl, b by Varlink (with the ids the other
# way round: a pair entry matches in either order) ---
check_eq "D-Bus SetSecret on a succeeds" "" "$(mgr_call SetSecret sass psk 2 198.51.100.1 198.51.100.2 "$PSK_GOOD")"
out=$(vl_set_b psk '["198.51.100.2","198.51.100.1"]' "$PSK_GOOD")
check_eq "Varlink SetSecret on b succeeds" '{"parameters":{}}' "$(jq -c . <<<"$out")"
# b also gets a wrong catch-all PSK: after DeleteSecret of the right one,
# b answers with it, which is what an authentication failure looks like
out=$(vl_set_b psk '["%any"]' "$PSK_WRONG")
check_eq "Varlink SetSecret of a %any PSK on b succeeds" '{"parameters":{}}' "$(jq -c . <<<"$out")"
check_contains "a logs the kind and the ids" "stored the psk for 198.51.100.1 198.51.100.2 secret" "$(cat "$(pluto_log a)")"
check_contains "b logs the kind and the ids" "stored the psk for 198.51.100.2 198.51.100.1 secret" "$(cat "$(pluto_log b)")"

pluto_ctl a add c "${HOSTS[@]}" >/dev/null || fail "a: connection c added"
pluto_ctl b add c "${HOSTS[@]}" >/dev/null || fail "b: connection c added"

# --- the tunnel comes up on the API secrets alone ---
check_eq "first negotiation: whack --initiate exits 0" 0 "$(up)"
wait_for 5 both_established
check "first negotiation: both sides established" both_established

# --- ReloadSecrets (both doors) and a new Listen keep them ---
check_eq "a: ReloadSecrets over D-Bus" "" "$(mgr_call ReloadSecrets)"
out=$(vl_b '{"method":"org.freeswan.pluto.ReloadSecrets"}')
check_eq "b: ReloadSecrets over Varlink" '{"parameters":{}}' "$(jq -c . <<<"$out")"
check_contains "a's reload says the API secret is kept" "(1 more set by SetSecret, kept)" "$(cat "$(pluto_log a)")"
pluto_ctl a listen >/dev/null || fail "a: Listen again"
pluto_ctl b secrets reload >/dev/null || fail "b: ipsecctl secrets reload"
# Reload re-reads file and secrets: SetSecret's entries stay
check_eq "a: Reload over D-Bus" "asasas 0 0 0" "$(mgr_call Reload)"
out=$(vl_b '{"method":"org.freeswan.pluto.Reload"}')
check_eq "b: Reload over Varlink" '{"added":[],"changed":[],"removed":[]}' "$(jq -c .parameters <<<"$out")"
pluto_ctl a down c >/dev/null
pluto_ctl b down c >/dev/null
wait_for 5 pluto_states_are a "" && wait_for 5 pluto_states_are b ""
check_eq "after the reloads no states are left" ":" "$(pluto_states a):$(pluto_states b)"
check_eq "second negotiation after the reloads: whack --initiate exits 0" 0 "$(up)"
wait_for 5 both_established
check "second negotiation: both sides established" both_established

# --- status, properties, Status: captured while the SAs are up ---
"$WHACK" --ctlbase "$(pluto_sock a)" --status 2>&1 | keep
"$WHACK" --ctlbase "$(pluto_sock b)" --status 2>&1 | keep
pluto_ctl a status --json 2>&1 | keep
pluto_ctl b status --json 2>&1 | keep
mgr_call Status | keep
"${BUSCTL[@]}" tree "$DEST" 2>&1 | keep
for path in $("${BUSCTL[@]}" --list tree "$DEST" 2>/dev/null); do
	"${BUSCTL[@]}" introspect "$DEST" "$path" 2>&1 | keep
done
"${BUSCTL[@]}" call "$DEST" "$ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1 | keep
check "the captured outputs show the connection (the capture worked)" grep -q '"c"' "$T/outputs.out"

# --- DeleteSecret ---
out=$(vl_delete_b psk '["198.51.100.2"]')
keep <<<"$out"
check_eq "Varlink: DeleteSecret of ids never set is UnknownName" "org.freeswan.pluto.UnknownName" "$(jq -r .error <<<"$out")"
out=$(gdbus_call DeleteSecret "'xauth'" "['198.51.100.1', '198.51.100.2']")
keep <<<"$out"
check_eq "D-Bus: DeleteSecret of another kind is UnknownName" "org.freeswan.pluto1.Error.UnknownName" "$(error_name "$out")"
out=$(vl_delete_b psk '["198.51.100.1","198.51.100.2"]')
check_eq "Varlink DeleteSecret on b (the ids in the other order) succeeds" '{"parameters":{}}' "$(jq -c . <<<"$out")"
check_contains "b logs the deletion" "deleted the psk for 198.51.100.1 198.51.100.2 secret" "$(cat "$(pluto_log b)")"
pluto_ctl a down c >/dev/null
pluto_ctl b down c >/dev/null
wait_for 5 pluto_states_are a "" && wait_for 5 pluto_states_are b ""
rc=$(up)
keep <"$T/last.out"
check_eq "after DeleteSecret: whack exits 224 (AUTHENTICATION_FAILED)" 224 "$rc"
check_contains "after DeleteSecret: the initiator hears AUTHENTICATION_FAILED" "224 " "$(cat "$T/last.out")"
check_eq "after DeleteSecret: nothing established on a" "" "$(pluto_ctl a status --json | jq -r '.states[] | select(.established) | .name')"
check_eq "D-Bus DeleteSecret on a succeeds" "" "$(mgr_call DeleteSecret sas psk 2 198.51.100.2 198.51.100.1)"
out=$(gdbus_call DeleteSecret "'psk'" "['198.51.100.2', '198.51.100.1']")
check_eq "D-Bus: deleting it again is UnknownName" "org.freeswan.pluto1.Error.UnknownName" "$(error_name "$out")"
out=$(pluto_ctl a up c 2>&1)
keep <<<"$out"
check_contains "without a PSK a refuses to initiate (NoKey)" "NoKey" "$out"

# --- ipsecctl: the secret from stdin, never from the command line ---
out=$(printf '%s\n' "$PSK_GOOD" | pluto_ctl b secrets set psk 198.51.100.1 198.51.100.2 2>&1)
check_eq "ipsecctl secrets set reads the secret from stdin" "" "$out"
out=$(pluto_ctl b secrets set psk 198.51.100.9 </dev/null 2>&1)
check_contains "ipsecctl secrets set with nothing on stdin is refused" "no secret given" "$out"
out=$(pluto_ctl b secrets delete psk 198.51.100.2 198.51.100.1 2>&1)
check_eq "ipsecctl secrets delete" "" "$out"
# on a terminal (script(1) gives it one): a prompt, and no echo of what is
# typed (typed a second later, after the prompt, as a person would)
if command -v script >/dev/null; then
	(sleep 1; printf '%s\n' "$PSK_GOOD") |
		script -qfec "$IPSECCTL --socket $(pluto_sock b) secrets set psk 198.51.100.1 198.51.100.2" \
			/dev/null >"$T/tty.out" 2>&1
	check_contains "ipsecctl secrets set on a terminal prompts" "Secret: " "$(cat "$T/tty.out")"
	check_eq "the typed secret was stored (delete finds it)" "" \
		"$(pluto_ctl b secrets delete psk 198.51.100.2 198.51.100.1 2>&1)"
else
	fail "script(1) (util-linux) is installed, for the terminal prompt"
fi
out=$(pluto_ctl b secrets delete psk 198.51.100.2 198.51.100.1 2>&1)
check_contains "ipsecctl secrets delete again: UnknownName" "UnknownName" "$out"

# --- nothing anywhere shows a secret ---
io_stop_all
sleep 0.5   # the monitors read the last events
hex_of() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
files=("$T"/*.log "$T"/*.out "$T"/*/*.out)
for which in PSK_GOOD PSK_WRONG; do
	secret=${!which}
	check_eq "no output contains $which as text" "" \
		"$(grep -lF -- "$secret" "${files[@]}" 2>/dev/null)"
	check_eq "no output contains $which in hex" 0 \
		"$(cat "${files[@]}" 2>/dev/null | tr -d ' :|\n' | tr 'A-F' 'a-f' | grep -cF -- "$(hex_of "$secret")")"
done
check "the logs were searched (a's log has the debug lines)" grep -q '^| ' "$(pluto_log a)"
check "the Monitor streams were searched (b's saw the states)" grep -q stateAdded "$T/b-monitor.out"
check "the D-Bus signals were searched" grep -q PropertiesChanged "$T/dbus-signals.out"
done_testing
