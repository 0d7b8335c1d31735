#!/bin/bash
# Every control front end, watched during real IKEv1 negotiations between
# two plutos (namespaces a / b joined by a veth, kernel "none").
# The initiator (a) is on a private D-Bus; the responder (b) is not.
#
#   fq: leftid=@west.example rightid=user@east.example (ID_FQDN and
#       ID_USER_FQDN in Main Mode), PSK indexed by those ids
#       198.51.100.1 <-> 198.51.100.2
#   ip: IP ids, PSK indexed by the addresses, 198.51.100.11 <-> .12
#
# Varlink Initiate with "more" (fq) streams {code, message} replies, 100+
# state then 004, and ends with done=true and the serials Status shows;
# D-Bus Connection.Initiate(true) (ip) returns the new states once they are
# established, the Progress signals carry the same codes, InterfacesAdded
# comes for each state, and every State property has its type and a
# sensible value; State.Delete() removes the IPsec SA on both sides. A
# Varlink Monitor started first sees the states come, change and go. Then
# a peer that does not answer, three listeners in one 14 s wait: whack
# --initiate prints 010 per resend and ends with 031 (exit 31), Varlink
# Initiate(more) streams the same lines and ends with NegotiationFailed
# (code 31), D-Bus Initiate(true) fails with NegotiationFailed.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"

for tool in ip dbus-daemon busctl gdbus socat; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "no /usr/bin/python3"

io_require_netns
io_side a pluto
io_side b pluto
io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
ip -n "$(ns_of a)" addr add 198.51.100.11/24 dev "$(if_of a b)"
ip -n "$(ns_of b)" addr add 198.51.100.12/24 dev "$(if_of b a)"

# start_side SIDE [PLUTO OPTIONS...]: pluto in namespace SIDE, listening
start_side() { local side=$1; shift; pluto_launch "$side" --kernel none "$@"; }
stop_side() { io_stop "$1"; }
ctl() { local side=$1; shift; "$IPSECCTL" --socket "$(pluto_sock "$side")" "$@"; }
# vl SIDE JSON: one Varlink call; replies one per line
vl() {
	printf '%s\0' "$2" | socat -t 30 - "UNIX-CONNECT:$(pluto_sock "$1")" | tr '\0' '\n'
}

mkdir -p "$T/a" "$T/b"
cat >"$T/a/ipsec.secrets" <<'EOF'
@west.example user@east.example : PSK "live fqdn secret"
198.51.100.11 198.51.100.12 : PSK "live ip secret"
EOF
cp "$T/a/ipsec.secrets" "$T/b/ipsec.secrets"

start_bus || { fail "private bus started"; done_testing; }
start_side a || { fail "initiator started"; done_testing; }
wait_for 10 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.freeswan.pluto1 ||
	fail "initiator took its bus name"
start_side b --nodbus || { fail "responder started"; done_testing; }

# keyingtries=1: the silent-peer part checks one attempt's end on every
# API (further attempts are tests/integration/rekey.sh's)
FQ="left=198.51.100.1 right=198.51.100.2 leftid=@west.example rightid=user@east.example authby=secret keyingtries=1"
IPC="left=198.51.100.11 right=198.51.100.12 leftid=198.51.100.11 rightid=198.51.100.12 authby=secret keyingtries=1"
for s in a b; do
	check "$s: add fq (FQDN / USER_FQDN ids)" ctl $s add fq $FQ
	check "$s: add ip (IP ids)" ctl $s add ip $IPC
done

# --- watchers, started before anything is initiated ---
DEST=org.freeswan.pluto1
ROOT=/org/freeswan/pluto1
BUSCTL=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS")
gdbus monitor --system --dest "$DEST" >"$T/signals.txt" 2>&1 &
_pids+=($!)
wait_for 10 grep -q "is owned by" "$T/signals.txt" || fail "gdbus monitor started"

