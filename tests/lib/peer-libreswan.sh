# shellcheck shell=bash
# libreswan 4.10 (unpacked by setup.sh into $INTEROP_ROOT/libreswan) as an
# interop peer. Sourced by lib.sh. Per side, in $T/SIDE:
#   ipsec.conf, ipsec.secrets   "config setup" + conn "lab"
#   nss/                        NSS db (raw RSA private keys are imported)
#   run/                        --rundir: pluto.ctl (whack socket)
# log $T/SIDE-libreswan.log (--stderrlog, plus the xfrm stub's lines).
#
# Why a private mount namespace: libreswan's pluto execs the compiled-in
# /usr/libexec/ipsec/addconn at start-up and dies without it; /usr/libexec
# and /run are covered with tmpfs inside pluto's own mount namespace only,
# /usr/libexec/ipsec points at the unpacked tree; the host is untouched.
# Why the xfrm stub: libreswan only knows XFRM and installs the inbound SA
# before it answers Quick Mode; this kernel has no ESP/AH/IPComp, so without
# the stub QR1/QI2 would never be sent.

libreswan_whack() { local s=$1; shift; "$LSBIN/whack" --rundir "$T/$s/run" "$@"; }

# libreswan_conf_head SIDE AUTH: the start of SIDE's ipsec.conf, the same
# for every role: config setup, and conn lab up to its own end (the caller
# writes the rest of the conn)
libreswan_conf_head() {
	cat <<EOF
config setup
    # 4.10 drops every IKEv1 packet by default
    ikev1-policy=accept
    plutodebug=${IO_LS_PLUTODEBUG:-none}
    uniqueids=yes

conn lab
    ikev2=no
    $2
    left=$(ip_of "$1")
    leftid=$(ip_of "$1")
EOF
}

# IO_REMOTE_ANY=1: a road-warrior responder (right=%any, rightid=%any,
# secret "OURS %any"). IO_LS_EXTRA: more lines for conn lab (not
# keyingtries or retransmit-timeout, which are set); IO_LS_PLUTODEBUG:
# plutodebug= (default none)
libreswan_conf() {
	local s=$1 d=$T/$1 p alg auth right rightid
	p=$(other "$1")
	right=$(ip_of "$p") rightid=$(ip_of "$p")
	[ -n "${IO_REMOTE_ANY:-}" ] && right=%any rightid=%any
	mkdir -p "$d/run" "$d/ipsec.d" "$d/nss"
	[ -f "$d/nss/cert9.db" ] || certutil -N -d "sql:$d/nss" --empty-password || return 1
	if [ "$PHASE2" = ah ]; then alg=$P2_INTEG; else alg=$(io_p2_enc libreswan); fi
	if [ "$AUTH" = rsa ]; then
		# NSS imports private keys from PKCS#12, which wants a certificate:
		# a throw-away self-signed one; pluto finds the key by the CKAID of
		# leftrsasigkey, the certificate itself is never used
		openssl req -x509 -key "$T/keys/$s.key" -subj "/CN=interop-$s" -days 2 \
			-out "$d/own.crt" 2>/dev/null &&
		openssl pkcs12 -export -inkey "$T/keys/$s.key" -in "$d/own.crt" -name "interop-$s" \
			-passout pass:interop -out "$d/own.p12" &&
		pk12util -i "$d/own.p12" -d "sql:$d/nss" -W interop >/dev/null || return 1
		auth="authby=rsasig
    leftrsasigkey=$(cat "$T/keys/$s.rfc3110")
    rightrsasigkey=$(cat "$T/keys/$p.rfc3110")"
		echo "# RSA keys are in $d/nss" >"$d/ipsec.secrets"
	else
		auth="authby=secret"
		echo "$(ip_of "$s") $right : PSK \"$PSK\"" >"$d/ipsec.secrets"
	fi
	chmod 600 "$d/ipsec.secrets"
	case ${IO_RA[$s]:-} in
	gateway | client) libreswan_ra_conf "$s" "$auth"; return ;;
	esac
	{ libreswan_conf_head "$s" "$auth"; cat <<EOF
    leftsubnet=$(net_of "$s")
    right=$right
    rightid=$rightid
    rightsubnet=$(net_of "$p")
    ike=${IKE_ENC}-${IKE_HASH};${IKE_GROUP}
    phase2=$PHASE2
    phase2alg=${alg}${PFSGROUP:+;$PFSGROUP}
    pfs=$([ -n "$PFSGROUP" ] && echo yes || echo no)
    compress=$COMPRESS
    # give up quickly: the tests bound every negotiation
    keyingtries=1
    retransmit-timeout=15s
    # no _updown script (it would live under /usr/libexec/ipsec)
    leftupdown=%disabled
    auto=add
    ${IO_LS_EXTRA:-}
EOF
	} >"$d/ipsec.conf"
}

