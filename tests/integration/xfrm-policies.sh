#!/bin/bash
# The kernel layer on this machine's kernel: XFRM policies and ACQUIREs
# work in network namespaces, ESP SAs do not ("Requested type not
# found"). Two plutos in namespaces a and b joined by a veth pair
# (198.51.100.1/.2); clients 10.1.0.1 (lo alias in a) and 10.2.0.1 (in b).
#  - the ESP probe: one log line and backend none without --kernel
#  - --kernel xfrm: Route installs the TRAP policy (selectors, template),
#    Unroute removes it; status lists it
#  - an SA install failure is reported on the connection and state (log,
#    whack) and not hidden; the TRAP policy stays
#  - TRAP -> ACQUIRE -> Main Mode with the peer, one initiation only
#  - with backend none: automatic route on SA install (erouted), RouteBusy,
#    route conflicts (taken down without SA, CannotRoute with one)
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
io_require_netns
io_side a pluto
io_side b pluto
io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
A=$(ns_of a) B=$(ns_of b)
ip -n "$A" addr add 10.1.0.1/32 dev lo
ip -n "$B" addr add 10.2.0.1/32 dev lo
ip -n "$A" route add 10.2.0.0/24 dev "$(if_of a b)" src 10.1.0.1
ip -n "$B" route add 10.1.0.0/24 dev "$(if_of b a)" src 10.2.0.1

# start SIDE KERNEL-OPTIONS...: a fresh pluto in namespace SIDE, log $T/SIDE.log
start() {
	local side=$1; shift
	mkdir -p "$T/$side"
	[ -f "$(pluto_log "$side")" ] && cat "$(pluto_log "$side")" >>"$T/all.txt"
	: >"$(pluto_log "$side")"
	echo '198.51.100.1 198.51.100.2 : PSK "xfrm policies test"' >"$T/$side/ipsec.secrets"
	pluto_launch "$side" --nodbus --updown "$SRCDIR/data/updown/pluto-updown" "$@"
}
# start_builtin SIDE ...: the same without --updown (the in-process default)
start_builtin() {
	local side=$1; shift
	[ -f "$(pluto_log "$side")" ] && cat "$(pluto_log "$side")" >>"$T/all.txt"
	: >"$(pluto_log "$side")"
	pluto_launch "$side" --nodbus "$@"
}
stop() { io_stop "$1"; }
w() { local side=$1; shift; "$WHACK" --ctlbase "$(pluto_sock "$side")" "$@"; }
ctl() { local side=$1; shift; "$IPSECCTL" --socket "$(pluto_sock "$side")" "$@"; }
# policies SIDE: the XFRM policies, without the IKE sockets' bypass policies
policies() {
	ip -n "$(ns_of "$1")" xfrm policy | awk '/^src/ { if (p !~ /socket/) printf "%s", p; p = "" } { p = p $0 "\n" }
		END { if (p !~ /socket/) printf "%s", p }'
}
route_has() { ip -n "$(ns_of "$1")" route | grep -qF -- "$2"; }
routing() { w "$1" --status | grep -F "\"$2\": " | head -1; }
CONN="left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.0.0/24 rightsubnet=10.2.0.0/24 authby=secret leftupdown=true rightupdown=true"
logcount() { grep -c -- "$2" "$(pluto_log "$1")"; }

# --- the probe ---
start a
check_eq "probe: one line saying the kernel cannot hold an ESP SA" 1 "$(logcount a 'kernel cannot hold an ESP SA')"
check_contains "probe: the line names the kernel's reason and the fallback" \
	"Requested type not found" "$(grep 'kernel cannot hold an ESP SA' "$(pluto_log a)")"
check_contains "probe: the line says backend none" "using kernel backend none" "$(cat "$(pluto_log a)")"
check_contains "probe: status says backend none" "kernel backend none" "$(w a --status)"
check_eq "probe: nothing left in the kernel" "" "$(ip -n "$A" xfrm state)"
w a --listen >/dev/null
check_eq "probe on Listen: rechecked quietly (same answer), nothing left" "" "$(ip -n "$A" xfrm state)"
check_eq "probe on Listen: still one line" 1 "$(logcount a 'kernel cannot hold an ESP SA')"
stop a

# --- --kernel xfrm: Route / Unroute ---
start a --kernel xfrm
check_contains "xfrm as requested, warned once about ESP" "xfrm (as requested), but the kernel cannot hold an ESP SA" \
	"$(cat "$(pluto_log a)")"
ctl a add c $CONN >/dev/null
check_contains "IKE sockets bypass IPsec" "socket out" "$(ip -n "$A" xfrm policy)"
check "Route succeeds" w a --name c --route
p=$(policies a)
check_contains "TRAP policy: selectors" "src 10.1.0.0/24 dst 10.2.0.0/24" "$p"
check_contains "TRAP policy: direction out" "dir out" "$p"
check_contains "TRAP policy: template outer addresses" "tmpl src 198.51.100.1 dst 198.51.100.2" "$p"
check_contains "TRAP policy: ESP tunnel template" "proto esp reqid 16384 mode tunnel" "$p"
check_eq "TRAP policy: only the out policy" 1 "$(echo "$p" | grep -c '^src ')"
check_contains "status: routing prospective" "prospective" "$(routing a c)"
check_contains "status: the kernel record lists the policy" "kernel policy out 10.1.0.0/24->10.2.0.0/24" "$(w a --status)"
check "Unroute succeeds" w a --name c --unroute
check_eq "Unroute removes the policy" "" "$(policies a)"
check_contains "status: routing unrouted" "unrouted" "$(routing a c)"