mkfifo "$T/monitor.in"
socat -t 1 - "UNIX-CONNECT:$(pluto_sock a)" <"$T/monitor.in" >"$T/monitor.out" 2>&1 &
_pids+=($!)
exec 7>"$T/monitor.in"
printf '%s\0' '{"method":"org.freeswan.pluto.Monitor","more":true}' >&7
wait_for 10 grep -aq '"Monitor"' "$T/monitor.out" || fail "Varlink Monitor is live"

# pychecks NAME ARGS... <<'PY': run a Python check script (stdin) with the
# helpers below; its "PASS desc" / "FAIL desc" lines become TAP lines. A
# script that dies is a failure too, so a broken parser cannot pass.
cat >"$T/prelude.py" <<'PY'
import json, re, sys, time
argv = sys.argv
def check(desc, cond, why=""):
    print(("PASS " if cond else "FAIL ") + desc + ("" if cond or not why else "\n# " + str(why)), flush=True)
def check_eq(desc, want, got):
    check(desc, want == got, "expected %r, got %r" % (want, got))
def lines_json(path, sep="\n"):
    with open(path) as f:
        return [json.loads(x) for x in f.read().split(sep) if x.strip()]
def states_of(path, conn):
    st = lines_json(path)[0]["parameters"]["states"]
    return sorted((s for s in st if s["connection"] == conn), key=lambda s: s["kind"])
def progress_signals(path, conn_path):
    pat = re.compile(r"^(\S+): org\.freeswan\.pluto1\.Connection\.Progress \(uint32 (\d+), '(.*)'\)$")
    out = []
    for line in open(path):
        m = pat.match(line.rstrip("\n"))
        if m and m.group(1) == conn_path:
            out.append((int(m.group(2)), m.group(3)))
    return out
NOW_US = int(time.time() * 1e6)
LIFE_IKE, LIFE_SA = 3600, 28800    # the default ikelifetime and salifetime
# check_state(what, s, ...): one state (Varlink field names) is sensible
def check_state(what, s, conn, kind, name, initiator, peer, peer_id, lifetime):
    check_eq(what + ": connection", conn, s["connection"])
    check_eq(what + ": kind", kind, s["kind"])
    check_eq(what + ": name", name, s["name"])
    check_eq(what + ": established", True, s["established"])
    check_eq(what + ": initiator", initiator, s["initiator"])
    check_eq(what + ": peer address", peer, s["peerAddress"])
    check_eq(what + ": peer id", peer_id, s["peerId"])
    check(what + ": algorithms named", len(s["algorithms"]) > 3, s["algorithms"])
    n = 1 if kind == "ipsec" else 0
    spis = s["inboundSpis"] + s["outboundSpis"]
    check(what + ": %d inbound and %d outbound SPI, each > 0xFFF" % (n, n),
          len(s["inboundSpis"]) == n and len(s["outboundSpis"]) == n and all(0xFFF < x <= 0xFFFFFFFF for x in spis),
          (s["inboundSpis"], s["outboundSpis"]))
    check(what + ": expires in the future, within its lifetime",
          NOW_US < s["expiresAt"] <= NOW_US + lifetime * 1000000, (NOW_US, s["expiresAt"]))
    check(what + ": rekeys before it expires (or never)",
          s["rekeyAt"] == 0 or NOW_US < s["rekeyAt"] < s["expiresAt"], (s["rekeyAt"], s["expiresAt"]))
    # no XAUTH or Mode Config here: the remote-access fields are empty
    check_eq(what + ": no remote access", ("", "", [], [], "", []),
             (s.get("xauthUser"), s.get("virtualAddress"), s.get("dns"), s.get("domains"), s.get("banner"),
              s.get("splitInclude")))
