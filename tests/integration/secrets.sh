#!/bin/bash
# ipsec.secrets and public keys through the running daemon: read at start
# of listening, reread on Listen and ReloadSecrets, a bad file refused with
# FILE:LINE while the old secrets stay, public keys via AddPublicKey and
# leftrsasigkey, and no secret ever in any output or log.
. "$SRCDIR/tests/lib/common.sh"

PSK1='first-psk-Zq8vW3'
PSK2='second-psk-Kp2mX9'
printf '127.0.0.1 192.0.2.2 : PSK "%s"\n' "$PSK1" >"$T/ipsec.secrets"
start_pluto --ikeport 5501 || { fail "pluto starts"; done_testing; }

r=$(varlink_call '{"method":"org.freeswan.pluto.Listen"}')
check_contains "Listen succeeds" '"parameters":{}' "$r"
check "Listen read the secrets file" grep -q "loaded 1 secrets\? from $T/ipsec.secrets" "$T/pluto.log"

printf '127.0.0.1 192.0.2.2 : PSK "%s"\n@a.example @b.example : PSK "%s"\n' "$PSK1" "$PSK2" >"$T/ipsec.secrets"
varlink_call '{"method":"org.freeswan.pluto.Listen"}' >/dev/null
check "a second Listen rereads the file" grep -q "loaded 2 secrets from $T/ipsec.secrets" "$T/pluto.log"

r=$(varlink_call '{"method":"org.freeswan.pluto.ReloadSecrets"}')
check_contains "ReloadSecrets succeeds" '"parameters":{}' "$r"
check_eq "ReloadSecrets logged a second load of 2" 2 "$(grep -c "loaded 2 secrets" "$T/pluto.log")"

# a broken file: error with FILE:LINE, old secrets stay in force
printf '# comment\n127.0.0.1 : PSK "%s"\n@x : PSK "unterminated\n' "$PSK2" >"$T/ipsec.secrets"
r=$(varlink_call '{"method":"org.freeswan.pluto.ReloadSecrets"}')
check_contains "bad file refused with InvalidSecrets" '"error":"org.freeswan.pluto.InvalidSecrets"' "$r"
check_contains "error names FILE:LINE" "$T/ipsec.secrets:3" "$r"
r=$("$WHACK" --ctlbase "$SOCK" --listen 2>&1)
check_contains "whack --listen reports the bad file" "ipsec.secrets:3" "$r"
check_eq "whack --listen exits 30 for a bad secrets file" 30 "$(status_of "$WHACK" --ctlbase "$SOCK" --listen)"
st=$(varlink_call '{"method":"org.freeswan.pluto.Status"}')
check_contains "still listening after the bad secrets file" '"listening":true' "$st"
rm -f "$T/ipsec.secrets"
r=$(varlink_call '{"method":"org.freeswan.pluto.ReloadSecrets"}')
check_contains "ReloadSecrets: missing file refused clearly" "does not exist" "$r"
r=$(varlink_call '{"method":"org.freeswan.pluto.Listen"}')
check_contains "Listen without a secrets file still succeeds" '"parameters":{}' "$r"
check "and warns about the missing file" grep -q "no secrets file $T/ipsec.secrets" "$T/pluto.log"

# public keys
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/peer.key" 2>/dev/null
openssl pkey -in "$T/peer.key" -pubout -out "$T/peer.pub" 2>/dev/null
key=$(awk '{printf "%s\\n", $0}' "$T/peer.pub")
r=$(varlink_call "{\"method\":\"org.freeswan.pluto.AddPublicKey\",\"parameters\":{\"id\":\"@peer.example\",\"key\":\"$key\"}}")
check_contains "AddPublicKey with a PEM key succeeds" '"parameters":{}' "$r"
check "the key's id is logged" grep -q "added public key for @peer.example" "$T/pluto.log"
r=$(varlink_call '{"method":"org.freeswan.pluto.AddPublicKey","parameters":{"id":"@peer.example","key":"0sAAAA"}}')
check_contains "a malformed key is refused" '"error":"org.freeswan.pluto.' "$r"
r=$(varlink_call "{\"method\":\"org.freeswan.pluto.AddPublicKey\",\"parameters\":{\"id\":\"not an id\",\"key\":\"$key\"}}")
check_contains "a malformed id is refused with BadId" '"error":"org.freeswan.pluto.BadId"' "$r"
r=$(varlink_call "{\"method\":\"org.freeswan.pluto.AddConnection\",\"parameters\":{\"name\":\"rsa\",\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.2\",\"authby\":\"rsasig\",\"rightrsasigkey\":\"%file:$T/peer.pub\"}}}")
check_contains "rightrsasigkey=%file: accepted" '"parameters":{}' "$r"
r=$(varlink_call '{"method":"org.freeswan.pluto.AddConnection","parameters":{"name":"rsa2","options":{"left":"127.0.0.1","right":"192.0.2.2","rightrsasigkey":"0sAwEAAQ=="}}}')
check_contains "a too short rightrsasigkey fails the add" '"error":"org.freeswan.pluto.InvalidOption"' "$r"
check_contains "the error names rightrsasigkey" "rightrsasigkey" "$r"
st=$(varlink_call '{"method":"org.freeswan.pluto.Status"}')
check_not_contains "the failed connection was not added" '"name":"rsa2"' "$st"

# secrets never appear anywhere
all="$st $("$WHACK" --ctlbase "$SOCK" --status 2>&1) $("$IPSECCTL" --socket "$SOCK" status --json 2>&1)"
check_not_contains "first PSK never in status output" "$PSK1" "$all"
check_not_contains "second PSK never in status output" "$PSK2" "$all"
check_fails "first PSK never in the log" grep -q "$PSK1" "$T/pluto.log"
check_fails "second PSK never in the log" grep -q "$PSK2" "$T/pluto.log"
check_fails "private key never in the log" grep -q "PRIVATE KEY" "$T/pluto.log"
done_testing