# the default updown script (--updown) routes the peer's client; shutdown
# unroutes it, as DeleteConnection does. An external command runs as a
# child of the event loop: the route comes when the script has run.
ctl a add ud left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.0.0/24 rightsubnet=10.9.0.0/24 authby=secret >/dev/null
check "Route with the default updown" w a --name ud --route
check "updown route-client added the route to the peer's client" \
	wait_for 10 route_has a "10.9.0.0/24 via 198.51.100.2"
check "updown output is logged with the connection prefix" \
	wait_for 10 grep -q '"ud": route-client output:' "$(pluto_log a)"
# a slow external command does not hold the daemon up
ctl a add slow left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.3.0/24 rightsubnet=10.13.0.0/24 \
	authby=secret 'leftupdown=sleep 3; echo slow-$PLUTO_VERB-done' >/dev/null
t0=$(date +%s%N)
w a --name slow --route >/dev/null
w a --status >/dev/null
t1=$(date +%s%N)
check "Route and status answer while the slow updown runs (< 2 s)" test $(((t1 - t0) / 1000000)) -lt 2000
check_not_contains "the slow updown has not finished yet" "slow-route-client-done" "$(cat "$(pluto_log a)")"
check "prepare then route ran in order, each after the other" \
	wait_for 15 grep -q '"slow": route-client output: slow-route-client-done' "$(pluto_log a)"
check_eq "prepare's output came before route's" "prepare route" \
	"$(grep -o 'slow-[a-z]*-client-done' "$(pluto_log a)" | sed 's/slow-\(.*\)-client-done/\1/' | paste -sd ' ')"
stop a
check_not_contains "shutdown ran updown unroute: the route is gone" "10.9.0.0/24" "$(ip -n "$A" route)"
check_contains "shutdown ran the slow unroute to its end" "slow-unroute-client-done" "$(cat "$(pluto_log a)")"
check_eq "shutdown removed every policy" "" "$(policies a)"

# without --updown and without leftupdown: the default script's work is
# done in-process (rtnetlink), no process at all; %disabled does nothing
start_builtin a --kernel xfrm
ctl a add ud left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.0.0/24 rightsubnet=10.9.0.0/24 authby=secret >/dev/null
ctl a add off left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.2.0/24 rightsubnet=10.12.0.0/24 \
	authby=secret leftupdown=%disabled >/dev/null
check "Route with the in-process default" w a --name ud --route
check_contains "in-process: the route to the peer's client is there at once" "10.9.0.0/24 via 198.51.100.2 dev $(if_of a b)" \
	"$(ip -n "$A" route)"
check_contains "in-process: logged with the connection prefix" '"ud": route-client: added route 10.9.0.0/24 via 198.51.100.2' \
	"$(cat "$(pluto_log a)")"
check_not_contains "in-process: no script output" "output:" "$(cat "$(pluto_log a)")"
check "Route with leftupdown=%disabled" w a --name off --route
check_not_contains "%disabled: no route" "10.12.0.0/24" "$(ip -n "$A" route)"
check_contains "%disabled: the TRAP policy is there all the same" "src 10.1.2.0/24 dst 10.12.0.0/24" "$(policies a)"
check "Unroute with the in-process default" w a --name ud --unroute
check_not_contains "in-process: unroute removed the route" "10.9.0.0/24" "$(ip -n "$A" route)"
check "Route it again" w a --name ud --route
stop a
check_not_contains "in-process: shutdown removed the route" "10.9.0.0/24" "$(ip -n "$A" route)"
start a --kernel xfrm
ctl a add c $CONN >/dev/null

# --- SA install failure on the initiator (peer with none) ---
start b --kernel none
ctl b add c $CONN >/dev/null
check "Route again" w a --name c --route
rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
out=$(cat "$T/last.out")
check_fails "initiate fails: the SA cannot be installed" test "$rc" = 0
check_contains "whack hears the kernel's reason" "Requested type not found" "$out"
line=$(grep "cannot install inbound IPsec SA" "$(pluto_log a)" | head -1)
check_contains "log line has the connection and state prefix" '"c" #2: cannot install inbound IPsec SA esp' "$line"
check_contains "log line names the kernel's reason" "Requested type not found" "$line"
check_not_contains "no IPsec SA pretends to be established" "STATE_QUICK_I2" "$(w a --status)"
check_not_contains "status: not erouted" "erouted" "$(routing a c)"
check_contains "the TRAP policy stays" "dir out" "$(policies a)"
check_eq "the reserved SPI is released" "" "$(ip -n "$A" xfrm state)"

