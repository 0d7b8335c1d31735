#!/bin/sh
# Run a test program in a fresh network namespace with only lo (127.0.0.1,
# ::1) up, so results never depend on the addresses of the machine running
# the tests (CI hosts may have any address, even the documentation ones).
exec unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
