#!/bin/bash
# The Varlink front end spoken raw over its unix socket with socat: the
# org.varlink.service basics, every org.freeswan.pluto method, errors,
# streaming (Monitor), access control and robustness against bad clients.
. "$SRCDIR/tests/lib/common.sh"

command -v socat >/dev/null || skip_all "socat is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"

P=org.freeswan.pluto

# call METHOD [PARAMETERS-JSON]: one request, the reply on stdout
call() {
	varlink_call "{\"method\":\"$1\",\"parameters\":${2:-{\}}}"
}
# jget FILTER JSON: one field of a reply (raw strings)
jget() { jq -r "$1" <<<"$2" 2>/dev/null; }
error_of() { jget '.error // "none"' "$1"; }
status_json() { call $P.Status; }
conn_names() { jget '[.parameters.connections[].name] | join(",")' "$(status_json)"; }
alive() { kill -0 "$PLUTO_PID" 2>/dev/null; }
# requests: print each argument as one NUL-terminated message
requests() { printf '%s\0' "$@"; }

start_pluto || { fail "pluto starts"; done_testing; }

# --- socket ---
check_eq "socket is mode 0666 (the daemon checks each caller)" "666" "$(stat -c %a "$SOCK")"
check_eq "socket belongs to root" "0:0" "$(stat -c %u:%g "$SOCK")"

# --- org.varlink.service ---
r=$(call org.varlink.service.GetInfo)
check_eq "GetInfo product" "pluto" "$(jget .parameters.product "$r")"
check_eq "GetInfo version is pluto's" "pluto $(jget .parameters.version "$r")" "$("$PLUTO" --version)"
check_eq "GetInfo interfaces" "org.varlink.service,$P" "$(jget '.parameters.interfaces | join(",")' "$r")"
check_contains "GetInfo has vendor and url" '"url"' "$(jget '.parameters | keys | tostring' "$r")"

call org.varlink.service.GetInterfaceDescription "{\"interface\":\"$P\"}" |
	jq -j .parameters.description >"$T/served.varlink"
check "GetInterfaceDescription serves the IDL file byte for byte" \
	cmp "$T/served.varlink" "$SRCDIR/src/bus/org.freeswan.pluto.varlink"
r=$(call org.varlink.service.GetInterfaceDescription '{"interface":"org.varlink.service"}')
check_contains "org.varlink.service describes itself" "interface org.varlink.service" \
	"$(jget .parameters.description "$r")"
check_contains "its description declares InvalidParameter" "error InvalidParameter (parameter: string)" \
	"$(jget .parameters.description "$r")"
r=$(call org.varlink.service.GetInterfaceDescription '{"interface":"org.example.nope"}')
check_eq "unknown interface description: InterfaceNotFound" "org.varlink.service.InterfaceNotFound" "$(error_of "$r")"
check_eq "InterfaceNotFound names it" "org.example.nope" "$(jget .parameters.interface "$r")"

# --- unknown method / interface ---
r=$(call $P.NoSuchMethod)
check_eq "unknown method: MethodNotFound" "org.varlink.service.MethodNotFound" "$(error_of "$r")"
check_eq "MethodNotFound names the method" "$P.NoSuchMethod" "$(jget .parameters.method "$r")"
r=$(call org.example.Thing.Do)
check_eq "unknown interface: InterfaceNotFound" "org.varlink.service.InterfaceNotFound" "$(error_of "$r")"
check_eq "InterfaceNotFound names the interface" "org.example.Thing" "$(jget .parameters.interface "$r")"

# --- the control debug class logs each accepted call ---
r=$(call $P.SetDebug '{"classes":["control"]}')
check_eq "SetDebug control" '{"parameters":{}}' "$r"
call $P.Status >/dev/null
check_contains "accepted calls are logged at debug class control" "| varlink: $P.Status from uid 0" \
	"$(cat "$T/pluto.log")"