PY
pychecks() {
	local name=$1 line rc; shift
	{ cat "$T/prelude.py"; cat; } >"$T/$name.py"
	"$PY" "$T/$name.py" "$@" >"$T/$name.result" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) fail "${line#FAIL }" ;;
		*) echo "$line" ;;
		esac
	done <"$T/$name.result"
	[ "$rc" -eq 0 ] || fail "$name: the check script ran to its end"
}
# states SIDE CONN: "NAME:established" of CONN's states, sorted
states() {
	vl "$1" '{"method":"org.freeswan.pluto.Status"}' | "$PY" -c '
import json, sys
st = json.loads(sys.stdin.read().split("\n")[0])["parameters"]["states"]
print(" ".join(sorted("%s:%s" % (s["name"], str(s["established"]).lower()) for s in st if s["connection"] == sys.argv[1] or sys.argv[1] == "*")))' "$2"
}

# =====================================================================
# Varlink Initiate with "more": fq, ID_FQDN / ID_USER_FQDN in Main Mode
# =====================================================================
vl a '{"method":"org.freeswan.pluto.Initiate","parameters":{"name":"fq"},"more":true}' >"$T/vl-initiate.out"
vl a '{"method":"org.freeswan.pluto.Status"}' >"$T/status-a.json"
wait_for 5 test "$(states b fq)" == "STATE_MAIN_R3:true STATE_QUICK_R2:true"
vl b '{"method":"org.freeswan.pluto.Status"}' >"$T/status-b.json"
pychecks varlink-initiate "$T/vl-initiate.out" "$T/status-a.json" "$T/status-b.json" <<'PY'
replies = lines_json(argv[1])
progress, final = replies[:-1], replies[-1]
check("Varlink Initiate(more): progress replies carry continues=true",
      progress and all(r.get("continues") is True for r in progress), replies)
check("Varlink Initiate(more): each progress reply is {code: int, message: string, done: false}",
      all(isinstance(r["parameters"].get("code"), int) and isinstance(r["parameters"].get("message"), str)
          and r["parameters"].get("done") is False for r in progress))
check_eq("Varlink Initiate(more): codes 100+state (MAIN_I1..QUICK_I1) then 004",
         [102, 104, 106, 108, 110, 4], [r["parameters"]["code"] for r in progress])
check("Varlink Initiate(more): messages name the connection and the state",
      all(re.match(r'"fq" #\d+: STATE_', r["parameters"]["message"]) for r in progress))
check("Varlink Initiate(more): final reply has done=true and no continues",
      final.get("continues") is not True and final["parameters"].get("done") is True, final)
fq_a = states_of(argv[2], "fq")
check_eq("Varlink Initiate(more): final states are the serials Status shows",
         sorted(s["serial"] for s in fq_a), sorted(final["parameters"].get("states", [])))
check_eq("initiator has one ISAKMP and one IPsec state for fq", ["ipsec", "isakmp"], [s["kind"] for s in fq_a])
if len(fq_a) == 2:
    check_state("initiator IPsec SA (fq)", fq_a[0], "fq", "ipsec", "STATE_QUICK_I2", True, "198.51.100.2", "user@east.example", LIFE_SA)
    check_state("initiator ISAKMP SA (fq)", fq_a[1], "fq", "isakmp", "STATE_MAIN_I4", True, "198.51.100.2", "user@east.example", LIFE_IKE)
fq_b = states_of(argv[3], "fq")
check_eq("responder has one ISAKMP and one IPsec state for fq", ["ipsec", "isakmp"], [s["kind"] for s in fq_b])
if len(fq_b) == 2 and len(fq_a) == 2:
    check_state("responder IPsec SA (fq)", fq_b[0], "fq", "ipsec", "STATE_QUICK_R2", False, "198.51.100.1", "@west.example", LIFE_SA)
    check_state("responder ISAKMP SA (fq)", fq_b[1], "fq", "isakmp", "STATE_MAIN_R3", False, "198.51.100.1", "@west.example", LIFE_IKE)
    check("SPIs agree: each side's inbound SPI is the other's outbound",
          fq_a[0]["inboundSpis"] == fq_b[0]["outboundSpis"] and fq_a[0]["outboundSpis"] == fq_b[0]["inboundSpis"])
