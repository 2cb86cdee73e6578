package rules

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			refs := map[string]Set{}
			for _, r := range cfg.References {
				refs[r.Name] = NewSetBuilder(0).Set()
			}
			book, err := Compile(cfg, refs, testDay)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if len(book.Checks) != len(cfg.Rules) {
				t.Errorf("got %d checks for %d rules", len(book.Checks), len(cfg.Rules))
			}
		})
	}
}

// TestParseExample pins down what the README's example decodes to.
func TestParseExample(t *testing.T) {
	cfg, err := Load("testdata/valid/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 1 || cfg.File != "testdata/valid/example.yaml" {
		t.Errorf("version %d, file %q", cfg.Version, cfg.File)
	}
	if len(cfg.Inputs) != 2 || cfg.Inputs[1].Name != "kafka-stream" || cfg.Inputs[1].Format != FormatKafkaLog ||
		cfg.Inputs[1].Paths[0] != "testdata/archive/{date}/*.log.gz" || cfg.Inputs[1].Pos != (Pos{6, 5}) {
		t.Errorf("inputs: %+v", cfg.Inputs)
	}
	want := Reference{Name: "known_users", Path: "testdata/users.csv", Column: "user_id", Pos: Pos{10, 3}}
	if len(cfg.References) != 1 || cfg.References[0].Name != want.Name || cfg.References[0].Path != want.Path ||
		cfg.References[0].Column != want.Column || cfg.References[0].Pos != want.Pos {
		t.Errorf("references: %+v", cfg.References)
	}
	if len(cfg.Events) != 1 || cfg.Events[0] != "PlaybackError" {
		t.Errorf("events: %v", cfg.Events)
	}
	wantDrift := DefaultDrift()
	wantDrift.Pos = Pos{40, 8}
	if cfg.Drift == nil || !reflect.DeepEqual(*cfg.Drift, wantDrift) {
		t.Errorf("drift: %+v, want the defaults %+v", cfg.Drift, wantDrift)
	}
	if r := cfg.Report; r.Out != ".dqaudit/reports/{date}" || strings.Join(r.Formats, ",") != "html,markdown,json" ||
		r.Samples != 5 || r.MalformedSamples != 10 {
		t.Errorf("report: %+v", r)
	}
	if len(cfg.Rules) != 5 {
		t.Fatalf("got %d rules", len(cfg.Rules))
	}
	r := cfg.Rules
	if r[0].Kind != RuleBetween || r[0].Between != [2]float64{1, 5} || r[0].Severity != SeverityError {
		t.Errorf("rule 0: %+v", r[0])
	}
	if r[1].Kind != RuleMin || r[1].Min != 0 || r[1].Severity != SeverityUnset {
		t.Errorf("rule 1: %+v", r[1])
	}
	if r[2].Kind != RuleInReference || r[2].Event != "*" || r[2].Reference != "known_users" ||
		r[2].Severity != SeverityWarn || r[2].Tolerance != (Tolerance{Percent: 0.5, IsPercent: true}) {
		t.Errorf("rule 2: %+v", r[2])
	}
	if r[3].Kind != RuleIn || len(r[3].Values) != 1 || r[3].Values[0] != Int(200) {
		t.Errorf("rule 3: %+v", r[3])
	}
	if r[4].Kind != RuleNotNull || r[4].Where != "status == 200" || r[4].Field != "recommendations" {
		t.Errorf("rule 4: %+v", r[4])
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse(strings.NewReader(minimal), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Report
	if r.Out != DefaultReportOut || len(r.Formats) != 3 || r.Samples != DefaultSamples || r.MalformedSamples != DefaultMalformedSamples {
		t.Errorf("report defaults: %+v", r)
	}
	if cfg.Drift != nil || cfg.References != nil || cfg.Rules != nil {
		t.Errorf("want no drift, references or rules: %+v", cfg)
	}
}

const minimal = `version: 1
inputs:
  - name: events
    format: avro
    paths: ["archive/{date}/*.avro"]
`

// invalidCases maps each file of testdata/invalid to every message it must
// give, without the file name.
var invalidCases = map[string][]string{
	"alias-bomb.yaml":  {`13:10: alias *g expands to more than 1000000 nodes (excessive aliasing); anchors should share small pieces of config`},
	"alias-cycle.yaml": {`10:9: alias *r refers to a node that contains it, so it never ends`},
	"bad-expr.yaml":    {`9:24: rule "fast-responses": bad expr: unexpected token EOF`},
	"bad-glob.yaml": {
		`5:13: input "stream": path "archive/{dat}/*.log.gz" has the unknown placeholder {dat} (did you mean {date}?); the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}`,
		`5:39: input "stream": bad glob "archive/[a-/*.log": syntax error in pattern`,
	},
	"bad-pattern.yaml":        {"10:14: rule \"movie-id-shape\": bad pattern (RE2 syntax): missing closing ]: `[a-z+`"},
	"bad-where.yaml":          {`9:19: rule "recommendations-present": bad where: invalid operation: == (mismatched types int and string)`},
	"between-count.yaml":      {`10:14: rule "rating-in-range": between needs two numbers [lo, hi] (got 1)`},
	"between-not-number.yaml": {`10:15: rule "rating-in-range": the low bound of between must be a number, got the string "one"`},
	"between-order.yaml":      {`10:14: rule "rating-in-range": between [5, 1] has its low bound above its high bound; write [1, 5]`},
	"deep-nesting.yaml":       {`6: invalid YAML: nested too deeply (exceeded max depth of 10000); a rule book needs a handful of levels`},
	"drift-baseline.yaml":     {`7:13: drift: baseline must be previous, {window: N} or the path of a profile JSON file, got "previus" (did you mean "previous"?)`},
	"drift-check-missing.yaml": {
		`8:7: drift check #1: unknown key "metrc" (did you mean "metric"?)`,
		`8:7: drift check #1: missing event; name MovieRatingEvent, MovieWatchEvent or RecommendationRequest, or a type listed under events:`,
		`8:7: drift check #1: missing field; name the field to compare`,
		`9:7: drift check "rating": missing field; name the field of MovieRatingEvent to compare: time, userId, movieId or rating`,
		`9:7: drift check "rating": missing metric; use psi, js, linf, quantile_change, mean_change or null_ratio_change`,
	},
	"drift-duplicate-check.yaml": {
		`12:13: drift check "rating-shift": duplicate drift check name; the first drift check with this name is at line 8`,
		`20:7: drift check "MovieWatchEvent.minute:quantile_change": duplicate drift check name; the first drift check with this name is at line 16 (a check without a name is named event.field:metric, so give one of them a name)`,
	},
	"drift-level.yaml": {
		`7:18: drift: missing_hours must be warn, fail or off, got "warning"`,
		`8:11: drift: schema must be warn, fail or off, got false; write off to turn it off`,
	},
	"drift-metric-field.yaml":     {`10:15: drift check "MovieRatingEvent.userId:mean_change": mean_change needs a numeric field, but MovieRatingEvent's userId is a string`},
	"drift-not-mapping.yaml":      {`6:8: drift must be a mapping, got the string "off"; remove the section to turn drift checks off`},
	"drift-outliers.yaml":         {`7:3: drift: outliers compares today with each day of a window baseline, but the baseline is previous (the default); set baseline: {window: 7} or remove outliers`},
	"drift-quantile-extra.yaml":   {`12:7: drift check "minute-mean": quantile applies only to quantile_change, not mean_change; remove it`},
	"drift-quantile-missing.yaml": {`8:7: drift check "minute-p95": quantile_change needs quantile, a number between 0 and 1 such as 0.95`},
	"drift-quantile-range.yaml":   {`12:17: drift check "minute-p95": quantile must be between 0 and 1, exclusive (such as 0.95), got 95`},
	"drift-several-errors.yaml": {
		`8:12: drift: history is empty`,
		`9:13: drift: baseline window must be from 1 to 365 days, got 0`,
		`10:15: drift: min_events must be 0 or more, got -5`,
		`11:19: drift: default_checks must be true or false, got the string "yes"`,
		`12:21: drift: malformed: warn 0.01 is above fail 0.005; a check must warn before it fails`,
		`13:11: drift: schema must be warn, fail or off, got "warm" (did you mean "warn"?)`,
		`19:13: drift check "rating-distribution": warn must be a number, got the string "0.1"; write it without quotes`,
		`24:13: drift check "PlaybackError.code:quantile_change": warn 0.2 (quantile_change's default) is above fail 0.1; a check must warn before it fails`,
		`25:13: drift check "rating-distribution": duplicate drift check name; the first drift check with this name is at line 15`,
		`28:15: drift check "rating-distribution": unknown metric "jsd" (did you mean "js"?); use psi, js, linf, quantile_change, mean_change or null_ratio_change`,
	},
	"drift-star-event.yaml": {`9:14: drift check "users": event "*" is not allowed: a drift check compares one field of one event type; name MovieRatingEvent, MovieWatchEvent or RecommendationRequest, or a type listed under events:`},
	"drift-thresholds.yaml": {
		`7:11: drift: volume must be a mapping such as {warn: 0.3, fail: 0.5}, or off, got the number 0.3`,
		`8:21: drift: malformed: warn must be a number, got the string "0.5%"; write the share as a number: 0.005`,
		`8:33: drift: malformed: fail 2 can never be reached; a change of share is at most 1`,
		`9:21: drift: anomalies: warn must be 0 or more, got -1`,
		`9:25: drift: anomalies: unknown key "fial" (did you mean "fail"?)`,
		`15:13: drift check "subtitles-shift": fail 1.5 can never be reached; js is at most 1`,
	},
	"path-shell.yaml": {
		`5:13: input "events": path "~/archive/{date}/*.avro" starts with ~, which is not expanded; write the absolute path`,
		`5:40: input "events": path "$ARCHIVE/{date}/*.avro" holds $ARCHIVE, which is not expanded: environment variables are not read; write the path itself`,
		`5:66: input "events": path "archive/{date/*.log" has a { without its }`,
		`7:17: reference "users": path "${HOME}/users.csv" holds ${HOME}, which is not expanded: environment variables are not read; write the path itself`,
		`9:8: report: out "~/reports/{date}" starts with ~, which is not expanded; write the absolute path`,
	},
	"drift-unknown-event.yaml":  {`8:14: drift check "MovieRatingEvnt.rating:psi": unknown event type "MovieRatingEvnt" (did you mean "MovieRatingEvent"?); name MovieRatingEvent, MovieWatchEvent or RecommendationRequest, or a type listed under events:`},
	"drift-unknown-field.yaml":  {`9:14: drift check "MovieRatingEvent.ratng:psi": MovieRatingEvent has no field "ratng" (did you mean "rating"?); its fields are time, userId, movieId and rating`},
	"drift-unknown-key.yaml":    {`7:3: drift: unknown key "basline" (did you mean "baseline"?)`},
	"drift-unknown-metric.yaml": {`11:15: drift check "rating-distribution": unknown metric "pis" (did you mean "psi"?); use psi, js, linf, quantile_change, mean_change or null_ratio_change`},
	"drift-warn-above-fail.yaml": {
		`7:18: drift: volume: warn 0.6 is above fail 0.5; a check must warn before it fails`,
		`8:21: drift: anomalies: warn 7 is above fail 6 (the default); a check must warn before it fails`,
		`14:13: drift check "rating-distribution": warn 0.3 is above fail 0.25 (psi's default); a check must warn before it fails`,
	},
	"drift-window.yaml":        {`7:22: drift: baseline window must be from 1 to 365 days, got 400`},
	"duplicate-input.yaml":     {`6:11: input "events": duplicate input name; the first input with this name is at line 3`},
	"duplicate-key.yaml":       {`11:5: rule "minute-not-negative": duplicate key "field"; the first is at line 9`},
	"duplicate-reference.yaml": {`10:3: reference "known_users": defined twice; the first is at line 7`},
	"duplicate-rule.yaml":      {`11:11: rule "minute-ok": duplicate rule name; the first rule with this name is at line 7`},
	"empty-inputs.yaml":        {`2:9: no inputs; list at least one under inputs: with name, format and paths`},
	"empty-paths.yaml":         {`5:12: input "stream": paths is empty; list at least one glob, such as "archive/{date}/*.avro"`},
	"empty.yaml":               {`the config is empty; start it with "version: 1"`},
	"expr-sql.yaml": {
		`7:60: rule "eq": bad expr: unexpected token Operator("="); compare with == (and a regular expression with matches)`,
		`8:61: rule "ne": bad expr: unexpected token Operator(">"); write != for not equal`,
		`9:73: rule "nil": bad expr: unknown name null; write nil for null`,
		`10:68: rule "and": bad expr: unexpected token Identifier("AND"); write and, or, not (or &&, ||, !) in lower case`,
		`11:62: rule "like": bad expr: unexpected token Identifier("LIKE"); use startsWith, endsWith, contains or matches`,
		`12:69: rule "list": bad expr: unexpected token Operator(","); a list is written in brackets: in [200, 204]`,
	},
	"expr-unknown-name.yaml": {`9:12: rule "fast-responses": bad expr: unknown name responsetime (did you mean "responseTime"?)`},
	"in-type.yaml":           {`10:10: rule "status-ok": in lists the string "200", but RecommendationRequest's status is an int; write a number without quotes`},
	"input-format.yaml":      {`4:13: input "stream": format must be avro or kafka-log, got "kafka"`},
	"kind-field-type.yaml":   {`10:5: rule "user-in-range": between needs a numeric field, but MovieRatingEvent's userId is a string`},
	"max-null-ratio.yaml":    {`10:21: rule "subtitles-mostly-set": max_null_ratio must be a share from 0 to 1 (e.g. 0.01) or a percent (e.g. 1%), got the number 5`},
	"missing-event.yaml":     {`7:5: rule "rating-in-range": missing event; name MovieRatingEvent, MovieWatchEvent or RecommendationRequest, "*" for every type, or a type listed under events:`},
	"missing-field.yaml":     {`7:5: rule "rating-in-range": missing field; a between rule checks one field of MovieRatingEvent: time, userId, movieId or rating`},
	"missing-name.yaml":      {`7:5: rule #1: missing name; every rule needs a unique name, which reports show`},
	"missing-version.yaml":   {`1:1: missing version; start the config with "version: 1"`},
	"multi-document.yaml":    {`6:1: a second YAML document; the config is one document, so remove the "---" line and what follows or merge it into the first`},
	"no-check.yaml":          {`7:5: rule "rating-in-range": no check; give exactly one of between, min, max, in, not_in, not_null, pattern, in_reference, on_day, unique, max_null_ratio, row_count or expr`},
	"no-inputs.yaml":         {`1:1: no inputs; list at least one under inputs: with name, format and paths`},
	"not-a-mapping.yaml":     {`1:1: the config must be a mapping with version, inputs and rules, got a list`},
	"not-null-false.yaml":    {`10:15: rule "subtitles-set": not_null: false checks nothing; set it to true or remove the rule`},
	"reference-column.yaml":  {`8:5: reference "known_users": refs/users.csv is a CSV file; name the column that holds the ids with column:`},
	"reference-path.yaml":    {`8:5: reference "known_users": missing path; name the .csv, .txt or .avro file of known ids`},
	"placeholder.yaml": {
		`7:12: drift: history ".dqaudit/history/{week}" has the unknown placeholder {week}; the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}`,
		`9:8: report: out "reports/{Date}" has the unknown placeholder {Date} (did you mean {date}?); the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}`,
	},
	"report-format.yaml": {`7:19: report: format "pdf" is not supported; use html, markdown or json`},
	"row-count.yaml": {
		`9:5: rule "enough-ratings": row_count counts events, so it takes no field`,
		`10:16: rule "enough-ratings": row_count min 100 is above its max 10`,
		`10:36: rule "enough-ratings": unknown key "mn" (did you mean "min"?)`,
	},
	"several-checks.yaml": {`11:5: rule "rating-in-range": several checks (min and max) in one rule; a rule makes exactly one check, so for a range use between: [lo, hi]`},
	"several-errors.yaml": {
		`4:13: input "events": format must be avro or kafka-log, got "parquet"`,
		`10:5: rule "rating-in-range": unknown key "betwen" (did you mean "between"?)`,
		`11:5: rule #2: missing name; every rule needs a unique name, which reports show`,
		`18:15: rule "status-ok": severity must be error or warn, got "warning"`,
		`19:16: rule "status-ok": tolerance must be a count of 0 or more (e.g. 10) or a percent from 0% to 100% (e.g. 0.5%), got the number -1`,
		`20:11: rule "status-ok": duplicate rule name; the first rule with this name is at line 14`,
		`21:12: rule "status-ok": unknown event type "RecommendationRequests" (did you mean "RecommendationRequest"?); name MovieRatingEvent, MovieWatchEvent or RecommendationRequest, "*" for every type, or a type listed under events:`,
		`25:13: report: format "pdf" is not supported; use html, markdown or json`,
	},
	"severity.yaml":            {`11:15: rule "minute-not-negative": severity must be error or warn, got "warning"`},
	"tab-indent.yaml":          {`4:1: invalid YAML: found a tab character that violates indentation; YAML indents with spaces, and this line has a tab`},
	"tab-after-spaces.yaml":    {`8:3: invalid YAML: found a tab character that violates indentation; YAML indents with spaces, and this line has a tab`},
	"tolerance-float.yaml":     {`11:16: rule "minute-not-negative": tolerance 0.5 is neither a count nor a percent; write a whole count (e.g. 10) or a percent (50% for the share 0.5)`},
	"tolerance.yaml":           {`11:16: rule "minute-not-negative": tolerance must be a count of 0 or more (e.g. 10) or a percent from 0% to 100% (e.g. 0.5%), got the string "150%"`},
	"undefined-reference.yaml": {`14:19: rule "known-user": in_reference names "known_user", which is not defined (did you mean "known_users"?); define it under references: with a path`},
	"unique.yaml": {
		`9:22: rule "one-rating": MovieRatingEvent has no field "movieID" (did you mean "movieId"?); its fields are time, userId, movieId and rating`,
		`9:31: rule "one-rating": unique lists userId twice`,
	},
	"unquoted-placeholder.yaml": {`5:21: invalid YAML: YAML reads the { of archive/{date}/*.avro as the start of a mapping; quote the value: "archive/{date}/*.avro"`},
	"unknown-event.yaml":        {`8:12: rule "minute-not-negative": unknown event type "MovieWatchEvnt" (did you mean "MovieWatchEvent"?); name MovieRatingEvent, MovieWatchEvent or RecommendationRequest, "*" for every type, or a type listed under events:`},
	"unknown-field.yaml":        {`9:12: rule "rating-in-range": MovieRatingEvent has no field "ratng" (did you mean "rating"?); its fields are time, userId, movieId and rating`},
	"unknown-key.yaml":          {`10:5: rule "rating-in-range": unknown key "betwen" (did you mean "between"?)`},
	"unknown-top-key.yaml":      {`6:1: unknown key "rule" (did you mean "rules"?)`},
	"version.yaml":              {`1:10: version must be 1, the only version dqaudit reads (got 2)`},
	"wrong-type.yaml":           {`10:10: rule "minute-not-negative": min must be a number, got the string "zero"`},
	"yaml-syntax.yaml":          {`8: invalid YAML: did not find expected ',' or ']'; is a [ list that starts on this line missing its ]?`},
}

func TestParseInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := invalidCases[filepath.Base(f)]; !ok {
			t.Errorf("%s has no case in invalidCases", f)
		}
	}
	for name, want := range invalidCases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", name)
			start := time.Now()
			cfg, err := Load(path)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Load took %v", d)
			}
			if err == nil {
				t.Fatalf("Load succeeded: %+v", cfg)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T, want ErrorList: %v", err, err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			for i := range want {
				sep := ":"
				if want[i][0] < '0' || want[i][0] > '9' {
					sep = ": "
				}
				want[i] = path + sep + want[i]
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	data := bytes.Repeat([]byte("# padding padding padding padding\n"), MaxConfigSize/30)
	_, err := Parse(bytes.NewReader(data), "big.yaml")
	want := "big.yaml: the file is larger than 4 MiB; a rule book is a few KiB, so this is not one"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	// Just under the limit is read.
	_, err = Parse(bytes.NewReader(append([]byte(minimal), data[:MaxConfigSize-len(minimal)]...)), "big.yaml")
	if err != nil {
		t.Errorf("4 MiB exactly: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal)
	for i := 0; i < 150; i++ {
		b.WriteString("x" + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + strings.Repeat("z", i) + ": 1\n")
	}
	_, err := Parse(strings.NewReader(b.String()), "c.yaml")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	if len(list) != maxErrors+1 || list[maxErrors].Msg != "too many errors (50 more not shown)" {
		t.Errorf("got %d errors, last %v", len(list), list[len(list)-1])
	}
}

func TestParseMore(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // one message, without the file; "" for valid
	}{
		{
			name: "merge keys and x- anchors",
			yaml: minimal + "x-warn: &w {severity: warn, tolerance: 3}\nrules:\n  - {name: r, event: MovieWatchEvent, field: minute, min: 0, <<: *w}\n",
		},
		{
			name: "explicit keys win over merged ones",
			yaml: minimal + "x-warn: &w {severity: warn}\nrules:\n  - {name: r, event: MovieWatchEvent, field: minute, min: 0, severity: error, <<: *w}\n",
		},
		{
			name: "merge of a scalar",
			yaml: minimal + "x-s: &s warn\nrules:\n  - {name: r, event: MovieWatchEvent, field: minute, min: 0, <<: *s}\n",
			want: `c.yaml:8:66: rule "r": << merges mappings, got the string "warn"`,
		},
		{
			name: "unknown top key without suggestion",
			yaml: minimal + "checks: []\n",
			want: `c.yaml:6:1: unknown key "checks"; the config takes version, inputs, references, events, rules, drift and report, and keys starting with x- for anchors`,
		},
		{
			name: "star rule reading a field no type of a Kafka log has",
			yaml: "version: 1\ninputs:\n  - {name: k, format: kafka-log, paths: [x.log]}\nrules:\n  - {name: r, event: '*', field: userId, in: [a], where: 'stauts == 200'}\n",
			want: `c.yaml:5:58: rule "r": no event type has a field "stauts" (did you mean "status"?); the inputs are all Kafka logs, whose events are MovieRatingEvent, MovieWatchEvent and RecommendationRequest`,
		},
		{
			name: "star rule on Avro may read a field of a type not declared",
			yaml: minimal + "rules:\n  - {name: r, event: '*', field: code, min: 0}\n",
		},
		{
			// Records are matched by their name alone: rules on the full
			// name would check nothing.
			name: "event type with its namespace",
			yaml: minimal + "events: [com.movies.PlaybackError]\n",
			want: `c.yaml:6:10: events lists com.movies.PlaybackError; name the record without its namespace, PlaybackError: events are matched by the record's name alone`,
		},
		// yaml.v3 gives no line for a scanner problem on line 1, and no
		// place for an unknown anchor.
		{
			name: "YAML problem on line 1",
			yaml: "version: 1: 2\ninputs: []\n",
			want: `c.yaml:1: invalid YAML: mapping values are not allowed in this context`,
		},
		{
			name: "unclosed list at the end of the file",
			yaml: "version: [1\n",
			want: `c.yaml:1: invalid YAML: did not find expected ',' or ']'; is a [ list that starts on this line missing its ]?`,
		},
		{
			name: "unknown anchor",
			yaml: minimal + "rules:\n  - {name: r, event: MovieRatingEvent, field: rating, min: *zero}\n",
			want: `c.yaml:7:60: invalid YAML: unknown anchor 'zero' referenced`,
		},
		{
			name: "a bound out of range",
			yaml: minimal + "rules:\n  - {name: r, event: MovieRatingEvent, field: rating, max: 1e400}\n",
			want: `c.yaml:7:60: rule "r": max must be a finite number, got 1e400, which is out of range`,
		},
		{
			name: "a tolerance count out of range",
			yaml: minimal + "rules:\n  - {name: r, event: MovieRatingEvent, field: rating, max: 5, tolerance: 9223372036854775808}\n",
			want: `c.yaml:7:74: rule "r": tolerance 9223372036854775808 is out of range; a count is at most 9223372036854775807`,
		},
		{
			name: "event type ending in a dot",
			yaml: minimal + "events: [a.]\n",
			want: `c.yaml:6:10: event type "a." is not an Avro record name (letters, digits and _, not starting with a digit)`,
		},
		{
			name: "glob alternation is no placeholder",
			yaml: "version: 1\ninputs:\n  - {name: k, format: kafka-log, paths: [\"data/{date}/{kafka,stream}.log\"]}\n",
		},
		{
			name: "placeholders inside an alternation",
			yaml: "version: 1\ninputs:\n  - {name: k, format: kafka-log, paths: [\"data/{late-{date},early-{date}}.log\"]}\n",
		},
		{
			name: "unknown placeholder inside an alternation",
			yaml: "version: 1\ninputs:\n  - {name: k, format: kafka-log, paths: [\"data/{late-{dat},early}.log\"]}\n",
			want: `c.yaml:3:42: input "k": path "data/{late-{dat},early}.log" has the unknown placeholder {dat} (did you mean {date}?); the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}`,
		},
		{
			// report.out is no glob: {date,x} would be a directory's name.
			name: "alternation outside a glob",
			yaml: minimal + "report: {out: 'r/{date,x}'}\n",
			want: `c.yaml:6:15: report: out "r/{date,x}" has the unknown placeholder {date,x} (did you mean {date}?); the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}`,
		},
		{
			name: "on_day on a built-in time",
			yaml: minimal + "rules:\n  - {name: r, event: '*', field: time, on_day: true, tolerance: 0.1%, severity: warn}\n",
		},
		{
			name: "on_day on an extra type's field",
			yaml: minimal + "events: [Custom]\nrules:\n  - {name: r, event: Custom, field: ts, on_day: true}\n",
		},
		{
			name: "on_day false",
			yaml: minimal + "rules:\n  - {name: r, event: '*', field: time, on_day: false}\n",
			want: `c.yaml:7:48: rule "r": on_day: false checks nothing; set it to true or remove the rule`,
		},
		{
			name: "on_day takes no date",
			yaml: minimal + "rules:\n  - {name: r, event: '*', field: time, on_day: 2024-03-19}\n",
			want: `c.yaml:7:48: rule "r": on_day must be true, got the string "2024-03-19"`,
		},
		{
			name: "on_day on a number",
			yaml: minimal + "rules:\n  - {name: r, event: MovieWatchEvent, field: minute, on_day: true}\n",
			want: `c.yaml:7:54: rule "r": on_day needs a time field: text such as 2024-03-19T08:15:00, or an Avro long with a timestamp logical type; MovieWatchEvent's minute is an int`,
		},
		{
			name: "drift must be a mapping",
			yaml: minimal + "drift: [1]\n",
			want: `c.yaml:6:8: drift must be a mapping, got a list`,
		},
		{
			name: "expr on an extra event type is not type checked",
			yaml: minimal + "events: [PlaybackError]\nrules:\n  - {name: r, event: PlaybackError, expr: 'code == \"E1\" || code > 3'}\n",
		},
		{
			// now() would give other counts on another run of the same data.
			name: "now is not available",
			yaml: minimal + "rules:\n  - {name: r, event: '*', expr: 'now().Year() > 2000'}\n",
			want: `c.yaml:7:34: rule "r": bad expr: unknown function now`,
		},
		{
			name: "unknown function on star",
			yaml: minimal + "rules:\n  - {name: r, event: '*', expr: 'isValid(userId)'}\n",
			want: `c.yaml:7:34: rule "r": bad expr: unknown function isValid`,
		},
		{
			name: "env is refused",
			yaml: minimal + "rules:\n  - {name: r, event: '*', expr: '$env.userId != nil'}\n",
			want: `c.yaml:7:34: rule "r": bad expr: $env is not available; name the fields directly`,
		},
		{
			name: "expression that is not boolean",
			yaml: minimal + "rules:\n  - {name: r, event: MovieWatchEvent, expr: minute + 1}\n",
			want: `c.yaml:7:45: rule "r": bad expr: the expression must be true or false: expected bool, but got int`,
		},
		{
			name: "string value on a number field",
			yaml: minimal + "rules:\n  - {name: r, event: MovieRatingEvent, field: userId, in: [1]}\n",
			want: `c.yaml:7:60: rule "r": in lists the number 1, but MovieRatingEvent's userId is a string; quote it: "1"`,
		},
		{
			name: "null in a list",
			yaml: minimal + "rules:\n  - {name: r, event: '*', field: userId, not_in: [~]}\n",
			want: `c.yaml:7:51: rule "r": not_in lists null, but nulls pass value rules; use not_null to refuse them`,
		},
		{
			name: "tolerance on row_count",
			yaml: minimal + "rules:\n  - {name: r, event: MovieWatchEvent, row_count: {min: 1}, tolerance: 3}\n",
			want: `c.yaml:7:60: rule "r": tolerance does not apply to row_count; widen its min and max instead`,
		},
		{
			name: "row_count without bounds",
			yaml: minimal + "rules:\n  - {name: r, event: MovieWatchEvent, row_count: {}}\n",
			want: `c.yaml:7:50: rule "r": row_count needs min, max or both, such as {min: 1000}`,
		},
		{
			name: "field on unique",
			yaml: minimal + "rules:\n  - {name: r, event: MovieWatchEvent, field: userId, unique: [userId]}\n",
			want: `c.yaml:7:39: rule "r": unique names its fields in its list, such as unique: [userId, movieId]; remove field`,
		},
		{
			name: "csv reference with field",
			yaml: minimal + "references:\n  u: {path: u.csv, column: id, field: id}\n",
			want: `c.yaml:7:39: reference "u": field applies to .avro references; a CSV reference names its column with column:`,
		},
		{
			name: "avro reference without field",
			yaml: minimal + "references:\n  u: {path: u.avro}\n",
			want: `c.yaml:7:6: reference "u": u.avro is an Avro file; name the field that holds the ids with field:`,
		},
		{
			name: "reference of another type",
			yaml: minimal + "references:\n  u: {path: u.json}\n",
			want: `c.yaml:7:13: reference "u": path "u.json" must end in .csv, .txt or .avro (.csv and .txt may be gzipped: .csv.gz, .txt.gz)`,
		},
		{
			name: "builtin type under events",
			yaml: minimal + "events: [MovieWatchEvent]\n",
			want: `c.yaml:6:10: events lists MovieWatchEvent, which is built in; remove it`,
		},
		{
			name: "samples out of range",
			yaml: minimal + "report: {samples: -1}\n",
			want: `c.yaml:6:19: report: samples must be from 0 to 1000, got -1`,
		},
		{
			name: "input is not a mapping",
			yaml: "version: 1\ninputs: [events]\n",
			want: `c.yaml:2:10: input #1: an input must be a mapping, got the string "events"`,
		},
		{
			name: "unknown input key",
			yaml: minimal + "    path: x\n",
			want: `c.yaml:6:5: input "events": unknown key "path" (did you mean "paths"?)`,
		},
		{
			name: "error point inside a quoted expression",
			yaml: minimal + "rules:\n  - name: r\n    event: RecommendationRequest\n    expr: \"status == 200 && server > 1\"\n",
			want: `c.yaml:9:36: rule "r": bad expr: invalid operation: > (mismatched types string and int)`,
		},
		{
			name: "nested field names in expressions",
			yaml: minimal + "events: [Ad]\nrules:\n  - {name: r, event: Ad, where: 'a.b.c > 1', field: a.d, not_null: true}\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.yaml), "c.yaml")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.yaml", Line: 3, Column: 5, Rule: "r", Msg: "m"}, `c.yaml:3:5: rule "r": m`},
		{Error{File: "c.yaml", Line: 3, Rule: "#2", Msg: "m"}, `c.yaml:3: rule #2: m`},
		{Error{File: "c.yaml", Msg: "m"}, `c.yaml: m`},
		{Error{Msg: "m"}, `m`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"between", "min", "max", "not_null", "in_reference", "userId", "rating"}
	for _, tc := range []struct{ word, want string }{
		{"betwen", "between"},
		{"betweem", "between"},
		{"notnull", "not_null"},
		{"userid", "userId"},
		{"ratign", "rating"},
		{"inreference", "in_reference"},
		{"mni", "min"},
		{"zzz", ""},
		{"status", ""},
	} {
		if got := suggest(tc.word, cands); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestParseAliasedKeys(t *testing.T) {
	src := minimal + "x-k: &f field\nrules:\n  - {name: r, event: MovieWatchEvent, *f : minute, min: 0}\n"
	cfg, err := Parse(strings.NewReader(src), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rules[0].Field != "minute" {
		t.Errorf("field %q, want minute", cfg.Rules[0].Field)
	}
}

// TestDollarInPaths: a path is refused for a $ only where a shell would
// read a variable ($NAME starting a word, ${NAME}); a $ that is part of an
// object's key (Hadoop's _$folder$ markers, x$y) is the key's own, in the
// config and in the paths of flags alike.
func TestDollarInPaths(t *testing.T) {
	tests := []struct {
		path string
		want string // the variable named in the error; "" when accepted
		glob bool   // a glob only: {a,b} is an alternation there
	}{
		{path: "$ARCHIVE/{date}/*.avro", want: "$ARCHIVE"},
		{path: "/srv/$ENV/{date}/*.avro", want: "$ENV"},
		{path: "s3://$BUCKET/{date}/*.avro", want: "$BUCKET"},
		{path: "/srv/logs-$ENV/*.avro", want: "$ENV"},
		{path: "/srv/$ENV", want: "$ENV"},
		{path: "${HOME}/x/*.avro", want: "${HOME}"},
		{path: "/srv/data${SUFFIX}/*.avro", want: "${SUFFIX}"},
		{path: "${DATA:-/srv}/*.avro", want: "${DATA:-/srv}"},
		{path: "s3://b/x$y/*.avro"},
		{path: "s3://b/logs/{date}/_$folder$"},
		{path: "s3://b/logs/{date}_$folder$/*.avro"},
		{path: "/srv/a/$folder$/*.avro"},
		{path: "/srv/Outer$Inner.avro"},
		{path: "/srv/price$/*.avro"},
		{path: "/srv/$1/*.avro"},
		{path: "/srv/x${a,b}.avro", glob: true},
		{path: "/srv/$$/*.avro"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			yaml := "version: 1\ninputs:\n  - {name: a, format: avro, paths: ['" + tc.path + "']}\n"
			_, err := Parse(strings.NewReader(yaml), "c.yaml")
			var flagErr error
			if !tc.glob {
				flagErr = CheckPlaceholders("--out", tc.path)
			}
			if tc.want == "" {
				if err != nil || flagErr != nil {
					t.Errorf("refused: %v; as a flag: %v", err, flagErr)
				}
				return
			}
			holds := "holds " + tc.want + ", which is not expanded"
			if err == nil || !strings.Contains(err.Error(), holds) {
				t.Errorf("config: got %v, want an error saying it %s", err, holds)
			}
			if !tc.glob && (flagErr == nil || !strings.Contains(flagErr.Error(), holds)) {
				t.Errorf("flag: got %v, want an error saying it %s", flagErr, holds)
			}
		})
	}
}
