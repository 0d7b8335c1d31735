#!/bin/bash
# Remote access, pluto <-> pluto (tests/lib/scenario.sh): a gateway b
# (198.51.100.2, xauthserver + modecfgserver, a pool 10.9.0.1-10.9.0.20)
# and road warriors (xauthclient + modecfgclient): alice and carol on a
# (198.51.100.1 and .4), bob on c (203.0.113.3, a second host behind b:
# one host cannot route two connections to the same gateway subnet), PSK +
# XAUTH + Mode Config.
#
#   remote-access.sh pluto
#
# Checked: pull (REQUEST/REPLY) and push (SET/ACK); the client's State
# (Varlink Status) shows xauthUser, virtualAddress, dns, domains and
# banner (and SplitInclude); its IPsec SA uses the virtual address as its own client and the
# gateway's Quick Mode takes exactly that address; the gateway's log names
# the user; a wrong password makes `ipsecctl up` fail with
# AuthenticationFailed within seconds (no retransmission timeout) and the
# gateway logs the user that failed after three tries; a second identity
# gets another address, a reconnect the same one; with --debug-all on
# both (pluto_launch's default) the passwords appear in no log; a client
# without rightsubnet (bobsplit) takes the gateway's split include as its
# remote subnet and Quick Mode establishes with it; a gateway conn with an
# IPv6 pool, IPv6 DNS and an IPv6 subnet (over IPv4 IKE) lends bob6 an IPv6
# address shown with its DNS on his State, carried by Quick Mode (pull,
# then push as bob6push); the
# IPv4-pool template refuses Quick Mode for a subnet it does not protect.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
PEER=${1:-}
[ "$PEER" = pluto ] || { echo "usage: remote-access.sh pluto" >&2; exit 2; }

PSK='"remote access group key"'
ALICE_PW='alice-Pw-7f3e9c'
BOB_PW='bob-Pw-51ad02'
WRONG_PW='mallory-Pw-c0ffee'

# b's template, written from the road warrior's side (left = %any)
gateway_conn() {
	local name=$1 pull=$2
	pluto_ctl b add "$name" left=%any right=198.51.100.2 rightsubnet=10.2.0.0/16 authby=secret \
		leftxauthclient=yes leftmodecfgclient=yes leftaddresspool=10.9.0.1-10.9.0.20 \
		rightxauthserver=yes rightmodecfgserver=yes modecfgpull="$pull" \
		modecfgdns=10.2.0.53,10.2.0.54 modecfgdomains=corp.example,lab.example \
		modecfgbanner="Authorised users only" xauthby=file >/dev/null
}
# SIDE's connection NAME from address ADDR as USER
client_conn() {
	local side=$1 name=$2 addr=$3 user=$4 pull=$5
	shift 5
	pluto_ctl "$side" add "$name" left="$addr" right=198.51.100.2 rightsubnet=10.2.0.0/16 authby=secret \
		leftxauthclient=yes leftmodecfgclient=yes leftusername="$user" \
		rightxauthserver=yes rightmodecfgserver=yes modecfgpull="$pull" "$@" >/dev/null
}
# isakmp SIDE CONN FIELD: FIELD of CONN's established ISAKMP state (jq -c)
isakmp() {
	pluto_ctl "$1" status --json | jq -c --arg c "$2" \
		"[.states[] | select(.connection == \$c and .kind == \"isakmp\" and .established)] | last | .$3"
}
ipsec_count() {
	pluto_ctl "$1" status --json | jq --arg c "$2" '[.states[] | select(.connection == $c and .kind == "ipsec" and .established)] | length'
}
up() { status_of timeout 30 "$IPSECCTL" --socket "$(pluto_sock "${2:-a}")" up "$1"; }