PY

# ipsecctl show: the established states with algorithms, SPIs, lifetimes left
ctl a show fq >"$T/show-fq.txt" 2>&1
ctl a show fq --json >"$T/show-fq.json" 2>&1
check "show fq: the IPsec SA, established" grep -Eq '^  #[0-9]+ ipsec STATE_QUICK_I2 established$' "$T/show-fq.txt"
check "show fq: the ISAKMP SA, established" grep -Eq '^  #[0-9]+ isakmp STATE_MAIN_I4 established$' "$T/show-fq.txt"
check "show fq: SPIs in hex, in and out" grep -Eq '^      SPIs: +in 0x[0-9a-f]{8}, out 0x[0-9a-f]{8}$' "$T/show-fq.txt"
check "show fq: algorithms" grep -Eq '^      algorithms: +[^-]' "$T/show-fq.txt"
check "show fq: the peer and its id" grep -Eq '^      peer: +198\.51\.100\.2 \(id user@east\.example\)$' "$T/show-fq.txt"
check_eq "show fq: lifetimes left for both states" 2 \
	"$(grep -Ec '^      lifetime: +rekey in ([0-9]+[dhm] )*[0-9]+s, expires in ([0-9]+[dhm] )*[0-9]+s$' "$T/show-fq.txt")"
pychecks show "$T/show-fq.txt" "$T/show-fq.json" <<'PY'
import time
text, shown = open(argv[1]).read(), json.load(open(argv[2]))
check_eq("show --json: the connection", "fq", shown["connection"]["name"])
check_eq("show --json: its two states", ["ipsec", "isakmp"], sorted(s["kind"] for s in shown["states"]))
for s in shown["states"]:
    for spi in s["inboundSpis"] + s["outboundSpis"]:
        check("show: SPI 0x%08x of #%d in the text" % (spi, s["serial"]), "0x%08x" % spi in text)
    check("show: algorithms of #%d in the text" % s["serial"], s["algorithms"] in text)
    left = (s["expiresAt"] / 1e6 - time.time())
    m = re.search(r"^  #%d .*\n(?:      .*\n)*?      lifetime: .*expires in (?:(\d+)h )?(?:(\d+)m )?(\d+)s$" % s["serial"], text, re.M)
    shown_left = m and int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60 + int(m.group(3))
    check("show: #%d expires in what expiresAt says (%s s shown, %d s left)" % (s["serial"], shown_left, left),
          m is not None and abs(shown_left - left) < 10)
check("show: no secret", "live fqdn secret" not in text and "live fqdn secret" not in json.dumps(shown))
PY

# =====================================================================
# D-Bus Connection.Initiate(true): ip, IP ids
# =====================================================================
IPPATH=$ROOT/connection/ip
gdbus call --system --timeout 60 --dest "$DEST" --object-path "$IPPATH" \
	--method org.freeswan.pluto1.Connection.Initiate true >"$T/dbus-initiate.out" 2>&1
# read at once: Initiate(true) must not answer before the SAs are up
for n in $(grep -o "/org/freeswan/pluto1/state/[0-9]*" "$T/dbus-initiate.out" | sed 's|.*/||'); do
	"${BUSCTL[@]}" --json=short get-property "$DEST" "$ROOT/state/$n" org.freeswan.pluto1.State Name Established
done >"$T/dbus-initiate.now" 2>&1
wait_for 5 grep -q "Progress (uint32 4, '\"ip\"" "$T/signals.txt"
for n in 1 2 3 4; do
	"${BUSCTL[@]}" --json=short call "$DEST" "$ROOT/state/$n" org.freedesktop.DBus.Properties GetAll s \
		org.freeswan.pluto1.State >"$T/state-$n.json" 2>&1
