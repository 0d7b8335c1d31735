#!/bin/bash
# The D-Bus API of API.md section 2, driven by busctl against a private
# dbus-daemon that loads data/dbus-1/org.freeswan.pluto1.conf as shipped:
# every Manager and Connection method, their error names, every property
# with its type, GetManagedObjects, introspection, the signals (watched with
# gdbus monitor: the test bus, like the real one, lets no one eavesdrop, and
# busctl monitor needs BecomeMonitor) and access control for a plain user.
#
# busctl prints only the message of an error reply, so the error NAME is
# read from gdbus, which prints "GDBus.Error:<name>: <message>".
source "$SRCDIR/tests/lib/common.sh"

for tool in dbus-daemon busctl gdbus setpriv unshare openssl; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done

start_bus || { fail "private bus started"; done_testing; }
start_pluto || { fail "pluto started"; done_testing; }
ok "pluto owns org.freeswan.pluto1 on the private bus"

DEST=org.freeswan.pluto1
ROOT=/org/freeswan/pluto1
MGR=org.freeswan.pluto1.Manager
CONN=org.freeswan.pluto1.Connection
BUSCTL=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS")
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# Signals: everything pluto emits, one line each, from now on.
gdbus monitor --system --dest "$DEST" >"$T/monitor.log" 2>&1 &
_pids+=($!)
wait_for 10 grep -q "is owned by" "$T/monitor.log" || fail "gdbus monitor started"

prop()     { "${BUSCTL[@]}" get-property "$DEST" "$1" "$2" "$3" 2>&1; }
mgr_prop() { prop "$ROOT" "$MGR" "$1"; }
mgr_call() { "${BUSCTL[@]}" call "$DEST" "$ROOT" "$MGR" "$@" 2>&1; }
# error_of PATH INTERFACE.METHOD [GDBUS ARGS...]: the error name of the reply
error_of() {
	local path=$1 method=$2; shift 2
	gdbus call --system --dest "$DEST" --object-path "$path" --method "$method" "$@" 2>&1 |
		sed -n 's/.*GDBus\.Error:\([^:]*\): .*/\1/p'
}
# monitor_has TEXT: wait until the monitor saw a line containing TEXT
monitor_has() { wait_for 5 grep -qF -- "$1" "$T/monitor.log"; }

# --- Manager properties, with their types ---
check_eq "Version is s" "s \"$("$PLUTO" --version | sed 's/^pluto //')\"" "$(mgr_prop Version)"
check_eq "Listening is b, false at start" "b false" "$(mgr_prop Listening)"
check_eq "Interfaces is as, empty before Listen" "as 0" "$(mgr_prop Interfaces)"
check_eq "KernelBackend is s" 's "none"' "$(mgr_prop KernelBackend)"
check_eq "DebugClasses is as, empty" "as 0" "$(mgr_prop DebugClasses)"

# --- introspection ---
intro=$("${BUSCTL[@]}" introspect "$DEST" "$ROOT" 2>&1)
for m in AddConnection DeleteConnection Listen Unlisten AddPublicKey ReloadSecrets SetDebug Status Shutdown; do
	check_contains "Manager introspection lists $m" ".$m " "$intro"
done
check_contains "AddConnection takes sa{ss} and returns o" \
	"$(printf '%s' "$intro" | grep -m1 '^\.AddConnection' | awk '{print $3, $4}')" "sa{ss} o"
check_contains "the root object is an ObjectManager" "org.freedesktop.DBus.ObjectManager" "$intro"
check_eq "Status returns s" "s" "$(printf '%s' "$intro" | grep -m1 '^\.Status' | awk '{print $4}')"

# --- AddConnection: the API.md example, literally (busctl finds the bus
# through DBUS_SYSTEM_BUS_ADDRESS, as it would find the real system bus) ---
out=$(busctl call org.freeswan.pluto1 /org/freeswan/pluto1 org.freeswan.pluto1.Manager AddConnection 'sa{ss}' west 4 left 127.0.0.1 right 192.0.2.2 authby secret auto add 2>&1)
check_eq "AddConnection returns the connection's object path" 'o "/org/freeswan/pluto1/connection/west"' "$out"
WEST=/org/freeswan/pluto1/connection/west
check "InterfacesAdded for the new connection" monitor_has "InterfacesAdded (objectpath '$WEST'"
check "InterfacesAdded carries the Connection properties" \
	monitor_has "'org.freeswan.pluto1.Connection': {'Name': <'west'>, 'Options': <{"
