#!/bin/sh
# Installs Debian's dovecot (IMAP) for the e-mail tests when it can (root with apt, as in CI); the tests start
# their own server on a loopback port with a temporary maildir, so the system service is never started.
# Elsewhere it says why not; the e-mail tests then skip with that reason (in CI they must run).
if [ -x /usr/sbin/dovecot ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's dovecot for the e-mail tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null) || {
        echo "could not install dovecot with apt-get"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    }
else
    echo "dovecot is not installed and this user cannot apt-get it: the e-mail tests will be skipped"
fi
exit 0