done
for c in fq ip; do
	"${BUSCTL[@]}" --json=short call "$DEST" "$ROOT/connection/$c" org.freedesktop.DBus.Properties GetAll s \
		org.freeswan.pluto1.Connection >"$T/conn-$c.json" 2>&1
done
vl a '{"method":"org.freeswan.pluto.Status"}' >"$T/status-a2.json"
wait_for 5 test "$(states b ip)" == "STATE_MAIN_R3:true STATE_QUICK_R2:true"
vl b '{"method":"org.freeswan.pluto.Status"}' >"$T/status-b2.json"
pychecks dbus-initiate "$T" <<'PY'
T = argv[1]
out = open(T + "/dbus-initiate.out").read()
paths = re.findall(r"/org/freeswan/pluto1/state/(\d+)", out)
check("D-Bus Initiate(true) returns an ao", out.startswith("([objectpath '"), out)
check_eq("D-Bus Initiate(true) returns the two new states (ISAKMP, IPsec)", ["3", "4"], sorted(paths))
now = lines_json(T + "/dbus-initiate.now")
check_eq("when Initiate(true) returns, its states are established (Name, Established as read right after)",
         [{"type": "s", "data": "STATE_MAIN_I4"}, {"type": "b", "data": True},
          {"type": "s", "data": "STATE_QUICK_I2"}, {"type": "b", "data": True}],
         now if paths == ["3", "4"] else now[2:] + now[:2])
sig = open(T + "/signals.txt").read()
for n in ("1", "2", "3", "4"):
    check("InterfacesAdded for state/%s with org.freeswan.pluto1.State" % n,
          re.search(r"InterfacesAdded \(objectpath '/org/freeswan/pluto1/state/%s', \{.*'org\.freeswan\.pluto1\.State'" % n, sig))
for conn in ("fq", "ip"):
    codes = [c for c, _ in progress_signals(T + "/signals.txt", "/org/freeswan/pluto1/connection/" + conn)]
    check_eq("Progress signals of %s: the same codes as Varlink (102..110, 004)" % conn, [102, 104, 106, 108, 110, 4], codes)
msgs = [m for _, m in progress_signals(T + "/signals.txt", "/org/freeswan/pluto1/connection/ip")]
check("Progress messages are the whack lines", msgs and msgs[-1].startswith('"ip" #4: STATE_QUICK_I2: '), msgs)

TYPES = {"Serial": "u", "Connection": "o", "Kind": "s", "Name": "s", "Established": "b", "Initiator": "b",
         "PeerAddress": "s", "PeerId": "s", "Algorithms": "s", "InboundSpis": "au", "OutboundSpis": "au",
         "ExpiresAt": "t", "RekeyAt": "t", "XauthUser": "s", "VirtualAddress": "s", "Dns": "as",
         "Domains": "as", "Banner": "s", "SplitInclude": "as"}
VARLINK = {"Serial": "serial", "Connection": "connection", "Kind": "kind", "Name": "name",
           "Established": "established", "Initiator": "initiator", "PeerAddress": "peerAddress",
           "PeerId": "peerId", "Algorithms": "algorithms", "InboundSpis": "inboundSpis",
           "OutboundSpis": "outboundSpis", "ExpiresAt": "expiresAt", "RekeyAt": "rekeyAt",
           "XauthUser": "xauthUser", "VirtualAddress": "virtualAddress", "Dns": "dns", "Domains": "domains",
           "Banner": "banner", "SplitInclude": "splitInclude"}
status = {s["serial"]: s for s in lines_json(T + "/status-a2.json")[0]["parameters"]["states"]}
WANT = {1: ("fq", "isakmp", "STATE_MAIN_I4", "198.51.100.2", "user@east.example", LIFE_IKE),
        2: ("fq", "ipsec", "STATE_QUICK_I2", "198.51.100.2", "user@east.example", LIFE_SA),
        3: ("ip", "isakmp", "STATE_MAIN_I4", "198.51.100.12", "198.51.100.12", LIFE_IKE),
        4: ("ip", "ipsec", "STATE_QUICK_I2", "198.51.100.12", "198.51.100.12", LIFE_SA)}
