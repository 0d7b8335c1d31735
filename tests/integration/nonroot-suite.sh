#!/bin/bash
# The test suite as a normal user (issue 15 point 4, README.md "Running
# the tests without root"): what "meson test" runs as a user who cannot
# make namespaces, here as nobody (setpriv, no groups):
#   - every unit test, with the command and environment meson would use
#     ("meson introspect --tests"): each passes, or is skipped (77) with a
#     reason starting "needs root:"; the ones that need no network
#     namespace (in-netns.sh --optional) pass;
#   - integration, hostile and scenario tests that need root are skipped
#     with the reason (tests/lib/common.sh), not failed.
# (install-paths needs no root but writes into the build dir, which is
# root's here: it is run as a user in a build dir of the user's own by
# hand, README.md.)
# Starts as root to become nobody; skipped otherwise (a user running it
# gets the skip that is under test).
# shellcheck source=tests/lib/common.sh
source "$SRCDIR/tests/lib/common.sh"
: "${BUILDDIR:?run through meson test}"
for tool in setpriv jq meson; do
	command -v "$tool" >/dev/null || skip_all "no $tool"
done
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
chmod 755 "$T"

meson introspect --tests "$BUILDDIR" >"$T/tests.json"
# run_as_nobody NAME: the test NAME as meson would run it, as nobody;
# its output in $T/NAME.out, its exit status printed
run_as_nobody() {
	local name=$1 cmd=() envs=()
	mapfile -t cmd < <(jq -r --arg n "$name" '.[] | select(.name == $n) | .cmd[]' "$T/tests.json")
	mapfile -t envs < <(jq -r --arg n "$name" '.[] | select(.name == $n) | .env | to_entries[] | "\(.key)=\(.value)"' "$T/tests.json")
	[ ${#cmd[@]} -gt 0 ] || { echo "no test $name"; return; }
	# a program found in root's own PATH at configure time (a python3
	# shim under /root): a user's own build dir finds the user's
	"${AS_NOBODY[@]}" test -x "${cmd[0]}" || { echo "unreachable ${cmd[0]}"; return; }
	(cd "$BUILDDIR" && timeout 120 env -i PATH="$PATH" HOME=/nonexistent "${envs[@]}" "${AS_NOBODY[@]}" \
		"${cmd[@]}" >"$T/$name.out" 2>&1)
	echo $?
}

# --- the unit suite ---
passed=0 skipped=0 failed=()
for name in $(jq -r '.[] | select(.suite | index("pluto:unit")) | .name' "$T/tests.json"); do
	rc=$(run_as_nobody "$name")
	case $rc in
	0) passed=$((passed + 1)) ;;
	77)
		if grep -q "needs root:" "$T/$name.out"; then
			skipped=$((skipped + 1))
		else
			failed+=("$name (skipped without a reason)")
		fi ;;
	unreachable*) echo "# $name not counted: nobody cannot run ${rc#unreachable }" ;;
	*) failed+=("$name (exit $rc)"); sed 's/^/#   /' "$T/$name.out" | tail -n 15 ;;
	esac
done
echo "# unit suite as nobody: $passed passed, $skipped skipped (needs root)"
check_eq "every unit test passes or skips with a reason as nobody" "" "${failed[*]}"
check "most unit tests run without root (passed > skipped)" test "$passed" -gt "$skipped"
one_skip=$(grep -h "needs root:" "$T"/unit-*.out | head -n 1)
echo "# e.g. $one_skip"
check_contains "a skipped unit test says why" "SKIP needs root:" "$one_skip"

# --- tests that need root skip with the reason ---
for name in integration-whack hostile-dbus-late integration-dpd; do
	jq -e --arg n "$name" 'any(.[]; .name == $n)' "$T/tests.json" >/dev/null || continue
	check_eq "$name as nobody: skipped (77)" 77 "$(run_as_nobody "$name")"
	check_contains "$name as nobody: the reason" "SKIP needs root: " "$(cat "$T/$name.out")"
done

done_testing