check "Progress signal for the added connection" \
	monitor_has "$WEST: org.freeswan.pluto1.Connection.Progress (uint32 2, '\"west\": added connection description"

# a name that needs escaping in an object path
out=$(mgr_call AddConnection 'sa{ss}' "road-1.x" 2 left 127.0.0.1 right %any)
check_eq "a name with - and . is encoded by sd_bus_path_encode" \
	'o "/org/freeswan/pluto1/connection/road_2d1_2ex"' "$out"
ROAD=/org/freeswan/pluto1/connection/road_2d1_2ex

# --- Connection properties, with their types ---
check_eq "Name is s" 's "west"' "$(prop $WEST $CONN Name)"
opts=$(prop $WEST $CONN Options)
check_contains "Options is a{ss} with the given keywords" '"left" "127.0.0.1"' "$opts"
check_contains "Options is normalised (defaults filled in)" '"keyingtries" "3"' "$opts"
check_contains "Options has the a{ss} type" 'a{ss} ' "$opts"
check_eq "Routing is s, unrouted" 's "unrouted"' "$(prop $WEST $CONN Routing)"
check_eq "Source is s, api for a connection added over D-Bus" 's "api"' "$(prop $WEST $CONN Source)"
check_eq "Template is b, false with a known peer" "b false" "$(prop $WEST $CONN Template)"
check_eq "Template is true for a %any peer" "b true" "$(prop $ROAD $CONN Template)"
check_eq "States is ao, empty" "ao 0" "$(prop $WEST $CONN States)"
check_eq "NewestIsakmpState is o, / when none" 'o "/"' "$(prop $WEST $CONN NewestIsakmpState)"
check_eq "NewestIpsecState is o, / when none" 'o "/"' "$(prop $WEST $CONN NewestIpsecState)"

cintro=$("${BUSCTL[@]}" introspect "$DEST" $WEST 2>&1)
for m in Route Unroute Initiate Terminate Delete SetDebug; do
	check_contains "Connection introspection lists $m" ".$m " "$cintro"
done
check_contains "Initiate takes b and returns ao" "b         ao" "$(printf '%s' "$cintro" | grep -m1 '^\.Initiate')"
check_contains "Connection introspection lists the Progress signal (us)" "us" \
	"$(printf '%s' "$cintro" | grep -m1 '^\.Progress')"