for n, (conn, kind, name, peer, pid, life) in WANT.items():
    props = lines_json("%s/state-%d.json" % (T, n))[0]["data"][0]
    check_eq("D-Bus state/%d: every State property, with its type" % n, TYPES,
             {k: v["type"] for k, v in props.items()})
    if set(props) != set(TYPES):
        continue
    v = {k: x["data"] for k, x in props.items()}
    check_eq("D-Bus state/%d: Serial is the path's number" % n, n, v["Serial"])
    check_eq("D-Bus state/%d: Connection is the connection's path" % n, "/org/freeswan/pluto1/connection/" + conn, v["Connection"])
    s = {VARLINK[k]: x for k, x in v.items()}
    s["connection"] = conn
    check_state("D-Bus state/%d" % n, s, conn, kind, name, True, peer, pid, life)
    vs = status.get(n, {})
    check_eq("D-Bus state/%d: the same values as Varlink Status" % n, {**vs, "connection": conn}, s)
for conn, isakmp, ipsec in (("fq", 1, 2), ("ip", 3, 4)):
    props = lines_json("%s/conn-%s.json" % (T, conn))[0]["data"][0]
    st = lambda n: "/org/freeswan/pluto1/state/%d" % n
    check_eq("Connection %s: States points at its states" % conn, sorted([st(isakmp), st(ipsec)]), sorted(props["States"]["data"]))
    check_eq("Connection %s: NewestIsakmpState" % conn, st(isakmp), props["NewestIsakmpState"]["data"])
    check_eq("Connection %s: NewestIpsecState" % conn, st(ipsec), props["NewestIpsecState"]["data"])
ip_b = states_of(T + "/status-b2.json", "ip")
check_eq("responder has one ISAKMP and one IPsec state for ip", ["ipsec", "isakmp"], [s["kind"] for s in ip_b])
if len(ip_b) == 2:
    check_state("responder IPsec SA (ip)", ip_b[0], "ip", "ipsec", "STATE_QUICK_R2", False, "198.51.100.11", "198.51.100.11", LIFE_SA)
    check_state("responder ISAKMP SA (ip)", ip_b[1], "ip", "isakmp", "STATE_MAIN_R3", False, "198.51.100.11", "198.51.100.11", LIFE_IKE)
PY

# =====================================================================
# State.Delete() on ip's IPsec SA: gone here, and at the peer (Delete)
# =====================================================================
gdbus call --system --dest "$DEST" --object-path "$ROOT/state/4" \
	--method org.freeswan.pluto1.State.Delete >"$T/delete.out" 2>&1
check_eq "State.Delete() replies ()" "()" "$(cat "$T/delete.out")"
wait_for 5 grep -q "InterfacesRemoved (objectpath '/org/freeswan/pluto1/state/4'" "$T/signals.txt"
check "InterfacesRemoved for state/4, naming the State interface" \
	grep -q "InterfacesRemoved (objectpath '/org/freeswan/pluto1/state/4', \\[.*'org\\.freeswan\\.pluto1\\.State'" "$T/signals.txt"
check_contains "state/4 is no longer an object" "Unknown object" \
	"$("${BUSCTL[@]}" get-property "$DEST" "$ROOT/state/4" org.freeswan.pluto1.State Serial 2>&1)"
check_eq "initiator keeps only ip's ISAKMP SA" "STATE_MAIN_I4:true" "$(states a ip)"
check_eq "Connection ip: NewestIpsecState is / again" 'o "/"' \
	"$("${BUSCTL[@]}" get-property "$DEST" "$IPPATH" org.freeswan.pluto1.Connection NewestIpsecState 2>&1)"