# --- AddConnection ---
ADD_C1="{\"name\":\"c1\",\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.2\",\"rightsubnet\":\"10.2.0.0/16\"}}"
r=$(call $P.AddConnection "$ADD_C1")
check_eq "AddConnection c1" '{"parameters":{}}' "$r"
r=$(call $P.AddConnection "$ADD_C1")
check_eq "AddConnection c1 again: DuplicateName" "$P.DuplicateName" "$(error_of "$r")"
check_contains "DuplicateName says which" '"c1"' "$(jget .parameters.message "$r")"
r=$(call $P.AddConnection '{"name":"bad","options":{"left":"127.0.0.1","right":"192.0.2.2","leftfrobnicate":"yes"}}')
check_eq "bad keyword: InvalidOption" "$P.InvalidOption" "$(error_of "$r")"
check_contains "InvalidOption names the keyword" "leftfrobnicate" "$(jget .parameters.message "$r")"
r=$(call $P.AddConnection '{"name":"bad2","options":{"left":"127.0.0.1","right":"192.0.2.2","ikelifetime":"soon"}}')
check_eq "bad value: InvalidOption" "$P.InvalidOption" "$(error_of "$r")"
check_contains "InvalidOption names the value" "soon" "$(jget .parameters.message "$r")"
# remote access (XAUTH, Mode Config): a gateway's keywords, normalised in
# Status; roles that do not pair up refused with both named
r=$(call $P.AddConnection '{"name":"ragw","options":{"left":"127.0.0.1","leftsubnet":"10.1.0.0/16","right":"%any","leftxauthserver":"yes","rightxauthclient":"yes","leftmodecfgserver":"yes","rightmodecfgclient":"yes","rightaddresspool":"10.8.0.0/24","modecfgdns":"10.1.0.53","xauthby":"alwaysok"}}')
check_eq "AddConnection with remote-access keywords" '{"parameters":{}}' "$r"
check_eq "its normalised options" "10.8.0.1-10.8.0.254 yes yes 10.1.0.53 alwaysok yes" \
	"$(jget '.parameters.connections[] | select(.name == "ragw") | .options | "\(.rightaddresspool) \(.leftxauthserver) \(.rightmodecfgclient) \(.modecfgdns) \(.xauthby) \(.modecfgpull)"' "$(status_json)")"
r=$(call $P.DeleteConnection '{"name":"ragw"}')
check_eq "DeleteConnection ragw" '{"parameters":{}}' "$r"
r=$(call $P.AddConnection '{"name":"ra2","options":{"left":"127.0.0.1","right":"192.0.2.2","leftxauthclient":"yes"}}')
check_eq "xauthclient without the other end's xauthserver: InvalidOption" "$P.InvalidOption" "$(error_of "$r")"
check_contains "the refusal names both" "leftxauthclient=yes needs rightxauthserver=yes" "$(jget .parameters.message "$r")"
r=$(call $P.AddConnection '{"name":"far","options":{"left":"192.0.2.7","right":"192.0.2.2"}}')
check_eq "neither end local: CannotOrient" "$P.CannotOrient" "$(error_of "$r")"
check_eq "nothing half-added" "c1" "$(conn_names)"

# --- wrong parameter types: InvalidParameter naming it, nothing done ---
r=$(call $P.AddConnection '{"name":5,"options":{"left":"127.0.0.1","right":"192.0.2.2"}}')
check_eq "name not a string: InvalidParameter" "org.varlink.service.InvalidParameter" "$(error_of "$r")"
check_eq "... naming name" "name" "$(jget .parameters.parameter "$r")"
r=$(call $P.AddConnection '{"name":"t1","options":{"left":"127.0.0.1","right":["192.0.2.2"]}}')
check_eq "option value not a string: InvalidParameter options" "options" "$(jget .parameters.parameter "$r")"
r=$(call $P.AddConnection '{"name":"t2"}')
check_eq "options missing: InvalidParameter options" "options" "$(jget .parameters.parameter "$r")"
r=$(call $P.AddConnection '{"name":"t3","options":{"left":"127.0.0.1","right":"192.0.2.2"},"colour":"red"}')
check_eq "unknown parameter: InvalidParameter naming it" "colour" "$(jget .parameters.parameter "$r")"
r=$(call $P.SetDebug '{"classes":"all"}')
check_eq "classes not a list: InvalidParameter classes" "classes" "$(jget .parameters.parameter "$r")"
r=$(call $P.DeleteState '{"serial":"one"}')
check_eq "serial not an int: InvalidParameter serial" "serial" "$(jget .parameters.parameter "$r")"
r=$(call $P.DeleteState '{"serial":-3}')
check_eq "negative serial: InvalidParameter serial" "serial" "$(jget .parameters.parameter "$r")"
r=$(varlink_call "{\"method\":\"$P.Status\",\"more\":\"yes\"}")
check_eq "more not a boolean: InvalidParameter more" "more" "$(jget .parameters.parameter "$r")"
r=$(varlink_call "{\"method\":\"$P.DeleteConnection\",\"parameters\":[\"c1\"]}")
check_eq "parameters not an object: InvalidParameter" "parameters" "$(jget .parameters.parameter "$r")"
check_eq "none of them did anything" "c1" "$(conn_names)"

