#!/usr/bin/env bash
# Nightly dqaudit run for cron: one run at a time (flock), output appended to
# a log, mail to the data team when the gate does not pass. Exit codes as in
# README: 0 pass, 1 gate failed, 2 config error, 3 input or output error, 130 stopped.
#
# crontab (02:15 every night, auditing yesterday in UTC):
#   15 2 * * * /opt/dqaudit/dqaudit-nightly.sh
set -u
CONFIG=${DQAUDIT_CONFIG:-/opt/dqaudit/dqaudit.yaml}
LOG=${DQAUDIT_LOG:-/var/log/dqaudit.log}
MAILTO=${DQAUDIT_MAILTO:-data-team@example.com}
LOCK=${DQAUDIT_LOCK:-/tmp/dqaudit.lock}
DQAUDIT=${DQAUDIT_BIN:-dqaudit}

(
  echo "== $(date -u +%FT%TZ) dqaudit scan --config $CONFIG"
  # -n: if yesterday's run still holds the lock, fail rather than pile up
  # runs. -E 75: not 1, which means the gate failed (so do not choose 75
  # as --warn-exit-code in $CONFIG's runs).
  flock -n -E 75 "$LOCK" "$DQAUDIT" scan --config "$CONFIG"
  code=$?
  if [ "$code" -eq 75 ]; then
    echo "dqaudit not run: another run still holds $LOCK"
  fi
  exit "$code"
) >>"$LOG" 2>&1
code=$?
if [ "$code" -ne 0 ]; then
  tail -n 40 "$LOG" | mail -s "dqaudit: exit $code (see $LOG and the HTML report)" "$MAILTO"
fi
exit "$code"