check_eq "Connection ip: States lists the ISAKMP SA only" 'ao 1 "/org/freeswan/pluto1/state/3"' \
	"$("${BUSCTL[@]}" get-property "$DEST" "$IPPATH" org.freeswan.pluto1.Connection States 2>&1)"
wait_for 5 test "$(states b ip)" == "STATE_MAIN_R3:true"
check_eq "the responder deleted its IPsec SA on the Delete payload" "STATE_MAIN_R3:true" "$(states b ip)"
check_contains "the responder logged the IPsec Delete" "deleting IPsec State" "$(cat "$(pluto_log b)")"
check_eq "fq on the responder is untouched" "STATE_MAIN_R3:true STATE_QUICK_R2:true" "$(states b fq)"

# --- the Monitor stream, started before everything above ---
wait_for 5 grep -aq '"stateRemoved"' "$T/monitor.out"
pychecks monitor "$T/monitor.out" <<'PY'
changes = [r["parameters"]["change"] for r in lines_json(argv[1], "\0")]
check("Monitor: every reply is a change with continues", changes)
added = [c["state"]["serial"] for c in changes if c["event"] == "stateAdded"]
check_eq("Monitor: stateAdded for each new state", [1, 2, 3, 4], added)
up = sorted({(c["state"]["serial"], c["state"]["name"]) for c in changes
             if c["event"] == "stateChanged" and c["state"]["established"]
             and c["state"]["name"] in ("STATE_MAIN_I4", "STATE_QUICK_I2")})
check_eq("Monitor: stateChanged shows each state established in its final name",
         [(1, "STATE_MAIN_I4"), (2, "STATE_QUICK_I2"), (3, "STATE_MAIN_I4"), (4, "STATE_QUICK_I2")], up)
bare = [c["state"]["serial"] for c in changes if c["event"] == "stateChanged"
        and c["state"]["established"] and not c["state"]["expiresAt"]]
check_eq("Monitor: no state is ever shown established without its lifetime", [], bare)
named = [c for c in changes if c["event"] == "stateChanged" and c.get("property") == "Name"]
check("Monitor: Name changes say which property changed", len(named) >= 10, len(named))
removed = [c["state"]["serial"] for c in changes if c["event"] == "stateRemoved"]
check_eq("Monitor: stateRemoved for the deleted IPsec SA", [4], removed)
check("Monitor: changes name their connection", all(c.get("connectionName") in ("fq", "ip") for c in changes
      if c["event"].startswith("state")))
codes = [c["code"] for c in changes if c["event"] == "progress" and c.get("connectionName") == "ip"]
check_eq("Monitor: progress events carry the same codes", [102, 104, 106, 108, 110, 4], codes[:6])
PY

# =====================================================================
# A peer that does not answer: the responder's pluto is stopped (its
# shutdown Deletes clear our states first). Three listeners at once, one
# 14 s wait: Varlink Initiate(more) and whack --initiate on the same
# Main Mode of fq, D-Bus Initiate(true) on ip.
# =====================================================================
stop_side b
check_eq "responder stopped cleanly" 0 "$IO_STOPPED_STATUS"
check_not_contains "no sanitizer report (responder)" "Sanitizer" "$(cat "$(pluto_log b)")"
wait_for 5 test -z "$(states a '*')"
check_eq "the responder's shutdown Deletes cleared the initiator's states" "" "$(states a '*')"
mark=$(wc -l <"$T/signals.txt")
SECONDS=0
{ printf '%s\0' '{"method":"org.freeswan.pluto.Initiate","parameters":{"name":"fq"},"more":true}' |
	socat -t 60 - "UNIX-CONNECT:$(pluto_sock a)" >"$T/vl-dead.out"; } &