# --- GetManagedObjects ---
objs=$("${BUSCTL[@]}" call "$DEST" "$ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)
check_contains "GetManagedObjects lists west" "\"$WEST\"" "$objs"
check_contains "GetManagedObjects lists road-1.x" "\"$ROAD\"" "$objs"
check_contains "GetManagedObjects gives the Connection properties" '"Routing" s "unrouted"' "$objs"

# --- errors, by name ---
check_eq "AddConnection of an existing name: DuplicateName" "org.freeswan.pluto1.Error.DuplicateName" \
	"$(error_of $ROOT $MGR.AddConnection west "{'left': '127.0.0.1', 'right': '192.0.2.3'}")"
check_fails "busctl AddConnection of an existing name fails" \
	busctl call org.freeswan.pluto1 /org/freeswan/pluto1 org.freeswan.pluto1.Manager AddConnection 'sa{ss}' west 2 left 127.0.0.1 right 192.0.2.3
check_contains "busctl shows the DuplicateName message" 'redefine connection "west"' "$(cat "$T/last.out")"
check_eq "DeleteConnection of an unknown name: UnknownName" "org.freeswan.pluto1.Error.UnknownName" \
	"$(error_of $ROOT $MGR.DeleteConnection nosuch)"
check_fails "busctl DeleteConnection nosuch fails" "${BUSCTL[@]}" call $DEST $ROOT $MGR DeleteConnection s nosuch
check_contains "the UnknownName message names the connection" '"nosuch"' "$(cat "$T/last.out")"
out=$(gdbus call --system --dest $DEST --object-path $ROOT --method $MGR.AddConnection bad \
	"{'left': '127.0.0.1', 'right': '192.0.2.2', 'colour': 'blue'}" 2>&1)
check_contains "an unknown keyword: InvalidOption" "GDBus.Error:org.freeswan.pluto1.Error.InvalidOption" "$out"
check_contains "the InvalidOption message names the keyword" "colour" "$out"
out=$(gdbus call --system --dest $DEST --object-path $ROOT --method $MGR.AddConnection bad \
	"{'left': '127.0.0.1', 'right': '192.0.2.2', 'pfs': 'maybe'}" 2>&1)
check_contains "a bad value: InvalidOption" "GDBus.Error:org.freeswan.pluto1.Error.InvalidOption" "$out"
check_contains "the InvalidOption message names keyword and value" "pfs" "$out"
check_contains "... and the value" "maybe" "$out"
check_eq "neither end local: CannotOrient" "org.freeswan.pluto1.Error.CannotOrient" \
	"$(error_of $ROOT $MGR.AddConnection far "{'left': '192.0.2.1', 'right': '192.0.2.2'}")"
check_fails "nothing was half-added: no object for the rejected connection" "${BUSCTL[@]}" get-property $DEST \
	/org/freeswan/pluto1/connection/bad $CONN Name

check_eq "Initiate before Listen: NotListening" "org.freeswan.pluto1.Error.NotListening" \
	"$(error_of $WEST $CONN.Initiate false)"
check_fails "busctl Initiate before Listen fails" "${BUSCTL[@]}" call $DEST $WEST $CONN Initiate b false
check_contains "the NotListening message says --listen" "listen" "$(cat "$T/last.out")"
check_eq "Route of a template: CannotRoute" "org.freeswan.pluto1.Error.CannotRoute" \
	"$(error_of $ROAD $CONN.Route)"
check_eq "Initiate(true) before Listen: NotListening too" \
	"org.freeswan.pluto1.Error.NotListening" "$(error_of $ROAD $CONN.Initiate true)"

# --- Listen / Unlisten ---
check "Listen" "${BUSCTL[@]}" call $DEST $ROOT $MGR Listen
check_eq "Listening is true after Listen" "b true" "$(mgr_prop Listening)"
check_contains "Interfaces lists lo" '"lo/127.0.0.1:500"' "$(mgr_prop Interfaces)"
# (coalesced: Listening and Interfaces may come in one PropertiesChanged)
check "PropertiesChanged for Listening after Listen" \
	monitor_has "$ROOT: org.freedesktop.DBus.Properties.PropertiesChanged ('org.freeswan.pluto1.Manager', {'Listening': <true>"
check "PropertiesChanged for Interfaces after Listen" \
	monitor_has "'Interfaces': <['lo/"

# the secrets file has no PSK for these ids: refused at once with NoKey
check_eq "Initiate(false) after Listen without a secret: NoKey" \
	"org.freeswan.pluto1.Error.NoKey" "$(error_of $WEST $CONN.Initiate false)"
check_eq "Initiate(true) after Listen without a secret: NoKey" \
	"org.freeswan.pluto1.Error.NoKey" "$(error_of $WEST $CONN.Initiate true)"
check_fails "busctl Initiate b true fails" "${BUSCTL[@]}" call $DEST $WEST $CONN Initiate b true
check_contains "the NoKey message says why" "no preshared key" "$(cat "$T/last.out")"
check "a Progress signal (LOG_SERIOUS, 3) says why the initiate failed" \
	monitor_has "$WEST: org.freeswan.pluto1.Connection.Progress (uint32 3, \"\\\"west\\\": cannot initiate: no preshared key"
check_eq "Initiate of a %any peer: NoPeerAddress" "org.freeswan.pluto1.Error.NoPeerAddress" \
	"$(error_of $ROAD $CONN.Initiate false)"

check "Unlisten" "${BUSCTL[@]}" call $DEST $ROOT $MGR Unlisten
check_eq "Listening is false after Unlisten" "b false" "$(mgr_prop Listening)"
check "PropertiesChanged for Listening after Unlisten" monitor_has "{'Listening': <false>"

# --- Route / Unroute ---
check "Route" "${BUSCTL[@]}" call $DEST $WEST $CONN Route
check_eq "Routing is prospective after Route" 's "prospective"' "$(prop $WEST $CONN Routing)"
check "PropertiesChanged for Routing after Route" \
	monitor_has "$WEST: org.freedesktop.DBus.Properties.PropertiesChanged ('org.freeswan.pluto1.Connection', {'Routing': <'prospective'>}"
check "Progress signal for Route" monitor_has "Progress (uint32 2, '\"west\": routed"
check "Unroute" "${BUSCTL[@]}" call $DEST $WEST $CONN Unroute
check_eq "Routing is unrouted after Unroute" 's "unrouted"' "$(prop $WEST $CONN Routing)"
check "PropertiesChanged for Routing after Unroute" monitor_has "{'Routing': <'unrouted'>}"
check "Terminate" "${BUSCTL[@]}" call $DEST $WEST $CONN Terminate

# --- SetDebug ---
check "Manager.SetDebug control" "${BUSCTL[@]}" call $DEST $ROOT $MGR SetDebug as 2 control klips
check_eq "DebugClasses follows" 'as 2 "control" "klips"' "$(mgr_prop DebugClasses)"
check "PropertiesChanged for DebugClasses" monitor_has "{'DebugClasses': <['control', 'klips']>}"
check_eq "SetDebug of an unknown class: InvalidOption" "org.freeswan.pluto1.Error.InvalidOption" \
	"$(error_of $ROOT $MGR.SetDebug "['bogus']")"
check_eq "a rejected SetDebug changes nothing" 'as 2 "control" "klips"' "$(mgr_prop DebugClasses)"
check "Manager.SetDebug none" "${BUSCTL[@]}" call $DEST $ROOT $MGR SetDebug as 1 none
check_eq "DebugClasses empty after none" "as 0" "$(mgr_prop DebugClasses)"
check "Connection.SetDebug all" "${BUSCTL[@]}" call $DEST $WEST $CONN SetDebug as 1 all
check_eq "Connection.SetDebug of an unknown class: InvalidOption" "org.freeswan.pluto1.Error.InvalidOption" \
	"$(error_of $WEST $CONN.SetDebug "['bogus']")"
check_eq "Connection.SetDebug leaves the global classes alone" "as 0" "$(mgr_prop DebugClasses)"

# --- AddPublicKey / ReloadSecrets ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key.pem" 2>/dev/null
openssl pkey -in "$T/key.pem" -pubout -out "$T/pub.pem" 2>/dev/null
check "AddPublicKey with a PEM file" "${BUSCTL[@]}" call $DEST $ROOT $MGR AddPublicKey ss @west.example "%file:$T/pub.pem"
check_eq "AddPublicKey with a bad id: BadId" "org.freeswan.pluto1.Error.BadId" \
	"$(error_of $ROOT $MGR.AddPublicKey '' "%file:$T/pub.pem")"
check_eq "AddPublicKey with a bad key: InvalidOption" "org.freeswan.pluto1.Error.InvalidOption" \
	"$(error_of $ROOT $MGR.AddPublicKey @west.example 0sgarbage)"
printf '127.0.0.1 192.0.2.2 : PSK "not-for-your-eyes"\n' >"$T/ipsec.secrets"
check "ReloadSecrets" "${BUSCTL[@]}" call $DEST $ROOT $MGR ReloadSecrets
printf 'this is : not a secrets file {\n' >"$T/ipsec.secrets"
check_fails "ReloadSecrets of a broken file fails" "${BUSCTL[@]}" call $DEST $ROOT $MGR ReloadSecrets
printf '127.0.0.1 192.0.2.2 : PSK "not-for-your-eyes"\n' >"$T/ipsec.secrets"
check "ReloadSecrets again" "${BUSCTL[@]}" call $DEST $ROOT $MGR ReloadSecrets

# --- Status ---
status=$(mgr_call Status)
check_contains "Status returns s" 's "pluto ' "$status"
check_contains "Status shows west" '\"west\": 127.0.0.1' "$status"
check_not_contains "Status shows no PSK" "not-for-your-eyes" "$status"
check_not_contains "no property shows the PSK" "not-for-your-eyes" \
	"$("${BUSCTL[@]}" call "$DEST" "$ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)"

