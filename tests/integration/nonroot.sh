#!/bin/bash
# Read-only for every local user: as nobody (setpriv, no groups) ipsecctl
# status / show / monitor / list-names and whack --status work against a
# real pluto, because the Varlink socket is 0666; every command that
# changes state (ipsecctl add, delete, up, listen, ..., whack --delete,
# --listen, ...) is refused by the daemon with PermissionDenied, a clear
# message, a logged denial, and nothing changed. An unreachable socket
# (none, nobody listening, no permission) is named with what to do. The
# D-Bus policy is unchanged: a plain user reads, and may not change.
. "$SRCDIR/tests/lib/common.sh"
: "${IPSECCTL:?run through meson test}" "${WHACK:?run through meson test}"
for tool in setpriv busctl dbus-daemon; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done
PY=/usr/bin/python3
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
nb() { "${AS_NOBODY[@]}" "$@"; }
c() { "$IPSECCTL" "$@"; }
json_get() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

start_bus || { fail "private bus started"; done_testing; }
start_pluto || { fail "pluto starts"; done_testing; }
chmod 755 "$T/run"   # the test's own directory; /run/pluto is 0755
check_eq "the socket is mode 0666" 666 "$(stat -c %a "$SOCK")"
check "root adds west" c add west left=127.0.0.1 right=192.0.2.2 leftid=@west authby=secret
state_before=$(c status --json | json_get '[(x["name"], x["routing"], sorted(x["options"].items())) for x in d["connections"]], d["listening"]')

# --- reading works ---
check_eq "nobody: ipsecctl status exits 0" 0 "$(status_of nb "$IPSECCTL" status)"
cp "$T/last.out" "$T/status.txt"
check "nobody: status shows west" grep -Eq '^west +127\.0\.0\.1 +192\.0\.2\.2 +unrouted' "$T/status.txt"
check_eq "nobody: ipsecctl status --json exits 0" 0 "$(status_of nb "$IPSECCTL" status --json)"
check_eq "nobody: ipsecctl show west exits 0" 0 "$(status_of nb "$IPSECCTL" show west)"
check_contains "nobody: show west has its options" "leftid" "$(cat "$T/last.out")"
check_eq "nobody: show of an unknown name: UnknownName, exit 1" 1 "$(status_of nb "$IPSECCTL" show nope)"
check_eq "nobody: list-names" "west" "$(nb "$IPSECCTL" list-names)"
check_eq "nobody: whack --status exits 0" 0 "$(status_of nb "$WHACK" --status)"
check_contains "nobody: whack --status names west" '"west"' "$(cat "$T/last.out")"
nb "$IPSECCTL" monitor >"$T/monitor.txt" 2>&1 &
MON=$!
_pids+=("$MON")
check "nobody: monitor goes live" wait_for 10 grep -q "managerChanged" "$T/monitor.txt"

# --- changing is refused, clearly, and changes nothing ---
refused() { # DESCRIPTION COMMAND...: exit 1 with PermissionDenied and "run as root"
	local d=$1; shift
	check_eq "nobody: $d exits 1" 1 "$(status_of nb "$@")"
	check_contains "nobody: $d: PermissionDenied, run as root" "PermissionDenied" "$(cat "$T/last.out")"
}
refused "ipsecctl add" "$IPSECCTL" add evil left=127.0.0.1 right=192.0.2.66
check_contains "the refusal says what and who may" \
	"ipsecctl: PermissionDenied: org.freeswan.pluto.AddConnection changes the daemon's state: only root or the admin group may call it (run as root)" \
	"$(cat "$T/last.out")"
refused "ipsecctl delete" "$IPSECCTL" delete west
refused "ipsecctl up" "$IPSECCTL" up west
refused "ipsecctl down" "$IPSECCTL" down west
refused "ipsecctl route" "$IPSECCTL" route west
refused "ipsecctl listen" "$IPSECCTL" listen
refused "ipsecctl secrets reload" "$IPSECCTL" secrets reload
refused "ipsecctl debug" "$IPSECCTL" debug all
refused "ipsecctl shutdown" "$IPSECCTL" shutdown
check_eq "nobody: whack --delete refused" 0 "$(nb "$WHACK" --name west --delete >"$T/w.out" 2>&1; [ $? -ne 0 ]; echo $?)"
check_contains "nobody: whack --delete says why" "only root or the admin group may call it (run as root)" "$(cat "$T/w.out")"
check_eq "nobody: whack --listen refused" 0 "$(nb "$WHACK" --listen >"$T/w.out" 2>&1; [ $? -ne 0 ]; echo $?)"
check_contains "nobody: whack --listen says why" "only root or the admin group" "$(cat "$T/w.out")"
# Every method of the interface, as the daemon describes it (so methods
# added later are covered too), called as nobody: only the read-only ones
# may answer anything but PermissionDenied.
$PY - "$SOCK" >"$T/methods.out" <<'PYEOF'
import json, os, re, socket, sys
def call(req):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(json.dumps(req).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf.split(b"\0")[0])
os.setgroups([]); os.setgid(65534); os.setuid(65534)
idl = call({"method": "org.varlink.service.GetInterfaceDescription",
            "parameters": {"interface": "org.freeswan.pluto"}})["parameters"]["description"]