libreswan_start() {
	local s=$1 d=$T/$1 stub
	stub=$(io_stub) || return 1
	rm -f "$d/run/pluto.ctl" "$d/run/pluto.pid"
	# runs inside the netns and a private mount namespace (see above)
	local inner='
		mount -t tmpfs interop-libexec /usr/libexec &&
		ln -s "$LSBIN" /usr/libexec/ipsec &&
		mount -t tmpfs interop-run /run && mkdir -p /run/pluto || exit 1
		export LD_PRELOAD="$STUB"
		exec "$LSBIN/pluto" --config "$D/ipsec.conf" --secretsfile "$D/ipsec.secrets" \
			--ipsecdir "$D/ipsec.d" --nssdir "$D/nss" --rundir "$D/run" \
			--dumpdir "$D/run" --nofork --stderrlog'
	LSBIN=$LSBIN D=$d STUB=$stub ip netns exec "$(ns_of "$s")" \
		unshare -m --propagation private sh -c "$inner" >>"$T/$s-libreswan.log" 2>&1 </dev/null &
	echo $! >"$d/pluto.pid"
	wait_for 10 test -S "$d/run/pluto.ctl" ||
		{ echo "# libreswan did not come up on $s" >&2; return 1; }
	# pluto runs "addconn --autoall" itself at start-up: wait for the conn
	wait_for 10 sh -c '"$1" --rundir "$2" --status | grep -q "\"lab\":"' sh "$LSBIN/whack" "$d/run" ||
		{ echo "# libreswan did not load conn lab on $s" >&2; return 1; }
}

libreswan_initiate() {
	timeout "$IO_NEGOTIATE_TIMEOUT" "$LSBIN/whack" --rundir "$T/$1/run" --name lab --initiate
}

# libreswan_established SIDE: Main Mode and Quick Mode in their final
# states, SAs of the case's protocol ("esp.SPI@" or "ah.SPI@") and IPComp
# ("comp.CPI@") exactly when the case asks for it
libreswan_established() {
	local out
	local isakmp="STATE_MAIN_(I4|R3)"
	# a remote-access gateway's ISAKMP SA stays in STATE_MODE_CFG_R1 ("sent
	# ModeCfg reply, expecting Ack") after a pull REPLY, which no ACK follows
	[ -n "${IO_RA[$1]:-}" ] && isakmp="STATE_(MAIN_(I4|R3)|MODE_CFG_R[12])"
	out=$(libreswan_whack "$1" --showstates 2>/dev/null) || return 1
	grep -qE "$isakmp " <<<"$out" && grep -qE "STATE_QUICK_(I2|R2) " <<<"$out" &&
	grep -qE " $PHASE2\.[0-9a-f]+@" <<<"$out" || return 1
	if [ "$COMPRESS" = yes ]; then grep -qE " comp\.[0-9a-f]+@" <<<"$out"
	else ! grep -qE " comp\.[0-9a-f]+@" <<<"$out"; fi
}

libreswan_status() { libreswan_whack "$1" --showstates; }
# the negotiated algorithms ("ESP algorithm newest: AES_GCM_16_128-NONE")
libreswan_algs() { libreswan_whack "$1" --status; }

libreswan_stop() {
	local d=$T/$1 pid
	[ -f "$d/pluto.pid" ] || return 0
	pid=$(cat "$d/pluto.pid")
	if io_pid_ours "$pid"; then
		timeout 5 "$LSBIN/whack" --rundir "$d/run" --shutdown >/dev/null 2>&1
		io_kill "$pid" 5
	fi
	rm -f "$d/pluto.pid"
}

libreswan_log() { echo "$T/$1-libreswan.log"; }

