#!/bin/sh
# Installs Debian's systemd for `systemd-analyze verify`, which checks deploy/supportbot.service in the tests,
# when it can (root with apt, as in CI). Elsewhere it says why not; that test then skips with the reason (in CI
# it must run). Only the tool is used: nothing is started or enabled.
if command -v systemd-analyze >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's systemd for systemd-analyze (the service unit test)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null) || {
        echo "could not install systemd with apt-get"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    }
else
    echo "systemd-analyze is not installed and this user cannot apt-get it: the service unit test will be skipped"
fi
exit 0