read_only = {"Status", "Monitor"}
methods = re.findall(r"^method (\w+)", idl, re.M)
print("methods", len(methods))
for m in methods:
    if m in read_only:
        continue
    r = call({"method": "org.freeswan.pluto." + m, "parameters": {}})
    print(m, r.get("error"))
PYEOF
check "nobody: the interface lists at least 15 methods" grep -Eq '^methods (1[5-9]|[2-9][0-9])$' "$T/methods.out"
check_eq "nobody: every method but Status and Monitor is PermissionDenied" "" \
	"$(grep -v '^methods ' "$T/methods.out" | grep -v ' org.freeswan.pluto.PermissionDenied$')"
check "nobody: AddConnection was among them" grep -q '^AddConnection ' "$T/methods.out"
check "nobody: Shutdown was among them" grep -q '^Shutdown ' "$T/methods.out"

check_eq "nothing changed (connections, routing, options, listening)" "$state_before" \
	"$(c status --json | json_get '[(x["name"], x["routing"], sorted(x["options"].items())) for x in d["connections"]], d["listening"]')"
check "the denials are logged" grep -q "AddConnection denied to uid 65534" "$T/pluto.log"
check "pluto still runs" kill -0 "$PLUTO_PID"

# --- D-Bus unchanged: a plain user reads, may not change ---
BUSCTL=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS")
check "D-Bus: nobody calls Status" nb "${BUSCTL[@]}" call org.freeswan.pluto1 /org/freeswan/pluto1 \
	org.freeswan.pluto1.Manager Status
check_fails "D-Bus: nobody may not Route" nb "${BUSCTL[@]}" call org.freeswan.pluto1 \
	/org/freeswan/pluto1/connection/west org.freeswan.pluto1.Connection Route
check_eq "D-Bus: west still unrouted" "unrouted" "$(c status --json | json_get '[x["routing"] for x in d["connections"]][0]')"

# --- root is not affected ---
check "root: route west" c route west
check "root: unroute west" c unroute west

# --- unreachable: the message says what is wrong and what to do ---
mkdir -m 700 "$T/private"
$PY -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/private/sock"
chmod 666 "$T/private/sock"
check_eq "nobody, socket in a closed directory: exit 3" 3 "$(status_of nb "$IPSECCTL" --socket "$T/private/sock" status)"
check_contains "ipsecctl: permission denied: run as root" \
	"cannot connect to pluto at $T/private/sock: permission denied: run as root" "$(cat "$T/last.out")"
check_eq "whack, no permission: fails" 0 "$(nb "$WHACK" --ctlbase "$T/private/sock" --status >"$T/w.out" 2>&1; [ $? -ne 0 ]; echo $?)"
check_contains "whack: permission denied: run as root" "permission denied: run as root" "$(cat "$T/w.out")"
check_eq "no socket: exit 3" 3 "$(status_of c --socket "$T/none" status)"
check_contains "no socket: is pluto running?" "cannot connect to pluto at $T/none: no such socket: is pluto running?" \
	"$(cat "$T/last.out")"
check_eq "whack, no socket: fails" 0 "$("$WHACK" --ctlbase "$T/none" --status >"$T/w.out" 2>&1; [ $? -ne 0 ]; echo $?)"
check_contains "whack, no socket: is pluto running?" "no such socket: is pluto running?" "$(cat "$T/w.out")"
chmod 755 "$T/private"
check_eq "socket nobody listens on: exit 3" 3 "$(status_of nb "$IPSECCTL" --socket "$T/private/sock" status)"
check_contains "nobody listening: is pluto running?" "nobody is listening: is pluto running?" "$(cat "$T/last.out")"

check_eq "SIGTERM: exit 0" 0 "$(stop_pluto)"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$T/pluto.log")"
done_testing
