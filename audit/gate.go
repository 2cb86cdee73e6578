package audit

import (
	"fmt"
	"strings"
)

// ExitCode is what dqaudit returns to cron, Airflow or a shell. The table
// in ExitCodeTable is the one README and --help print.
type ExitCode int

// The exit codes. Precedence when several apply: Usage > Input > Fail > Pass.
const (
	ExitPass        ExitCode = 0   // no error-severity rule or drift check failed
	ExitFail        ExitCode = 1   // the data-quality gate failed
	ExitUsage       ExitCode = 2   // usage or configuration error: nothing scanned, no report
	ExitInput       ExitCode = 3   // an input or output failed: a file not read fully, reports not written
	ExitInterrupted ExitCode = 130 // stopped by SIGINT or SIGTERM: nothing written
)

// ExitCodeTable documents the exit codes, one line each.
const ExitCodeTable = `Exit codes:
  0    passed: no error-severity rule or drift check failed (warnings allowed)
  1    data-quality gate failed: an error-severity rule or a drift check
       failed (with --fail-on warn, a warning too)
  2    usage or configuration error: nothing was scanned, no report written
  3    input or output error: an input matched no file, a file could not
       be read fully or has a writer schema a rule does not fit, the
       day's files hold no event or malformed line at all, an input's
       lines are all malformed, or the day's history entry could not be
       written; reports still written. Also, with no report written: the
       reports or the --partial file could not be written, the drift
       history stayed locked by another run past --lock-timeout, its lock
       could not be taken, was taken over or could not be renewed, or the
       keys of a unique rule could not be spilled to $TMPDIR
  130  interrupted by SIGINT or SIGTERM: the scan stopped, no report
       written (the message says if the history entry was already written)
  Precedence: 2 > 3 > 1 > 0. --warn-exit-code N maps a warnings-only run to N.`

// Status is the outcome of a run, a rule or a check. The zero Status is
// unset.
type Status int

// The statuses, from best to worst.
const (
	StatusUnset      Status = iota
	StatusNoBaseline        // a drift check with nothing to compare with; never fails
	StatusPass
	StatusWarn
	StatusFail
	StatusError
)

// String returns the status as report.json spells it.
func (s Status) String() string {
	switch s {
	case StatusNoBaseline:
		return "no_baseline"
	case StatusPass:
		return "pass"
	case StatusWarn:
		return "warn"
	case StatusFail:
		return "fail"
	case StatusError:
		return "error"
	}
	return "unset"
}

// FailOn says which findings fail the gate. The zero value is FailOnError.
type FailOn int

// The --fail-on levels.
const (
	FailOnError FailOn = iota // error-severity failures exit 1 (default)
	FailOnWarn                // warnings exit 1 too
	FailOnNever               // always exit 0 unless 2 or 3
)

// ParseFailOn reads a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	switch strings.ToLower(s) {
	case "error", "":
		return FailOnError, nil
	case "warn":
		return FailOnWarn, nil
	case "never":
		return FailOnNever, nil
	}
	return 0, fmt.Errorf("--fail-on: %q is not one of error, warn, never", s)
}

// Policy is how findings map to an exit code.
type Policy struct {
	FailOn FailOn
	// WarnExitCode, when not zero, is the exit code of a run whose worst
	// finding is a warning (for Airflow's skip_on_exit_code).
	WarnExitCode int
}

// Findings is what the gate looks at: the worst status among rules and
// drift checks, and whether any input could not be read.
type Findings struct {
	Worst       Status // StatusPass, StatusWarn or StatusFail
	InputErrors int
}

// Gate decides a run's status and exit code. It is a pure function.
func Gate(f Findings, p Policy) (Status, ExitCode) {
	if f.InputErrors > 0 {
		return StatusError, ExitInput
	}
	status := f.Worst
	if status == StatusUnset {
		status = StatusPass
	}
	switch {
	case p.FailOn == FailOnNever:
		return status, ExitPass
	case status == StatusFail:
		return status, ExitFail
	case status == StatusWarn && p.FailOn == FailOnWarn:
		return status, ExitFail
	case status == StatusWarn && p.WarnExitCode != 0:
		return status, ExitCode(p.WarnExitCode)
	}
	return status, ExitPass
}