# --- SA install failure on the responder (initiator with none) ---
stop a
stop b
start a --kernel none
start b --kernel xfrm
ctl a add c $CONN >/dev/null
ctl b add c $CONN >/dev/null
w a --name c --initiate --asynchronous >/dev/null
wait_for 20 grep -q "cannot install inbound IPsec SA" "$(pluto_log b)"
line=$(grep "cannot install inbound IPsec SA" "$(pluto_log b)" | head -1)
check_contains "responder: logged with connection and state" '"c" #2: cannot install inbound IPsec SA esp' "$line"
check_contains "responder: the kernel's reason" "Requested type not found" "$line"
check_not_contains "responder: no IPsec SA established" "STATE_QUICK_R2" "$(w b --status)"
check_contains "responder: an automatic route (TRAP policy) was installed" "dir out" "$(policies b)"
check_contains "responder's TRAP policy: its own view" "src 10.2.0.0/24 dst 10.1.0.0/24" "$(policies b)"
stop a
stop b

# --- TRAP -> ACQUIRE -> initiate ---
start a --kernel xfrm
start b --kernel none
ctl a add c $CONN >/dev/null
ctl b add c $CONN >/dev/null
w a --name c --route >/dev/null
ip netns exec "$A" ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1
check "ACQUIRE: pluto names the packet's addresses and initiates" \
	wait_for 10 grep -q '"c": acquire for 10.1.0.1 -> 10.2.0.1: initiating' "$(pluto_log a)"
check "ACQUIRE: the peer sees Main Mode (a state appears)" wait_for 10 grep -q "STATE_MAIN_R" <(w b --status)
check "ACQUIRE: the negotiation reaches the SA install, which fails here" \
	wait_for 20 grep -q '"c" #2: cannot install inbound IPsec SA' "$(pluto_log a)"
check_eq "ACQUIRE: one initiation" 1 "$(logcount a 'acquire for 10.1.0.1 -> 10.2.0.1: initiating')"
check_contains "ACQUIRE: the peer's Phase 1 is established" "STATE_MAIN_R3" "$(w b --status)"
stop a
stop b

# --- host-to-host TRAP: IKE itself must bypass the eroute ---
start a --kernel xfrm
start b --kernel none
H="left=198.51.100.1 right=198.51.100.2 authby=secret leftupdown=true rightupdown=true"
ctl a add h $H >/dev/null
ctl b add h $H >/dev/null
w a --name h --route >/dev/null
check_contains "host-to-host TRAP policy" "src 198.51.100.1/32 dst 198.51.100.2/32" "$(policies a)"
timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name h --initiate >/dev/null 2>&1
check_contains "IKE passes the host-to-host eroute: Main Mode established" "STATE_MAIN_I4" \
	"$(grep 'ISAKMP SA established' "$(pluto_log a)")"
check_contains "then the SA install fails, reported" '"h" #2: cannot install inbound IPsec SA' "$(cat "$(pluto_log a)")"
stop a
stop b

# --- backend none: automatic route, RouteBusy, route conflicts ---
start a --kernel none
start b --kernel none
ctl a add c $CONN >/dev/null
ctl b add c $CONN >/dev/null
check "none: initiate without a route succeeds" timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
check_contains "none: automatic route, now erouted" "erouted" "$(routing a c)"
st=$(w a --status)
check_contains "none: status records the out eroute" "kernel policy out 10.1.0.0/24->10.2.0.0/24" "$st"
check_contains "none: status records the in eroute" "kernel policy in 10.2.0.0/24->10.1.0.0/24" "$st"
check_contains "none: status records the inbound SA" "kernel sa esp" "$st"
check_eq "none: the kernel holds nothing" "" "$(policies a)"
rc=$(status_of w a --name c --unroute)
check_eq "Unroute while an IPsec SA uses the route: RouteBusy (26)" 26 "$rc"
check_contains "RouteBusy names the SA" "IPsec SA #" "$(cat "$T/last.out")"
# c2: the same peer client, another nexthop
ctl a add c2 left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.1.0/24 rightsubnet=10.2.0.0/24 \
	leftnexthop=198.51.100.254 authby=secret leftupdown=true >/dev/null
rc=$(status_of w a --name c2 --route)
check_eq "route conflict with an SA in use: CannotRoute (25)" 25 "$rc"
check_contains "CannotRoute names the other connection" '"c"' "$(cat "$T/last.out")"
check_contains "c stays erouted" "erouted" "$(routing a c)"
w a --name c --terminate >/dev/null
check "after terminate, Unroute works" w a --name c --unroute
check_not_contains "terminate removed the SA records" "kernel sa" "$(w a --status)"
check "Route c again" w a --name c --route
check "route conflict without an SA: c2 routes" w a --name c2 --route
check_contains "c's conflicting route was taken down" "unrouted" "$(routing a c)"
check_contains "the log says so" 'taking down the conflicting route of "c"' "$(cat "$(pluto_log a)")"
check_contains "c2 is prospective" "prospective" "$(routing a c2)"

stop a
stop b
cat "$(pluto_log a)" "$(pluto_log b)" >>"$T/all.txt"
check_eq "no sanitizer report from any pluto" "" "$(grep -E 'Sanitizer|runtime error' "$T/all.txt")"

done_testing