# --- access control: reading is open, changing is root's ---
check_eq "a plain user reads a property" 's "unrouted"' \
	"$("${AS_NOBODY[@]}" "${BUSCTL[@]}" get-property $DEST $WEST $CONN Routing 2>&1)"
check "a plain user introspects" "${AS_NOBODY[@]}" "${BUSCTL[@]}" introspect $DEST $ROOT
check "a plain user calls GetManagedObjects" \
	"${AS_NOBODY[@]}" "${BUSCTL[@]}" call $DEST $ROOT org.freedesktop.DBus.ObjectManager GetManagedObjects
check "a plain user calls Status" "${AS_NOBODY[@]}" "${BUSCTL[@]}" call $DEST $ROOT $MGR Status
check_fails "a plain user cannot Route" "${AS_NOBODY[@]}" "${BUSCTL[@]}" call $DEST $WEST $CONN Route
check_eq "... and gets AccessDenied" "org.freedesktop.DBus.Error.AccessDenied" \
	"$("${AS_NOBODY[@]}" gdbus call --system --dest $DEST --object-path $WEST --method $CONN.Route 2>&1 |
	   sed -n 's/.*GDBus\.Error:\([^:]*\): .*/\1/p')"
check_eq "Route by a plain user changed nothing" 's "unrouted"' "$(prop $WEST $CONN Routing)"
for call in "$ROOT $MGR AddConnection sa{ss} evil 2 left 127.0.0.1 right 192.0.2.9" \
	    "$ROOT $MGR DeleteConnection s west" "$ROOT $MGR Listen" "$ROOT $MGR Unlisten" \
	    "$ROOT $MGR SetDebug as 1 all" "$ROOT $MGR ReloadSecrets" "$ROOT $MGR Shutdown" \
	    "$ROOT $MGR AddPublicKey ss @x %file:$T/pub.pem" \
	    "$WEST $CONN Initiate b false" "$WEST $CONN Terminate" "$WEST $CONN Unroute" \
	    "$WEST $CONN Delete" "$WEST $CONN SetDebug as 1 all"; do
	# shellcheck disable=SC2086
	"${AS_NOBODY[@]}" "${BUSCTL[@]}" call $DEST $call >"$T/last.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q "Access denied" "$T/last.out"; then
		ok "a plain user is denied: ${call#* }"
	else
		fail "a plain user is denied: ${call#* }"; sed 's/^/#   /' "$T/last.out"
	fi