# --- Status ---
s=$(status_json)
check_eq "Status version" "$("$PLUTO" --version)" "pluto $(jget .parameters.version "$s")"
check_eq "Status listening false" "false" "$(jget .parameters.listening "$s")"
check_eq "Status kernelBackend" "none" "$(jget .parameters.kernelBackend "$s")"
check_eq "Status debugClasses" "control" "$(jget '.parameters.debugClasses | join(",")' "$s")"
check_eq "Status connection left" "127.0.0.1" "$(jget '.parameters.connections[0].options.left' "$s")"
check_eq "Status connection rightsubnet" "10.2.0.0/16" "$(jget '.parameters.connections[0].options.rightsubnet' "$s")"
check_eq "Status connection routing" "unrouted" "$(jget '.parameters.connections[0].routing' "$s")"
check_eq "Status connection template" "false" "$(jget '.parameters.connections[0].template' "$s")"
check_eq "Status connection source: added through the API" "api" "$(jget '.parameters.connections[0].source' "$s")"
check_eq "Status connection states" "0 0 0" \
	"$(jget '.parameters.connections[0] | "\(.states | length) \(.newestIsakmpState) \(.newestIpsecState)"' "$s")"
check_eq "Status connection fields" "debugClasses,name,newestIpsecState,newestIsakmpState,options,routing,source,states,template" \
	"$(jget '.parameters.connections[0] | keys | join(",")' "$s")"
check_eq "Status states empty" "0" "$(jget '.parameters.states | length' "$s")"
check_contains "Status text is whack --status" '"c1": 127.0.0.1:500...192.0.2.2:500===10.2.0.0/16' \
	"$(jget .parameters.text "$s")"
# a projection: only the members (and options) asked for; an empty list
# of state fields is none, absent is all
s=$(call $P.Status '{"text":false,"connectionFields":["name","options"],"stateFields":[],"optionKeys":["left","rightsubnet","nosuchkey"]}')
check_eq "Status connectionFields keeps only those members" "name,options" \
	"$(jget '.parameters.connections[0] | keys | join(",")' "$s")"
check_eq "Status optionKeys keeps only those options" "left=127.0.0.1 rightsubnet=10.2.0.0/16" \
	"$(jget '.parameters.connections[0].options | to_entries | map("\(.key)=\(.value)") | join(" ")' "$s")"
check_eq "Status with a projection still has the Manager's fields and no text" "pluto $(jget .parameters.version "$s"):none" \
	"$("$PLUTO" --version):$(jget '.parameters.text // "none"' "$s")"
r=$(call $P.Status '{"connectionFields":["name","bogus"]}')
check_eq "Status with an unknown connection field: InvalidParameter naming it" \
	"org.varlink.service.InvalidParameter connectionFields" "$(jget '"\(.error) \(.parameters.parameter)"' "$r")"
r=$(call $P.Status '{"stateFields":["serial",3]}')
check_eq "Status with a state field that is no string: InvalidParameter" \
	"org.varlink.service.InvalidParameter stateFields" "$(jget '"\(.error) \(.parameters.parameter)"' "$r")"

