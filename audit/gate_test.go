package audit

import "testing"

func TestGate(t *testing.T) {
	tests := []struct {
		name       string
		findings   Findings
		policy     Policy
		wantStatus Status
		wantCode   ExitCode
	}{
		{name: "all pass", findings: Findings{Worst: StatusPass}, wantStatus: StatusPass, wantCode: ExitPass},
		{name: "unset worst counts as pass", findings: Findings{}, wantStatus: StatusPass, wantCode: ExitPass},
		{name: "warnings pass by default", findings: Findings{Worst: StatusWarn}, wantStatus: StatusWarn, wantCode: ExitPass},
		{name: "failure exits 1", findings: Findings{Worst: StatusFail}, wantStatus: StatusFail, wantCode: ExitFail},
		{name: "input error beats failure", findings: Findings{Worst: StatusFail, InputErrors: 1}, wantStatus: StatusError, wantCode: ExitInput},
		{name: "input error with clean rules", findings: Findings{Worst: StatusPass, InputErrors: 2}, wantStatus: StatusError, wantCode: ExitInput},
		{name: "fail-on warn fails warnings", findings: Findings{Worst: StatusWarn}, policy: Policy{FailOn: FailOnWarn}, wantStatus: StatusWarn, wantCode: ExitFail},
		{name: "fail-on warn still passes clean runs", findings: Findings{Worst: StatusPass}, policy: Policy{FailOn: FailOnWarn}, wantStatus: StatusPass, wantCode: ExitPass},
		{name: "fail-on never passes failures", findings: Findings{Worst: StatusFail}, policy: Policy{FailOn: FailOnNever}, wantStatus: StatusFail, wantCode: ExitPass},
		{name: "fail-on never keeps input errors", findings: Findings{Worst: StatusFail, InputErrors: 1}, policy: Policy{FailOn: FailOnNever}, wantStatus: StatusError, wantCode: ExitInput},
		{name: "warn exit code maps warnings", findings: Findings{Worst: StatusWarn}, policy: Policy{WarnExitCode: 99}, wantStatus: StatusWarn, wantCode: 99},
		{name: "warn exit code leaves failures at 1", findings: Findings{Worst: StatusFail}, policy: Policy{WarnExitCode: 99}, wantStatus: StatusFail, wantCode: ExitFail},
		{name: "warn exit code leaves passes at 0", findings: Findings{Worst: StatusPass}, policy: Policy{WarnExitCode: 99}, wantStatus: StatusPass, wantCode: ExitPass},
		{name: "fail-on warn beats warn exit code", findings: Findings{Worst: StatusWarn}, policy: Policy{FailOn: FailOnWarn, WarnExitCode: 99}, wantStatus: StatusWarn, wantCode: ExitFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code := Gate(tc.findings, tc.policy)
			if status != tc.wantStatus || code != tc.wantCode {
				t.Errorf("Gate(%+v, %+v) = %v, %d; want %v, %d", tc.findings, tc.policy, status, code, tc.wantStatus, tc.wantCode)
			}
		})
	}
}

func TestParseFailOn(t *testing.T) {
	for in, want := range map[string]FailOn{"error": FailOnError, "warn": FailOnWarn, "never": FailOnNever, "WARN": FailOnWarn} {
		got, err := ParseFailOn(in)
		if err != nil || got != want {
			t.Errorf("ParseFailOn(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseFailOn("sometimes"); err == nil {
		t.Error("ParseFailOn(sometimes) succeeded; want an error")
	}
}

func TestSmallestKeepsFirstPositions(t *testing.T) {
	s := newSmallest[int](3)
	for _, p := range []Position{{File: 1, Line: 9}, {File: 0, Line: 5}, {File: 1, Line: 2}, {File: 0, Line: 7}, {File: 0, Line: 1}} {
		s.add(p, int(p.Line))
	}
	var got []int
	for _, it := range s.items {
		got = append(got, it.Item)
	}
	want := []int{1, 5, 7}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("kept %v, want %v", got, want)
	}
	other := newSmallest[int](3)
	other.add(Position{File: 0, Line: 3}, 3)
	s.merge(&other)
	if s.items[1].Item != 3 || len(s.items) != 3 {
		t.Errorf("after merge kept %v, want [1 3 5]", s.items)
	}
}