vl_job=$!
wait_for 5 grep -aq '"code":102' "$T/vl-dead.out"
{ timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name fq --initiate >"$T/whack-dead.out" 2>&1
  echo $? >"$T/whack-dead.rc"; } &
whack_job=$!
{ gdbus call --system --timeout 60 --dest "$DEST" --object-path "$IPPATH" \
	--method org.freeswan.pluto1.Connection.Initiate true >"$T/dbus-dead.out" 2>&1
  echo $? >"$T/dbus-dead.rc"; } &
dbus_job=$!
wait "$vl_job" "$whack_job" "$dbus_job"
elapsed=$SECONDS
check "silent peer: all three gave up after about 14 s (took ${elapsed} s)" test "$elapsed" -ge 13 -a "$elapsed" -le 17
wait_for 5 grep -q "Progress (uint32 31, '\"ip\"" "$T/signals.txt"
tail -n +"$((mark + 1))" "$T/signals.txt" >"$T/signals-dead.txt"
check_eq "silent peer: whack exits 31" 31 "$(cat "$T/whack-dead.rc")"
check_eq "silent peer: whack printed 010 for each of the two resends" 2 "$(grep -c '^010 .*retransmission' "$T/whack-dead.out")"
check_contains "silent peer: whack's last line is the 031 of the man page" \
	"031 \"fq\" #" "$(tail -n 1 "$T/whack-dead.out")"
check_contains "silent peer: ... max number of retransmissions" "max number of retransmissions (2) reached STATE_MAIN_I1" \
	"$(tail -n 1 "$T/whack-dead.out")"
check_not_contains "silent peer: D-Bus Initiate(true) did not succeed" "objectpath" "$(cat "$T/dbus-dead.out")"
check_contains "silent peer: D-Bus Initiate(true) fails with NegotiationFailed" \
	"GDBus.Error:org.freeswan.pluto1.Error.NegotiationFailed: " "$(cat "$T/dbus-dead.out")"
check_contains "silent peer: ... saying why" "max number of retransmissions (2) reached" "$(cat "$T/dbus-dead.out")"
pychecks dead "$T" <<'PY'
T = argv[1]
replies = lines_json(T + "/vl-dead.out", "\0")
progress, final = replies[:-1], replies[-1]
# 002: whack joined the Main Mode under way; its line reaches every listener
check_eq("silent peer: Varlink Initiate(more) streams 102, 002, 010, 010, 031",
         [102, 2, 10, 10, 31], [r["parameters"].get("code") for r in progress])
check("silent peer: ... every progress reply continues", all(r.get("continues") is True for r in progress))
check("silent peer: ... the 010 lines say a message was resent",
      all("retransmission" in r["parameters"]["message"] for r in progress[2:4]), progress)
check_eq("silent peer: Varlink Initiate(more) ends with NegotiationFailed", "org.freeswan.pluto.NegotiationFailed",
         final.get("error"))
check_eq("silent peer: ... with code 31", 31, final.get("parameters", {}).get("code"))
check("silent peer: ... and no continues", final.get("continues") is not True)
codes = [c for c, _ in progress_signals(T + "/signals-dead.txt", "/org/freeswan/pluto1/connection/ip")]
check_eq("silent peer: D-Bus Progress of ip: 102, 010, 010, 031", [102, 10, 10, 31], codes)
codes = [c for c, _ in progress_signals(T + "/signals-dead.txt", "/org/freeswan/pluto1/connection/fq")]
check_eq("silent peer: D-Bus Progress of fq: the same lines (two initiators, one Main Mode)", [102, 2, 10, 10, 31], codes)
PY
check_eq "silent peer: no states left on the initiator" "" "$(states a '*')"
exec 7>&-
stop_side a
check_eq "initiator stopped cleanly" 0 "$IO_STOPPED_STATUS"
check_not_contains "no sanitizer report (initiator)" "Sanitizer" "$(cat "$(pluto_log a)")"
done_testing