done
check "west survived the plain user" "${BUSCTL[@]}" get-property $DEST $WEST $CONN Name
check_fails "evil was not added" "${BUSCTL[@]}" get-property $DEST /org/freeswan/pluto1/connection/evil $CONN Name

# --- Delete / DeleteConnection and InterfacesRemoved ---
check "Connection.Delete" "${BUSCTL[@]}" call $DEST $WEST $CONN Delete
check "InterfacesRemoved for west" \
	monitor_has "InterfacesRemoved (objectpath '$WEST', ['org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Introspectable', 'org.freedesktop.DBus.Properties', 'org.freeswan.pluto1.Connection'])"
check_fails "west's object is gone" "${BUSCTL[@]}" get-property $DEST $WEST $CONN Name
check "DeleteConnection road-1.x" "${BUSCTL[@]}" call $DEST $ROOT $MGR DeleteConnection s road-1.x
check "InterfacesRemoved for road-1.x" monitor_has "InterfacesRemoved (objectpath '$ROAD'"
check_eq "GetManagedObjects is empty" "a{oa{sa{sv}}} 0" \
	"$("${BUSCTL[@]}" call "$DEST" "$ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)"

# --- Shutdown ---
check "Shutdown" "${BUSCTL[@]}" call $DEST $ROOT $MGR Shutdown
check "pluto exits after Shutdown" wait_for 10 sh -c "! kill -0 $PLUTO_PID 2>/dev/null"
check "pluto shut down cleanly" grep -q "pluto exiting" "$T/pluto.log"
check_not_contains "no sanitizer report from pluto" "Sanitizer" "$(cat "$T/pluto.log")"
check_fails "the bus name is gone" "${BUSCTL[@]}" status $DEST

# --- no bus: pluto says why and goes on with Varlink only ---
mkdir -p "$T/run2"
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus" unshare -n "$PLUTO" --nofork --stderrlog \
	--rundir "$T/run2" --ctlbase "$T/run2/ctl" --secretsfile "$T/ipsec.secrets" >"$T/nobus.log" 2>&1 &
nobus_pid=$!
_pids+=("$nobus_pid")
check "without a bus pluto says why, and that it tries again" \
	wait_for 10 grep -q "D-Bus: cannot connect to the system bus: No such file or directory (system bus at unix:path=$T/no-such-bus): trying again in" "$T/nobus.log"
check "without a bus pluto still serves Varlink" wait_for 10 test -S "$T/run2/ctl"
check "without a bus pluto keeps running" kill -0 "$nobus_pid"
kill -TERM "$nobus_pid"

done_testing
