#!/bin/sh
# Installs Debian's chromium for the browser test when it can (root with apt, as in CI).
# Elsewhere it says why not; the browser test then skips with that reason (in CI it must run).
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test..."
    # The emoji font only makes screenshots show the bot's emoji instead of empty boxes.
    (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null) || {
        echo "could not install chromium with apt-get"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    }
else
    echo "chromium is not installed and this user cannot apt-get it: the browser test will be skipped"
fi
exit 0
