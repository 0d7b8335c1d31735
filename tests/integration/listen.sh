#!/bin/bash
# Listen / Unlisten (issue: control plane, point 4): pluto finds the
# interfaces of its network namespace, opens one UDP socket per IPv4 and
# IPv6 address on --ikeport, notices added and removed addresses on a
# repeated Listen, and refuses Initiate before Listen with NotListening.
. "$SRCDIR/tests/lib/common.sh"

PORT=5500
start_pluto --ikeport $PORT || { fail "pluto starts"; done_testing; }
innet() { nsenter -t "$PLUTO_PID" -n "$@"; }
udp_sockets() { innet ss -Hnlu "sport = :$PORT" | awk '{print $4}' | sort | tr '\n' ' '; }

r=$(add_conn c1)
check_contains "connection added" '"parameters":{}' "$r"

r=$(varlink_call '{"method":"org.freeswan.pluto.Initiate","parameters":{"name":"c1"}}')
check_contains "Initiate before Listen fails with NotListening" '"error":"org.freeswan.pluto.NotListening"' "$r"
check_eq "no UDP socket before Listen" "" "$(udp_sockets)"

r=$(varlink_call '{"method":"org.freeswan.pluto.Listen"}')
check_contains "Listen succeeds" '"parameters":{}' "$r"
s=$(udp_sockets)
check_contains "socket on 127.0.0.1:$PORT" "127.0.0.1:$PORT" "$s"
check_contains "socket on [::1]:$PORT" "[::1]:$PORT" "$s"
st=$(varlink_call '{"method":"org.freeswan.pluto.Status"}')
check_contains "Status says listening" '"listening":true' "$st"
check_contains "Status lists lo/127.0.0.1" "lo/127.0.0.1:$PORT" "$st"
check "log line names the added interface" grep -q "adding interface lo 127.0.0.1:$PORT" "$T/pluto.log"

# an address appears and one disappears: a second Listen notices both
innet ip addr add 10.77.0.1/32 dev lo
innet ip addr add 2001:db8:77::1/128 dev lo
varlink_call '{"method":"org.freeswan.pluto.Listen"}' >/dev/null
s=$(udp_sockets)
check_contains "new IPv4 address gets a socket" "10.77.0.1:$PORT" "$s"
check_contains "new IPv6 address gets a socket" "[2001:db8:77::1]:$PORT" "$s"
check "log names the new address" grep -q "adding interface lo 10.77.0.1:$PORT" "$T/pluto.log"

innet ip addr del 10.77.0.1/32 dev lo
varlink_call '{"method":"org.freeswan.pluto.Listen"}' >/dev/null
s=$(udp_sockets)
check_not_contains "removed address loses its socket" "10.77.0.1:$PORT" "$s"
check_contains "other sockets stay" "127.0.0.1:$PORT" "$s"
check "log names the removed address" grep -q "shutting down interface lo 10.77.0.1:$PORT" "$T/pluto.log"

r=$(varlink_call '{"method":"org.freeswan.pluto.Initiate","parameters":{"name":"c1"}}')
check_not_contains "Initiate after Listen is not refused as NotListening" "NotListening" "$r"

# a UDP packet to the port is received and survives (no engine: dropped)
innet sh -c "printf 'garbage' | socat -u - UDP:127.0.0.1:$PORT"
sleep 0.2
check "daemon alive after a stray packet" kill -0 "$PLUTO_PID"

r=$(varlink_call '{"method":"org.freeswan.pluto.Unlisten"}')
check_contains "Unlisten succeeds" '"parameters":{}' "$r"
check_eq "no UDP socket after Unlisten" "" "$(udp_sockets)"
st=$(varlink_call '{"method":"org.freeswan.pluto.Status"}')
check_contains "Status says not listening" '"listening":false' "$st"
r=$(varlink_call '{"method":"org.freeswan.pluto.Initiate","parameters":{"name":"c1"}}')
check_contains "Initiate after Unlisten fails with NotListening" "NotListening" "$r"

check_eq "SIGTERM exits 0" 0 "$(stop_pluto)"
done_testing