# --- Route / Unroute ---
r=$(call $P.Route '{"name":"c1"}')
check_eq "Route c1" '{"parameters":{}}' "$r"
check_eq "routing prospective" "prospective" "$(jget '.parameters.connections[0].routing' "$(status_json)")"
r=$(call $P.Unroute '{"name":"c1"}')
check_eq "Unroute c1" '{"parameters":{}}' "$r"
check_eq "routing unrouted" "unrouted" "$(jget '.parameters.connections[0].routing' "$(status_json)")"
r=$(call $P.Route '{"name":"nope"}')
check_eq "Route unknown: UnknownName" "$P.UnknownName" "$(error_of "$r")"

# --- Listen / Initiate / Unlisten ---
r=$(call $P.Initiate '{"name":"c1"}')
check_eq "Initiate before Listen: NotListening" "$P.NotListening" "$(error_of "$r")"
check_contains "NotListening says --listen" "listen" "$(jget .parameters.message "$r")"
r=$(call $P.Listen)
check_eq "Listen" '{"parameters":{}}' "$r"
s=$(status_json)
check_eq "Status listening true" "true" "$(jget .parameters.listening "$s")"
check_contains "Status interfaces show lo" "127.0.0.1" "$(jget '.parameters.interfaces | join(" ")' "$s")"
r=$(call $P.Initiate '{"name":"c1"}')
check_eq "Initiate without a secret: NoKey" "$P.NoKey" "$(error_of "$r")"
requests "{\"method\":\"$P.Initiate\",\"parameters\":{\"name\":\"c1\"},\"more\":true}" |
	socat -t 5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n' >"$T/initiate.out"
check_eq "Initiate with more ends with the error" "$P.NoKey" "$(jq -r '.error // empty' "$T/initiate.out" | tail -n 1)"
r=$(call $P.Initiate '{"name":"nope"}')
check_eq "Initiate unknown: UnknownName" "$P.UnknownName" "$(error_of "$r")"
r=$(call $P.Terminate '{"name":"c1"}')
check_eq "Terminate c1" '{"parameters":{}}' "$r"
r=$(call $P.Unlisten)
check_eq "Unlisten" '{"parameters":{}}' "$r"
s=$(status_json)
check_eq "Status listening false again" "false" "$(jget .parameters.listening "$s")"
check_eq "no interfaces" "0" "$(jget '.parameters.interfaces | length' "$s")"

# --- SetDebug ---
r=$(call $P.SetDebug '{"classes":["control","crypt"]}')
check_eq "SetDebug global" '{"parameters":{}}' "$r"
check_eq "global classes" "crypt,control" "$(jget '.parameters.debugClasses | join(",")' "$(status_json)")"
r=$(call $P.SetDebug '{"classes":["klips"],"connection":"c1"}')
check_eq "SetDebug per connection" '{"parameters":{}}' "$r"
check_eq "connection classes" "klips" "$(jget '.parameters.connections[0].debugClasses | join(",")' "$(status_json)")"
r=$(call $P.SetDebug '{"classes":["control","sparkles"]}')
check_eq "bad class: InvalidOption" "$P.InvalidOption" "$(error_of "$r")"
check_contains "InvalidOption names the class" "sparkles" "$(jget .parameters.message "$r")"
check_eq "bad class changed nothing" "crypt,control" "$(jget '.parameters.debugClasses | join(",")' "$(status_json)")"
r=$(call $P.SetDebug '{"classes":["all"],"connection":"nope"}')
check_eq "SetDebug unknown connection: UnknownName" "$P.UnknownName" "$(error_of "$r")"
call $P.SetDebug '{"classes":["control"],"connection":null}' >/dev/null
check_eq "connection null means global" "control" "$(jget '.parameters.debugClasses | join(",")' "$(status_json)")"

# --- AddPublicKey, ReloadSecrets: only the stable parts (error names) ---
r=$(call $P.AddPublicKey '{"id":"@peer.example","key":"0sNOTAKEY!!"}')
check_contains "AddPublicKey with a bad key fails with a pluto error" "$P." "$(error_of "$r")"
r=$(call $P.AddPublicKey '{"id":"@peer.example"}')
check_eq "AddPublicKey without key: InvalidParameter key" "key" "$(jget .parameters.parameter "$r")"
r=$(call $P.ReloadSecrets)
e=$(error_of "$r")
check "ReloadSecrets replies ok or InvalidSecrets (got $e)" test "$e" = none -o "$e" = "$P.InvalidSecrets"
check "daemon alive after key and secrets calls" alive

