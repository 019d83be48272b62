#!/bin/sh
# Runs Mosquitto and reloads it (SIGHUP: password file and ACL) whenever the password file
# that the `broker-passwd-refresh` service rewrites has changed. Mosquitto reads the file
# only at start and on SIGHUP.
set -u
conf=/mosquitto/config/mosquitto.conf
passwd=/voltledger-auth/voltledger.passwd
every="${RELOAD_CHECK_SECONDS:-10}"

mosquitto -c "$conf" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit $?' TERM INT

last="$(cksum < "$passwd" 2>/dev/null)"
while kill -0 "$pid" 2>/dev/null; do
  sleep "$every" &
  wait $!
  now="$(cksum < "$passwd" 2>/dev/null)"
  if [ -n "$now" ] && [ "$now" != "$last" ]; then
    echo "voltledger: password file changed; reloading Mosquitto"
    kill -HUP "$pid"
    last="$now"
  fi
done
wait "$pid"