# v6_lease GWCONN CLIENT PULL WHAT: b adds the IPv6 template GWCONN (an
# IPv6 pool and DNS server, an IPv6 subnet, modecfgpull=PULL), c's CLIENT
# comes up with an address from that pool, its DNS and one IPsec SA that
# carries both clients; the address is left in V6 (no subshell: the checks
# count in this shell).
v6_lease() {
	local gw=$1 cl=$2 pull=$3 what=$4
	check "b: the IPv6 template $gw" pluto_ctl b add "$gw" left=%any right=198.51.100.2 \
		rightsubnet=2001:db8:2::/48 authby=secret leftxauthclient=yes leftmodecfgclient=yes \
		leftaddresspool=2001:db8:99::10-2001:db8:99::20 rightxauthserver=yes rightmodecfgserver=yes \
		modecfgpull="$pull" modecfgdns=2001:db8:2::53 xauthby=file
	check_eq "$what: ipsecctl up exits 0" 0 "$(up "$cl" c)"
	V6=$(isakmp c "$cl" virtualAddress | tr -d '"')
	check "$what: a virtual address from the IPv6 pool ($V6)" \
		grep -qE '^2001:db8:99::(1[0-9a-f]|20)/128$' <<<"$V6"
	check_eq "$what: Dns" '["2001:db8:2::53"]' "$(isakmp c "$cl" dns)"
	check_eq "$what: one IPsec SA" 1 "$(ipsec_count c "$cl")"
	check_contains "c: Quick Mode carried $what's IPv6 clients" "${V6}===2001:db8:2::/48" \
		"$(cat "$(pluto_log c)")"
}
remote_access_pluto() {
	io_require_netns jq
	io_side a pluto
	io_side b pluto
	io_side c pluto
	io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
	ip -n "$(ns_of a)" addr add 198.51.100.4/24 dev "$(if_of a b)"
	io_link b 203.0.113.2/24 c 203.0.113.3/24 || fail "c linked to b"
	ip -n "$(ns_of c)" route add 198.51.100.0/24 via 203.0.113.2
	# c's second address: a client of its own (no SA of bob's from it)
	ip -n "$(ns_of c)" addr add 203.0.113.4/24 dev "$(if_of c b)"
	wait_for 5 ip netns exec "$(ns_of c)" ping -c1 -W1 198.51.100.2 >/dev/null || fail "c reaches b"
	printf ': PSK %s\n@alice : XAUTH "%s"\n@bob : XAUTH "%s"\n@carol : XAUTH "%s"\n' \
		"$PSK" "$ALICE_PW" "$BOB_PW" "$WRONG_PW" >"$T/a/ipsec.secrets"
	printf '198.51.100.2 %%any : PSK %s\n@alice : XAUTH "%s"\n@bob : XAUTH "%s"\n@carol : XAUTH "%s"\n' \
		"$PSK" "$ALICE_PW" "$BOB_PW" "carol-real-Pw-9b1d" >"$T/b/ipsec.secrets"
	cp "$T/a/ipsec.secrets" "$T/c/ipsec.secrets"
	chmod 600 "$T/a/ipsec.secrets" "$T/b/ipsec.secrets" "$T/c/ipsec.secrets"
	pluto_launch a || fail "pluto a started"
	# c is on a private D-Bus (Initiate(true) of a refused user)
	command -v gdbus >/dev/null || skip_all "no gdbus"
	start_bus || fail "private bus started"
	pluto_launch c --kernel none --debug-all --ikeport 500 || fail "pluto c started on the bus"
	wait_for 10 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.freeswan.pluto1 >/dev/null
	pluto_launch b || fail "pluto b started"

	# --- pull: alice from .1 ---
	check "b: the pull template" gateway_conn ra-pull yes
	client_conn a alice 198.51.100.1 alice yes
	check_eq "alice (pull): ipsecctl up exits 0" 0 "$(up alice)"
	check_eq "alice: state XauthUser" '"alice"' "$(isakmp a alice xauthUser)"
	va=$(isakmp a alice virtualAddress | tr -d '"')
	check "alice: a virtual address from the pool ($va)" grep -qE '^10\.9\.0\.([1-9]|1[0-9]|20)/32$' <<<"$va"
	check_eq "alice: Dns" '["10.2.0.53","10.2.0.54"]' "$(isakmp a alice dns)"
	check_eq "alice: Domains" '["corp.example","lab.example"]' "$(isakmp a alice domains)"
	check_eq "alice: Banner" '"Authorised users only"' "$(isakmp a alice banner)"
	check_eq "alice: one IPsec SA" 1 "$(ipsec_count a alice)"
	check_contains "b: alice's Quick Mode took the lent address as her client" \
		"Quick Mode: client $va is the address lent to \"alice\"" "$(cat "$(pluto_log b)")"
	check_contains "b: the gateway names the user" 'XAUTH: user "alice" authenticated' "$(cat "$(pluto_log b)")"
	check_contains "b: the gateway logs the lease" "Mode Config: lent ${va%/32} to \"alice\"" "$(cat "$(pluto_log b)")"
	check_contains "a and b exchanged the XAUTH vendor id" "received Vendor ID payload [XAUTH]" "$(cat "$(pluto_log b)")"

	# --- a second identity gets another address ---
	client_conn c bob 203.0.113.3 bob yes
	check_eq "bob (pull, from c): ipsecctl up exits 0" 0 "$(up bob c)"
	vb=$(isakmp c bob virtualAddress | tr -d '"')
	check "bob: a virtual address ($vb)" test -n "$vb"
	check "bob's address differs from alice's ($vb vs $va)" test "$vb" != "$va"

	# --- reconnect keeps the lease ---
	pluto_ctl a down alice >/dev/null
	wait_for 5 test "$(isakmp a alice virtualAddress)" = null
	check_eq "alice again: ipsecctl up exits 0" 0 "$(up alice)"
	check_eq "alice again: the same address" "\"$va\"" "$(isakmp a alice virtualAddress)"

	# --- a wrong password: AuthenticationFailed within seconds ---
	client_conn a carol 198.51.100.4 carol yes
	start=$(date +%s)
	rc=$(up carol)
	took=$(($(date +%s) - start))
	out=$(cat "$T/last.out")
	check "carol: ipsecctl up fails" test "$rc" -ne 0
	check_contains "carol: the error is AuthenticationFailed" "AuthenticationFailed" "$out"
	check_contains "carol: the progress shows the refusal (224)" "refused user \"carol\"" "$out"
	check "carol: it failed within 10 s, not by a retransmission timeout (${took}s)" test "$took" -lt 10
	check_contains "b: the gateway logs the user that failed" \
		'XAUTH: user "carol" refused after 3 tries' "$(cat "$(pluto_log b)")"
	check_eq "b: three failed tries for carol" 3 "$(grep -c 'XAUTH: user "carol" failed to authenticate' "$(pluto_log b)")"
	check_eq "a: no state left for carol" "" \
		"$(pluto_ctl a status --json | jq -r '.states[] | select(.connection == "carol") | .serial')"
	# whack: the refusal's line and exit code 224 (200 + AUTHENTICATION_FAILED)
	rc=$(status_of timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name carol --initiate)
	out=$(cat "$T/last.out")
	check_eq "carol: whack --initiate exits 224" 224 "$rc"
	check_contains "carol: whack prints the refusal" 'refused user "carol"' "$out"
	# D-Bus: Initiate(true) fails with AuthenticationFailed
	client_conn c carolbus 203.0.113.4 carol yes
	start=$(date +%s)
	rc=$(status_of timeout 30 gdbus call --system --dest org.freeswan.pluto1 \
		--object-path /org/freeswan/pluto1/connection/carolbus \
		--method org.freeswan.pluto1.Connection.Initiate true)
	took=$(($(date +%s) - start))
	out=$(cat "$T/last.out")
	check "carol over D-Bus: Initiate(true) fails" test "$rc" -ne 0
	check_contains "carol over D-Bus: the error is AuthenticationFailed" \
		"org.freeswan.pluto1.Error.AuthenticationFailed" "$out"
	check "carol over D-Bus: within 10 s (${took}s)" test "$took" -lt 10

	# --- push: the gateway sends SET, the client ACKs ---
	pluto_ctl a delete alice >/dev/null
	pluto_ctl c delete bob >/dev/null
	pluto_ctl a delete carol >/dev/null
	pluto_ctl b delete ra-pull >/dev/null
	sleep 1
	check "b: the push template" gateway_conn ra-push no
	# (a short ikelifetime: the ISAKMP SA is rekeyed 8 s after it is up)
	client_conn a alicepush 198.51.100.1 alice no ikelifetime=16s rekeymargin=8s rekeyfuzz=0%
	check_eq "alice (push): ipsecctl up exits 0" 0 "$(up alicepush)"
	check_eq "alice (push): XauthUser" '"alice"' "$(isakmp a alicepush xauthUser)"
	check_contains "alice (push): a virtual address" "10.9.0." "$(isakmp a alicepush virtualAddress)"
	check_contains "b: pushed by SET" "sent Mode Config SET" "$(cat "$(pluto_log b)")"
	check_eq "alice (push): one IPsec SA" 1 "$(ipsec_count a alicepush)"
	check_eq "alice (push): SplitInclude (the gateway's subnet)" '["10.2.0.0/16"]' "$(isakmp a alicepush splitInclude)"

	# --- an ISAKMP rekey keeps the user and the address, without XAUTH ---
	first=$(isakmp a alicepush serial)
	vp=$(isakmp a alicepush virtualAddress)
	n_xauth=$(grep -c 'XAUTH: user "alice" authenticated' "$(pluto_log b)")
	wait_for 20 test "$(isakmp a alicepush serial)" != "$first"
	check "alice (push): the ISAKMP SA was rekeyed (#$first -> #$(isakmp a alicepush serial))" \
		test "$(isakmp a alicepush serial)" != "$first"
	check_eq "rekey: the new ISAKMP SA has the same address" "$vp" "$(isakmp a alicepush virtualAddress)"
	check_eq "rekey: the new ISAKMP SA has the same user" '"alice"' "$(isakmp a alicepush xauthUser)"
	check_eq "rekey: the new ISAKMP SA has the split include" '["10.2.0.0/16"]' "$(isakmp a alicepush splitInclude)"
	check_contains "rekey: a carried XAUTH and Mode Config over" "carried over (no new exchange)" "$(cat "$(pluto_log a)")"
	check_contains "rekey: b carried them over" "carried over (no new exchange)" "$(cat "$(pluto_log b)")"
	check_eq "rekey: b did not ask for the password again" "$n_xauth" \
		"$(grep -c 'XAUTH: user "alice" authenticated' "$(pluto_log b)")"

	# --- split include: a client without rightsubnet reaches what the
	# gateway sends as UNITY_SPLIT_INCLUDE (its own subnet, 10.2.0.0/16) ---
	pluto_ctl c add bobsplit left=203.0.113.3 right=198.51.100.2 authby=secret \
		leftxauthclient=yes leftmodecfgclient=yes leftusername=bob \
		rightxauthserver=yes rightmodecfgserver=yes modecfgpull=no >/dev/null
	check_eq "bob (no rightsubnet): ipsecctl up exits 0" 0 "$(up bobsplit c)"
	check_eq "bob: State SplitInclude is the gateway's subnet" '["10.2.0.0/16"]' "$(isakmp c bobsplit splitInclude)"
	check_eq "bob: one IPsec SA" 1 "$(ipsec_count c bobsplit)"
	vs=$(isakmp c bobsplit virtualAddress | tr -d '"')
	check_contains "b: bob's Quick Mode asked for 10.2.0.0/16 from his lent address" \
		"Quick Mode: client $vs is the address lent to \"bob\"" "$(cat "$(pluto_log b)")"
	check_contains "c: Quick Mode proposed the split include as the peer's client" \
		"${vs}===10.2.0.0/16" "$(cat "$(pluto_log c)")"
	check_contains "c: ipsecctl show lists the split include" "split:       10.2.0.0/16" \
		"$("$IPSECCTL" --socket "$(pluto_sock c)" show bobsplit 2>&1)"

	# --- IPv6 Mode Config over the IPv4 IKE transport: an IPv6 pool and
	# DNS server, an IPv6 subnet behind the gateway (pull) ---
	pluto_ctl c delete bobsplit >/dev/null
	check "c: the IPv6 client" pluto_ctl c add bob6 left=203.0.113.3 right=198.51.100.2 \
		rightsubnet=2001:db8:2::/48 authby=secret leftxauthclient=yes leftmodecfgclient=yes \
		leftusername=bob rightxauthserver=yes rightmodecfgserver=yes modecfgpull=yes
	# ra-push (IPv4 pool, 10.2.0.0/16) is the template Main Mode picks: its
	# lease pins it, so Quick Mode for another subnet is refused
	check "bob (IPv6) against ra-push: ipsecctl up fails" test "$(up bob6 c)" -ne 0
	check_contains "b: refused the subnet ra-push does not protect" \
		"Quick Mode refused: the client asks for 2001:db8:2::/48 but \"ra-push+" \
		"$(cat "$(pluto_log b)")"
	pluto_ctl c down bob6 >/dev/null
	pluto_ctl b delete ra-push >/dev/null
	v6_lease ra-v6 bob6 yes "bob (IPv6)"
	check_contains "b: the gateway logs the IPv6 lease" "Mode Config: lent ${V6%/128} to \"bob\"" \
		"$(cat "$(pluto_log b)")"
	check_contains "b: Quick Mode took the IPv6 address as bob's client" \
		"Quick Mode: client $V6 is the address lent to \"bob\"" "$(cat "$(pluto_log b)")"
	# the same pushed (SET / ACK)
	pluto_ctl c delete bob6 >/dev/null
	pluto_ctl b delete ra-v6 >/dev/null
	sleep 1
	check "c: the IPv6 push client" pluto_ctl c add bob6push left=203.0.113.3 right=198.51.100.2 \
		rightsubnet=2001:db8:2::/48 authby=secret leftxauthclient=yes leftmodecfgclient=yes \
		leftusername=bob rightxauthserver=yes rightmodecfgserver=yes modecfgpull=no
	v6_lease ra-v6push bob6push no "bob (IPv6, push)"

	# --- no password in any log (both run with --debug-all) ---
	for pw in "$ALICE_PW" "$BOB_PW" "$WRONG_PW" carol-real-Pw-9b1d; do
		check_not_contains "no password in a's log" "$pw" "$(cat "$(pluto_log a)")"
		check_not_contains "no password in b's log" "$pw" "$(cat "$(pluto_log b)")"
		check_not_contains "no password in c's log" "$pw" "$(cat "$(pluto_log c)")"
	done
	check_contains "the ATTR dump masks it" "XAUTH_USER_PASSWORD (16522, TLV): (masked" "$(cat "$(pluto_log a)")"

	io_stop a
	check_eq "a exits cleanly" 0 "$IO_STOPPED_STATUS"
	io_stop b
	check_eq "b exits cleanly" 0 "$IO_STOPPED_STATUS"
	io_stop c
	check_eq "c exits cleanly" 0 "$IO_STOPPED_STATUS"
	check_not_contains "no sanitizer report (a)" "Sanitizer" "$(cat "$(pluto_log a)")"
	check_not_contains "no sanitizer report (b)" "Sanitizer" "$(cat "$(pluto_log b)")"
}

remote_access_pluto
done_testing