# --- DeleteState ---
r=$(call $P.DeleteState '{"serial":4242}')
check_eq "DeleteState unknown: UnknownState" "$P.UnknownState" "$(error_of "$r")"

# --- oneway ---
r=$(varlink_call "{\"method\":\"$P.AddConnection\",\"oneway\":true,\"parameters\":{\"name\":\"ow\",\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.3\"}}}")
check_eq "oneway: no reply" "" "$r"
check_eq "oneway call was done" "ow,c1" "$(conn_names | tr ',' '\n' | sort -r | paste -sd,)"

# --- DeleteConnection ---
r=$(call $P.DeleteConnection '{"name":"ow"}')
check_eq "DeleteConnection" '{"parameters":{}}' "$r"
r=$(call $P.DeleteConnection '{"name":"ow"}')
check_eq "DeleteConnection again: UnknownName" "$P.UnknownName" "$(error_of "$r")"
check_eq "Status lacks it" "c1" "$(conn_names)"

# --- Monitor ---
r=$(call $P.Monitor)
check_eq "Monitor without more: ExpectedMore" "org.varlink.service.ExpectedMore" "$(error_of "$r")"

# monitor_start NAME: a Monitor client in the background whose requests
# come from the FIFO on fd 8 and whose replies go to $T/NAME.out; socat's
# pid in $MON (killed by pid, never by name)
monitor_start() {
	mkfifo "$T/$1.in"
	socat -t 30 - "UNIX-CONNECT:$SOCK" <"$T/$1.in" >"$T/$1.out" &
	MON=$!
	_pids+=("$MON")
	exec 8>"$T/$1.in"
	requests "{\"method\":\"$P.Monitor\",\"more\":true}" >&8
}
# replies of a monitor, one per line
replies() { tr '\0' '\n' <"$T/$1.out"; }
# seen NAME REGEX: a reply of that monitor matches
seen() { replies "$1" | grep -q "$2"; }

monitor_start mon1
check "Monitor's first reply says it is live" wait_for 5 seen mon1 '"property":"Monitor"'
check_contains "first reply continues" '"continues":true' "$(replies mon1 | head -n 1)"
call $P.AddConnection '{"name":"mon","options":{"left":"127.0.0.1","right":"192.0.2.4"}}' >/dev/null
check "Monitor streams connectionAdded" wait_for 5 seen mon1 '"event":"connectionAdded".*"name":"mon"'
call $P.Route '{"name":"mon"}' >/dev/null
check "Monitor streams connectionChanged Routing" wait_for 5 seen mon1 '"event":"connectionChanged".*"property":"Routing"'
call $P.DeleteConnection '{"name":"mon"}' >/dev/null
check "Monitor streams connectionRemoved" wait_for 5 seen mon1 '"event":"connectionRemoved".*"connectionName":"mon"'
check "Monitor streams progress lines" seen mon1 '"event":"progress".*deleting connection'
# "control" is in force already, and a value that does not change is not
# streamed: change it, and put it back for the checks further down
call $P.SetDebug '{"classes":["control","klips"]}' >/dev/null
check "Monitor streams managerChanged DebugClasses" wait_for 5 seen mon1 '"property":"DebugClasses"'
call $P.SetDebug '{"classes":["control"]}' >/dev/null
replies mon1 >"$T/mon1.json"
check "every Monitor reply is valid JSON" jq -e . "$T/mon1.json"
# a monitor killed mid-stream: the daemon must clean up and carry on
kill -KILL "$MON"; wait "$MON" 2>/dev/null; exec 8>&-
monitor_start mon2
wait_for 5 seen mon2 '"property":"Monitor"'
kill -KILL "$MON"; wait "$MON" 2>/dev/null; exec 8>&-
call $P.AddConnection '{"name":"after","options":{"left":"127.0.0.1","right":"192.0.2.5"}}' >/dev/null
call $P.DeleteConnection '{"name":"after"}' >/dev/null
check "daemon survives monitors killed mid-stream" alive
check_contains "and still serves" "c1" "$(conn_names)"