# --- remote access (IO_RA[SIDE], variables in tests/lib/scenario.sh) ---
# libreswan_ra_conf SIDE AUTH_LINES: ipsec.conf for an XAUTH + Mode Config
# gateway or client. The gateway (left) protects its subnet, takes any
# peer, checks passwords with xauthby=file -- which in 4.10 reads
# <ipsecdir>/passwd ("user:crypt(3) hash"), not ipsec.secrets -- and lends
# from rightaddresspool; the client (left) proves leftusername with the
# "@user : XAUTH" entry of its ipsec.secrets and asks for its address.
libreswan_ra_conf() {
	local s=$1 d=$T/$1 p lines pull=yes
	p=$(other "$1")
	[ -n "${IO_RA_PUSH:-}" ] && pull=no
	if [ "${IO_RA[$s]}" = gateway ]; then
		[ "$AUTH" = rsa ] || echo "$(ip_of "$s") %any : PSK \"$PSK\"" >"$d/ipsec.secrets"
		{
			printf '%s:%s\n' "$IO_RA_USER" "$(openssl passwd -6 -stdin <<<"$IO_RA_PASSWORD")"
			printf '%s:%s\n' "$IO_RA_USER2" "$(openssl passwd -6 -stdin <<<"$IO_RA_PASSWORD2")"
		} >"$d/ipsec.d/passwd"
		chmod 600 "$d/ipsec.d/passwd"
		lines="leftsubnet=$(net_of "$s")
    leftxauthserver=yes
    leftmodecfgserver=yes
    right=%any
    rightid=$([ "$AUTH" = rsa ] && ip_of "$p" || echo %any)
    rightxauthclient=yes
    rightmodecfgclient=yes
    rightaddresspool=$IO_RA_POOL
    xauthby=file
    modecfgdns=\"$(sed 's/,/, /g' <<<"$IO_RA_DNS")\"
    modecfgdomains=\"$IO_RA_DOMAIN\"
    modecfgbanner=\"$IO_RA_BANNER\""
	else
		[ "$AUTH" = rsa ] || echo "$(ip_of "$s") $(ip_of "$p") : PSK \"$PSK\"" >"$d/ipsec.secrets"
		echo "@$IO_RA_USER : XAUTH \"${IO_RA_CLIENT_PASSWORD:-$IO_RA_PASSWORD}\"" >>"$d/ipsec.secrets"
		lines="leftxauthclient=yes
    leftmodecfgclient=yes
    leftusername=$IO_RA_USER
    right=$(ip_of "$p")
    rightid=$(ip_of "$p")
    rightsubnet=$(net_of "$p")
    rightxauthserver=yes
    rightmodecfgserver=yes"
	fi
	chmod 600 "$d/ipsec.secrets"
	{ libreswan_conf_head "$s" "$2"; cat <<EOF
    $lines
    modecfgpull=$pull
    ike=${IKE_ENC}-${IKE_HASH};${IKE_GROUP}
    phase2=esp
    phase2alg=$(io_p2_enc libreswan)${PFSGROUP:+;$PFSGROUP}
    pfs=$([ -n "$PFSGROUP" ] && echo yes || echo no)
    keyingtries=1
    retransmit-timeout=15s
    leftupdown=%disabled
    auto=add
    ${IO_LS_EXTRA:-}
EOF
	} >"$d/ipsec.conf"
}

# libreswan_ra_traffic SIDE: whack --trafficstatus (a line per IPsec SA:
# username=..., lease=...)
libreswan_ra_traffic() { libreswan_whack "$1" --trafficstatus 2>/dev/null; }
# libreswan_ra_vip SIDE: the virtual address as SIDE sees it. The gateway's
# traffic status names the lease it gave ("lease=A/32"); the client's
# status shows its conn with the address as its own subnet
# ("A/32===192.0.2.1...")
libreswan_ra_vip() {
	if [ "${IO_RA[$1]}" = gateway ]; then
		libreswan_ra_traffic "$1" | grep -oE 'lease=[0-9.]+(/[0-9]+)?' | head -1 | cut -d= -f2
	else
		libreswan_whack "$1" --status 2>/dev/null | grep -F '"lab"' |
			grep -oE '[0-9.]+/32===' | head -1 | sed 's/===$//'
	fi
}
# libreswan_ra_user SIDE: the XAUTH user of the IPsec SA (username=...)
libreswan_ra_user() {
	libreswan_ra_traffic "$1" | grep -oE "username=[^,]*" | head -1 | cut -d= -f2
}
# libreswan_ra_log SIDE: SIDE's log since its last start (libreswan appends)
libreswan_ra_log() {
	awk '/Starting Pluto/ { n = 0; delete l } { l[++n] = $0 } END { for (i = 1; i <= n; i++) print l[i] }' \
		"$T/$1-libreswan.log"
}
# libreswan_ra_dns SIDE: the DNS servers the client received, one a line,
# sorted: its log's "Received DNS server A" (with leftupdown=%disabled
# nothing installs them)
libreswan_ra_dns() {
	libreswan_ra_log "$1" | grep -oE 'Received DNS server [0-9.]+' | awk '{ print $4 }' | sort -u
}
# libreswan_ra_domain SIDE, libreswan_ra_banner SIDE: "Received Domain: D",
# "Received Banner: B" in the client's log
libreswan_ra_domain() { libreswan_ra_log "$1" | sed -n 's/.*Received Domain: //p' | tail -1; }
libreswan_ra_banner() { libreswan_ra_log "$1" | sed -n 's/.*Received Banner: //p' | tail -1; }
