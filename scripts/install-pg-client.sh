#!/bin/sh
# Installs the PostgreSQL client (pg_dump, pg_restore) for `supportbot db backup` on PostgreSQL and its test, when
# it is missing and can be installed (root with apt, as in CI). Elsewhere it says why not; that test then fails
# with the reason (the PostgreSQL store's tests never skip).
if command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the PostgreSQL client (pg_dump) for the backup test..."
    (apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null) || {
        echo "could not install postgresql-client with apt-get"
        [ -n "${CI:-}" ] && exit 1
        exit 0
    }
else
    echo "pg_dump is not installed and this user cannot apt-get it: install the PostgreSQL client"
fi
exit 0