# --- a Monitor client that stops reading is dropped, the daemon goes on ---
mkfifo "$T/slow.in" "$T/slow.out"
socat -t 60 - "UNIX-CONNECT:$SOCK" <"$T/slow.in" >"$T/slow.out" &
SLOW=$!
_pids+=("$SLOW")
exec 8>"$T/slow.in"
exec 7<"$T/slow.out"    # opened, never read: socat blocks, the socket fills up
requests "{\"method\":\"$P.Monitor\",\"more\":true}" >&8
sleep 0.3
for i in $(seq 1500); do
	printf '{"method":"%s.AddConnection","parameters":{"name":"s%d","options":{"left":"127.0.0.1","right":"192.0.2.9"}}}\0' $P $i
	printf '{"method":"%s.DeleteConnection","parameters":{"name":"s%d"}}\0' $P $i
done | socat -t 30 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n' >"$T/batch.out"
check_eq "3000 pipelined requests in one connection, 3000 replies" "3000" "$(grep -c '^{"parameters":{}}$' "$T/batch.out")"
check "slow Monitor client dropped with a log line" wait_for 5 grep -q "does not read its replies" "$T/pluto.log"
check "daemon alive after dropping it" alive
exec 7<&- 8>&-
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null

# --- bad clients ---
r=$(printf '{"method": "org.varlink.service.GetInfo", oops}\0' | socat -t 5 - "UNIX-CONNECT:$SOCK" | tr -d '\0')
check_eq "bad JSON: no reply" "" "$r"
check "bad JSON is logged" grep -q "bad JSON in request" "$T/pluto.log"
r=$(printf '[1,2,3]\0' | socat -t 5 - "UNIX-CONNECT:$SOCK" | tr -d '\0')
check_eq "not an object: no reply" "" "$r"
check "not an object is logged" grep -q 'not a JSON object with a "method"' "$T/pluto.log"
check_eq "next client is served" "pluto" "$(jget .parameters.product "$(call org.varlink.service.GetInfo)")"
# the rest of a pipelined batch after a bad message is not run: the client is closed
r=$(printf '{"method":"%s.Status"}\0garbage\0{"method":"%s.Listen"}\0' $P $P | socat -t 5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n' | wc -l)
check_eq "only the request before the bad one was answered" "1" "$r"
check_eq "the one after it was not run" "false" "$(jget .parameters.listening "$(status_json)")"

head -c $((32 * 1024 * 1024 + 4096)) /dev/zero | tr '\0' 'x' | socat -t 5 - "UNIX-CONNECT:$SOCK" >"$T/big.out" 2>/dev/null
check_eq "oversize message: no reply" "0" "$(stat -c %s "$T/big.out")"
check "oversize message is logged" grep -q "longer than the limit of 33554432 bytes" "$T/pluto.log"
{ printf '{"method":"%s.Status","parameters":{"pad":"' $P; head -c $((32 * 1024 * 1024)) /dev/zero | tr '\0' 'y'; printf '"}}\0'; } |
	socat -t 5 - "UNIX-CONNECT:$SOCK" >"$T/big2.out" 2>/dev/null
check_eq "oversize terminated message: no reply" "0" "$(stat -c %s "$T/big2.out")"
check "daemon alive after oversize messages" alive
check_eq "and serves the next client" "pluto" "$(jget .parameters.product "$(call org.varlink.service.GetInfo)")"

# two requests in one write, one request split over many writes
r=$(requests '{"method":"org.varlink.service.GetInfo"}' "{\"method\":\"$P.Status\"}" |
	socat -t 5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n' | jq -r '.parameters | keys[0]' | paste -sd,)
check_eq "two requests in one write: two replies in order" "interfaces,connections" "$r"
r=$( (printf '{"method":"org.var'; sleep 0.2; printf 'link.service.GetInfo"'; sleep 0.2; printf '}\0') |
	socat -t 5 - "UNIX-CONNECT:$SOCK" | tr -d '\0')
check_eq "request split over writes" "pluto" "$(jget .parameters.product "$r")"

# --- 100 clients at once ---
# each holds its connection open for a second, so all 100 are connected together
many=()
for i in $(seq 100); do
	(requests "{\"method\":\"$P.Status\"}"; sleep 1) | socat -t 5 - "UNIX-CONNECT:$SOCK" >"$T/many.$i" &
	many+=($!)
done
wait "${many[@]}"
check_eq "100 concurrent clients all answered" "100" "$(cat "$T"/many.* | tr '\0' '\n' | grep -c '"kernelBackend"')"

# --- access: an unprivileged caller ---
# The socket is 0666: the daemon's SO_PEERCRED check is what refuses
# changes. This test's own directories are private, so open the way.
chmod 755 "$T" "$T/run"
as_nobody() {
	printf '%s\0' "$1" | setpriv --reuid=65534 --regid=65534 --clear-groups \
		socat -t 5 - "UNIX-CONNECT:$SOCK" | tr -d '\0'
}
r=$(as_nobody "{\"method\":\"$P.AddConnection\",\"parameters\":{\"name\":\"evil\",\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.6\"}}}")
check_eq "uid 65534 AddConnection: PermissionDenied" "$P.PermissionDenied" "$(error_of "$r")"
check_contains "PermissionDenied has a message" "AddConnection" "$(jget .parameters.message "$r")"
r=$(as_nobody "{\"method\":\"$P.Shutdown\"}")
check_eq "uid 65534 Shutdown: PermissionDenied" "$P.PermissionDenied" "$(error_of "$r")"
r=$(as_nobody "{\"method\":\"$P.SetDebug\",\"parameters\":{\"classes\":[\"all\"]}}")
check_eq "uid 65534 SetDebug: PermissionDenied" "$P.PermissionDenied" "$(error_of "$r")"
r=$(as_nobody "{\"method\":\"$P.Status\"}")
check_eq "uid 65534 may read Status" "c1" "$(jget '[.parameters.connections[].name] | join(",")' "$r")"
r=$(as_nobody '{"method":"org.varlink.service.GetInfo"}')
check_eq "uid 65534 may call GetInfo" "pluto" "$(jget .parameters.product "$r")"
r=$( (printf '{"method":"%s.Monitor","more":true}\0' $P; sleep 0.5) | setpriv --reuid=65534 --regid=65534 --clear-groups \
	socat -t 1 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n' | head -n 1)
check_contains "uid 65534 may Monitor" '"property":"Monitor"' "$r"
check "denials are logged" grep -q "AddConnection denied to uid 65534" "$T/pluto.log"
check_eq "nothing was done for uid 65534" "c1" "$(conn_names)"
check_eq "debug classes untouched by uid 65534" "control" "$(jget '.parameters.debugClasses | join(",")' "$(status_json)")"

# --- Shutdown ---
check "daemon alive before Shutdown" alive
r=$(call $P.Shutdown)
check_eq "Shutdown replies" '{"parameters":{}}' "$r"
wait_for 30 test -s "$T/pluto.status"
check_eq "daemon exits 0 after Shutdown" "0" "$(cat "$T/pluto.status" 2>/dev/null)"
check_fails "lock file is gone" test -e "$T/run/pluto.pid"
check_fails "socket file is gone" test -e "$SOCK"
check_not_contains "no sanitizer reports" "Sanitizer" "$(cat "$T/pluto.log")"

# --- an admin group: the socket is 0666 group-owned, members may change state ---
if start_pluto --admin-group 65534; then
	check_eq "admin group socket is mode 0666" "666" "$(stat -c %a "$SOCK")"
	check_eq "admin group owns the socket" "65534" "$(stat -c %g "$SOCK")"
	r=$(as_nobody "{\"method\":\"$P.AddConnection\",\"parameters\":{\"name\":\"adm\",\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.6\"}}}")
	check_eq "an admin group member may AddConnection" '{"parameters":{}}' "$r"
	check_eq "SIGTERM: exit 0" "0" "$(stop_pluto)"
	check_not_contains "no sanitizer reports (admin group run)" "Sanitizer" "$(cat "$T/pluto.log")"
else
	fail "pluto starts with --admin-group"
fi

done_testing
