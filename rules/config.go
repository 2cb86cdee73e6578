package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxConfigSize is the largest config Parse reads. A rule book is a few
// KiB; anything near this is a mistake or an attack.
const MaxConfigSize = 4 << 20

// The input formats.
const (
	FormatAvro     = "avro"
	FormatKafkaLog = "kafka-log"
)

// placeholders lists what paths, report.out and drift.history may
// contain: the scanned day as YYYY-MM-DD, or its year, month and day of
// the month, zero-padded.
func placeholders() []string { return []string{"{date}", "{year}", "{month}", "{day}"} }

// Defaults of the report section.
const (
	DefaultReportOut        = ".dqaudit/reports/{date}"
	DefaultSamples          = 5
	DefaultMalformedSamples = 10
	maxSamples              = 1000
)

// Pos is a position in the config file, 1-based.
type Pos struct {
	Line, Column int
}

// Config is a parsed and validated rule book.
type Config struct {
	Version    int
	Inputs     []Input
	References []Reference // in file order
	Events     []string    // extra event types beyond the built-in ones
	Rules      []Rule
	// Drift is the drift section with its defaults filled in; nil when
	// the config has none, which disables drift checks.
	Drift  *Drift
	Report Report
	// File is the name the config was read under, for messages and for
	// resolving the relative paths it holds.
	File string
}

// Reference returns the reference named name.
func (c *Config) Reference(name string) (Reference, bool) {
	for _, r := range c.References {
		if r.Name == name {
			return r, true
		}
	}
	return Reference{}, false
}

// Input is one set of files of one format.
type Input struct {
	Name   string
	Format string   // FormatAvro or FormatKafkaLog
	Paths  []string // globs, which may contain {date}, {year}, {month} and {day}
	Pos    Pos
}

// Reference is a file of known ids that in_reference rules look values up
// in. Path ends in .csv, .txt or .avro; .csv and .txt may be gzipped
// (.csv.gz, .txt.gz).
type Reference struct {
	Name   string
	Path   string // may contain {date}, {year}, {month} and {day}
	Column string // the CSV column to read, for .csv
	Field  string // the field to collect, for .avro
	Pos    Pos
}

// Report says where reports go and how much they keep.
type Report struct {
	Out              string   // directory; may contain {date}, {year}, {month} and {day}
	Formats          []string // of html, markdown, json
	Samples          int      // failing samples kept per rule
	MalformedSamples int      // malformed-line samples kept
}

// Rule is one rule as the config states it. Only the fields of its Kind
// are set.
type Rule struct {
	Name        string
	Event       string // a built-in event type, "*" or one of Config.Events
	Field       string // the checked field; "" for row_count and unique, optional for expr
	Where       string // optional condition on the event
	Kind        RuleKind
	Severity    Severity // SeverityUnset when the config leaves it out
	Tolerance   Tolerance
	Description string

	Between [2]float64 // RuleBetween: low and high, inclusive
	Min     float64    // RuleMin
	Max     float64    // RuleMax
	// IntBounds are the low (0) and high (1) bound of between, min and max
	// when the config gives them as integers: integer data is compared
	// with them exactly, which float64 cannot do above 2^53 (nanosecond
	// timestamps). nil for a bound given with a fraction or exponent.
	IntBounds    [2]*int64
	Values       []Value  // RuleIn and RuleNotIn
	Pattern      string   // RulePattern, as written; it must match the whole value
	Reference    string   // RuleInReference
	Fields       []string // RuleUnique
	MaxNullRatio float64  // RuleMaxNullRatio, 0 to 1
	RowCount     RowCount // RuleRowCount
	Expr         string   // RuleExpr

	Pos Pos // of the rule's mapping
}

// RowCount bounds the number of events of a type. Max < 0 means no upper
// bound.
type RowCount struct {
	Min, Max int64
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads and validates a config. name is the file name that messages
// cite. On failure the error is an ErrorList holding every problem found.
func Parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	p := &parser{file: name, refs: map[string]bool{}, events: map[string]bool{}}
	if len(data) > MaxConfigSize {
		p.errorf(scope{}, nil, "the file is larger than %d MiB; a rule book is a few KiB, so this is not one", MaxConfigSize>>20)
		return nil, p.errs
	}
	root := p.decode(data)
	if root == nil {
		return nil, p.errs.sorted()
	}
	cfg := p.config(root)
	if len(p.errs) > 0 {
		return nil, p.errs.sorted()
	}
	return cfg, nil
}

type parser struct {
	file   string
	errs   ErrorList
	refs   map[string]bool // reference names
	events map[string]bool // extra event types
	// logsOnly: every input is a Kafka log, so events are of the
	// built-in types only
	logsOnly bool
}

// scope says whose problem an error is: a rule's, or another part of the
// config named by prefix.
type scope struct {
	rule   string
	prefix string
}

func (p *parser) errorf(sc scope, n *yaml.Node, format string, args ...any) {
	e := &Error{File: p.file, Rule: sc.rule, Msg: sc.prefix + fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// decode parses data as one YAML document and returns its root node, or
// nil after recording why it cannot.
func (p *parser) decode(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 reports its errors by panicking inside and recovering;
		// this catches only what it fails to, so that no config crashes
		// the program.
		if r := recover(); r != nil {
			p.errorf(scope{}, nil, "invalid YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(scope{}, nil, "the config is empty; start it with \"version: 1\"")
			return nil
		}
		p.yamlError(err, data)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.errorf(scope{}, &next, "a second YAML document; the config is one document, so remove the \"---\" line and what follows or merge it into the first")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err, data)
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(scope{}, nil, "the config is empty; start it with \"version: 1\"")
		return nil
	}
	if !p.checkAliases(&doc) {
		return nil
	}
	root = doc.Content[0]
	if isNull(root) {
		p.errorf(scope{}, root, "the config is empty; start it with \"version: 1\"")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(scope{}, root, "the config must be a mapping with version, inputs and rules, got %s", describe(root))
		return nil
	}
	return root
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func (p *parser) yamlError(err error, data []byte) {
	msg := err.Error()
	e := &Error{File: p.file}
	m := yamlLine.FindStringSubmatch(msg)
	if m != nil {
		fmt.Sscan(m[1], &e.Line)
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if parserProblem(msg) {
		// yaml.v3 numbers the lines of parser (not scanner) errors from 0.
		e.Line++
	}
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	switch name, ok := strings.CutPrefix(msg, "unknown anchor '"); {
	case ok:
		// yaml.v3 gives no place: find the alias.
		name = strings.TrimSuffix(name, "' referenced")
		e.Line, e.Column = aliasAt(data, name)
	case e.Line == 0 && m == nil && lines > 0:
		// yaml.v3 leaves out "line 1" for problems found by its scanner.
		e.Line = 1
	case e.Line > lines:
		// At the end of the file: what was left open starts before it.
		e.Line = lines
	}
	flowProblem := msg == "did not find expected ',' or ']'" || msg == "did not find expected ',' or '}'" ||
		msg == "did not find expected key" || msg == "did not find expected '-' indicator"
	var col int
	var word string
	if flowProblem {
		col, word = placeholderAt(data, e.Line)
	}
	switch {
	case col > 0:
		// A path such as logs/{date}.log in a [ ] list, or {date}/x at
		// the start of a value: YAML reads the { as a mapping.
		e.Column = col
		e.Msg = fmt.Sprintf("invalid YAML: YAML reads the { of %s as the start of a mapping; quote the value: %q", word, word)
	case strings.HasPrefix(msg, "exceeded max depth"):
		e.Msg = "invalid YAML: nested too deeply (" + msg + "); a rule book needs a handful of levels"
	case msg == "did not find expected ',' or ']'":
		e.Msg = "invalid YAML: " + msg + "; is a [ list that starts on this line missing its ]?"
	case msg == "did not find expected ',' or '}'":
		e.Msg = "invalid YAML: " + msg + "; is a { mapping that starts on this line missing its }?"
	case msg == "did not find expected key" || msg == "did not find expected '-' indicator":
		e.Msg = "invalid YAML: " + msg + "; check the indentation of the block that starts on this line"
	case strings.Contains(msg, "tab character") || msg == "found character that cannot start any token" && hasTabLine(data, e.Line):
		if l, col := tabLine(data, e.Line); l > 0 {
			e.Line, e.Column = l, col
		}
		e.Msg = "invalid YAML: " + msg + "; YAML indents with spaces, and this line has a tab"
	default:
		e.Msg = "invalid YAML: " + msg
	}
	p.errs = append(p.errs, e)
}

// placeholderAt finds, on the given line of data, a placeholder such as
// {date} outside quotes and comments, and returns its column and the
// plain word around it (logs/{date}.log), or 0 and "".
func placeholderAt(data []byte, line int) (int, string) {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 0, ""
	}
	l := string(lines[line-1])
	stop := func(c byte) bool { return strings.IndexByte(" \t,[]{}\"'", c) >= 0 }
	placeholder := func(i int) int { // its length at i, or 0
		for _, ph := range placeholders() {
			if strings.HasPrefix(l[i:], ph) {
				return len(ph)
			}
		}
		return 0
	}
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		case c == '"' || c == '\'':
			quote = c
			continue
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return 0, ""
		}
		if placeholder(i) == 0 {
			continue
		}
		from := i
		for from > 0 && !stop(l[from-1]) {
			from--
		}
		to := i
		for to < len(l) {
			if n := placeholder(to); n > 0 {
				to += n
			} else if stop(l[to]) {
				break
			} else {
				to++
			}
		}
		return utf8.RuneCountInString(l[:i]) + 1, l[from:to]
	}
	return 0, ""
}

// aliasAt returns the line and column of the first alias *name in data, or
// 0, 0.
func aliasAt(data []byte, name string) (int, int) {
	re := regexp.MustCompile(`\*` + regexp.QuoteMeta(name) + `(?:[\s,\]}]|$)`)
	for i, l := range bytes.Split(data, []byte("\n")) {
		if loc := re.FindIndex(l); loc != nil {
			return i + 1, utf8.RuneCount(l[:loc[0]]) + 1
		}
	}
	return 0, 0
}

// tabLine returns the first line from line on that has a tab in its
// indentation, and the column of that tab, or 0, 0.
func tabLine(data []byte, line int) (int, int) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if t := bytes.IndexByte(indent, '\t'); i+1 >= line && t >= 0 {
			return i + 1, t + 1
		}
	}
	return 0, 0
}

func hasTabLine(data []byte, line int) bool {
	l, _ := tabLine(data, line)
	return l > 0
}

func parserProblem(msg string) bool {
	for _, p := range []string{"did not find expected", "found duplicate %", "found incompatible YAML", "found undefined tag handle"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// aliasBudget bounds how many nodes YAML aliases may add to a document, so
// that a "billion laughs" file is refused before anything walks it.
const aliasBudget = 1_000_000

// checkAliases refuses documents whose aliases expand beyond aliasBudget
// or refer to a node that contains them. It visits each node once.
func (p *parser) checkAliases(doc *yaml.Node) bool {
	const busy = -1
	size := map[*yaml.Node]int{}
	raw := 0
	var bad *yaml.Node
	var badMsg string
	var walk func(n *yaml.Node) int
	walk = func(n *yaml.Node) int {
		if bad != nil {
			return 0
		}
		if n.Kind == yaml.AliasNode {
			raw++
			t := n.Alias
			if t == nil {
				return 1
			}
			s, seen := size[t]
			if !seen {
				s = walk(t)
			}
			switch {
			case s == busy:
				bad, badMsg = n, fmt.Sprintf("alias *%s refers to a node that contains it, so it never ends", n.Value)
			case s > aliasBudget:
				bad, badMsg = n, fmt.Sprintf("alias *%s expands to more than %d nodes (excessive aliasing); anchors should share small pieces of config", n.Value, aliasBudget)
			}
			return s
		}
		if s, seen := size[n]; seen {
			return s
		}
		raw++
		size[n] = busy
		s := 1
		for _, c := range n.Content {
			s += walk(c)
			if bad != nil {
				return 0
			}
			s = min(s, 2*aliasBudget)
		}
		size[n] = s
		return s
	}
	total := walk(doc)
	if bad != nil {
		p.errorf(scope{}, bad, "%s", badMsg)
		return false
	}
	if total > raw+aliasBudget {
		p.errorf(scope{}, doc, "the document's aliases expand to more than %d nodes (excessive aliasing); anchors should share small pieces of config", aliasBudget)
		return false
	}
	return true
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "got ..." in messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	case yaml.DocumentNode:
		return "a document"
	}
	return "an alias"
}

type pair struct{ key, val *yaml.Node }

// pairs returns the keys and values of mapping n in order, with YAML
// merge keys (<<) applied, and reports keys that repeat.
func (p *parser) pairs(sc scope, n *yaml.Node) []pair {
	return p.pairsWith(sc, n, nil)
}

// pairsWith is pairs with dup, when not nil, reporting repeated keys.
func (p *parser) pairsWith(sc scope, n *yaml.Node, dup func(k, first *yaml.Node)) []pair {
	n = resolve(n)
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, p.merge(sc, v)...)
			continue
		}
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode || isNull(rk) {
			p.errorf(sc, k, "a key must be a name, got %s", describe(rk))
			continue
		}
		if first, seenBefore := seen[rk.Value]; seenBefore {
			if dup != nil {
				dup(rk, first)
			} else {
				p.errorf(sc, k, "duplicate key %q; the first is at line %d", rk.Value, first.Line)
			}
			continue
		}
		seen[rk.Value] = k
		if rk != k {
			// An aliased key: its text, at the place of use.
			key := *rk
			key.Line, key.Column = k.Line, k.Column
			rk = &key
		}
		out = append(out, pair{rk, v})
	}
	// Keys written out win over merged ones, and earlier merges over later.
	for _, kv := range merged {
		if _, dup := seen[kv.key.Value]; !dup {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out
}

func (p *parser) merge(sc scope, at *yaml.Node) []pair {
	v := resolve(at)
	switch v.Kind {
	case yaml.MappingNode:
		return p.pairs(sc, v)
	case yaml.SequenceNode:
		var out []pair
		for _, m := range v.Content {
			if resolve(m).Kind != yaml.MappingNode {
				p.errorf(sc, m, "<< merges mappings, got %s", describe(m))
				continue
			}
			out = append(out, p.pairs(sc, m)...)
		}
		return out
	}
	p.errorf(sc, at, "<< merges mappings, got %s", describe(v))
	return nil
}

// unknownKey reports key k, suggesting the closest of valid or else
// listing what is accepted.
func (p *parser) unknownKey(sc scope, k *yaml.Node, valid []string, takes string) {
	name := resolve(k).Value
	if s := suggest(name, valid); s != "" {
		p.errorf(sc, k, "unknown key %q (did you mean %q?)", name, s)
		return
	}
	p.errorf(sc, k, "unknown key %q; %s", name, takes)
}

func (p *parser) mapping(sc scope, n *yaml.Node, what string) bool {
	if resolve(n).Kind != yaml.MappingNode {
		p.errorf(sc, n, "%s must be a mapping, got %s", what, describe(n))
		return false
	}
	return true
}

func (p *parser) sequence(sc scope, n *yaml.Node, what, example string) ([]*yaml.Node, bool) {
	r := resolve(n)
	if r.Kind != yaml.SequenceNode {
		p.errorf(sc, n, "%s must be a list such as %s, got %s", what, example, describe(n))
		return nil, false
	}
	return r.Content, true
}

// str returns a scalar's text. Numbers and booleans are accepted as their
// text: a rule named 2024 is named "2024".
func (p *parser) str(sc scope, n *yaml.Node, what string) (string, bool) {
	r := resolve(n)
	if r.Kind != yaml.ScalarNode || isNull(r) {
		p.errorf(sc, n, "%s must be a string, got %s", what, describe(n))
		return "", false
	}
	return r.Value, true
}

// name is str for names: not empty, no control characters.
func (p *parser) name(sc scope, n *yaml.Node, what string) (string, bool) {
	s, ok := p.str(sc, n, what)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		p.errorf(sc, n, "%s is empty", what)
		return "", false
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		p.errorf(sc, n, "%s %q has control characters", what, s)
		return "", false
	}
	return s, true
}

func (p *parser) integer(sc scope, n *yaml.Node, what string) (int64, bool) {
	r := resolve(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!int" {
		p.errorf(sc, n, "%s must be a whole number, got %s", what, describe(n))
		return 0, false
	}
	var v int64
	if err := r.Decode(&v); err != nil {
		p.errorf(sc, n, "%s %s is out of range", what, r.Value)
		return 0, false
	}
	return v, true
}

func isNumber(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float")
}

func (p *parser) number(sc scope, n *yaml.Node, what string) (float64, bool) {
	r := resolve(n)
	if _, err := strconv.ParseFloat(r.Value, 64); r.Kind == yaml.ScalarNode && r.Style == 0 && errors.Is(err, strconv.ErrRange) {
		// YAML takes 1e400 for a string.
		p.errorf(sc, n, "%s must be a finite number, got %s, which is out of range", what, r.Value)
		return 0, false
	}
	if !isNumber(r) {
		p.errorf(sc, n, "%s must be a number, got %s", what, describe(n))
		return 0, false
	}
	var v float64
	if err := r.Decode(&v); err != nil || v != v || v > maxFloat || v < -maxFloat {
		p.errorf(sc, n, "%s must be a finite number, got %s", what, r.Value)
		return 0, false
	}
	return v, true
}

const maxFloat = 1.7976931348623157e308

// integerOf returns the value of n when it is an integer literal that
// fits an int64, else nil.
func integerOf(n *yaml.Node) *int64 {
	r := resolve(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!int" {
		return nil
	}
	var i int64
	if r.Decode(&i) != nil {
		return nil
	}
	return &i
}

// checkPlaceholders reports a ~ or $VAR in s (see shellProblem), or the
// first {name} placeholder that is not one of placeholders(); in a glob
// (an input's path), {a,b} is an alternation, not a placeholder.
func (p *parser) checkPlaceholders(sc scope, n *yaml.Node, what, s string, glob bool) {
	if msg := pathProblem(what, s, glob); msg != "" {
		p.errorf(sc, n, "%s", msg)
	}
}

// CheckPlaceholders returns an error when path, named what (such as
// "--out"), has a ~ or $VAR, or a {...} that is not a placeholder, as the
// config's paths are checked. path is not a glob.
func CheckPlaceholders(what, path string) error {
	if msg := pathProblem(what, path, false); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// placeholderProblem describes the first unknown placeholder in s, or
// returns "". In a glob, {a,b} is an alternation.
func placeholderProblem(what, s string, glob bool) string {
	for rest := s; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return ""
		}
		j := closingBrace(rest[i:])
		if j < 0 {
			hint := ""
			if sug := suggest(rest[i:]+"}", placeholders()); sug != "" {
				hint = " (did you mean " + sug + "?)"
			}
			return fmt.Sprintf("%s %q has a { without its }%s", what, s, hint)
		}
		ph := rest[i : i+j+1]
		if glob && strings.Contains(ph, ",") {
			// An alternation: its options may hold placeholders.
			if msg := placeholderProblem(what, ph[1:len(ph)-1], glob); msg != "" {
				return strings.Replace(msg, fmt.Sprintf("%q", ph[1:len(ph)-1]), fmt.Sprintf("%q", s), 1)
			}
		} else if !contains(placeholders(), ph) {
			hint := ""
			if sug := suggest(ph, placeholders()); sug != "" {
				hint = " (did you mean " + sug + "?)"
			}
			return fmt.Sprintf("%s %q has the unknown placeholder %s%s; the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}", what, s, ph, hint)
		}
		rest = rest[i+j+1:]
	}
}

// pathProblem describes the first problem of path s: what a shell would
// expand, then an unknown or unclosed placeholder.
func pathProblem(what, s string, glob bool) string {
	if msg := shellProblem(what, s); msg != "" {
		return msg
	}
	return placeholderProblem(what, s, glob)
}

// shellProblem describes a ~ or $VAR in path s, which a shell would
// expand and dqaudit does not: cron runs with a bare environment, and a
// literal directory named ~ beside the config is no one's intent.
func shellProblem(what, s string) string {
	if s == "~" || strings.HasPrefix(s, "~/") {
		return fmt.Sprintf("%s %q starts with ~, which is not expanded; write the absolute path", what, s)
	}
	if v := shellVar(s); v != "" {
		return fmt.Sprintf("%s %q holds %s, which is not expanded: environment variables are not read; write the path itself", what, s, v)
	}
	return ""
}

// bracedVar matches ${NAME}, and ${NAME:-word} and its kin, at the start
// of a string.
var bracedVar = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=?+][^}]*)?\}`)

// plainVar matches $NAME at the start of a string.
var plainVar = regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_]*`)

// shellVar returns the first part of s that reads as a shell variable, or
// "". ${NAME} does wherever it is. $NAME does where a variable is meant:
// at the start of a word (of s, or after a character that is not a
// letter, digit or _, such as / or -) and not closed by another $. Other
// $ are a key's own: Hadoop's "dir_$folder$" markers, "x$y", "Outer$Inner".
func shellVar(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		if v := bracedVar.FindString(s[i:]); v != "" {
			return v
		}
		v := plainVar.FindString(s[i:])
		if v == "" || i > 0 && isNameByte(s[i-1]) || strings.HasPrefix(s[i+len(v):], "$") {
			continue
		}
		return v
	}
	return ""
}

func isNameByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// closingBrace returns the index of the '}' that closes the '{' at s[0],
// counting nested braces, or -1.
func closingBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// scalarAt returns the text of key in mapping n, or "", without reporting
// anything: it names the scope of problems found before the key is read.
func scalarAt(n *yaml.Node, key string) string {
	n = resolve(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.ShortTag() == "!!str" && k.Value == key {
			if v := resolve(n.Content[i+1]); v.Kind == yaml.ScalarNode && !isNull(v) && strings.TrimSpace(v.Value) != "" {
				return v.Value
			}
			return ""
		}
	}
	return ""
}

func topKeys() []string {
	return []string{"version", "inputs", "references", "events", "rules", "drift", "report"}
}

func (p *parser) config(root *yaml.Node) *Config {
	cfg := &Config{File: p.file, Report: Report{
		Out:              DefaultReportOut,
		Formats:          []string{"html", "markdown", "json"},
		Samples:          DefaultSamples,
		MalformedSamples: DefaultMalformedSamples,
	}}
	top := map[string]pair{}
	for _, kv := range p.pairs(scope{}, root) {
		k := kv.key.Value
		switch k {
		case "version", "inputs", "references", "events", "rules", "drift", "report":
			top[k] = kv
		case "x-" + strings.TrimPrefix(k, "x-"):
			// Extension keys hold YAML anchors for rules to merge.
		default:
			p.unknownKey(scope{}, kv.key, topKeys(), "the config takes "+list(topKeys(), "and")+", and keys starting with x- for anchors")
		}
	}

	if kv, ok := top["version"]; !ok {
		p.errorf(scope{}, root, "missing version; start the config with \"version: 1\"")
	} else if v, ok := p.integer(scope{}, kv.val, "version"); ok {
		if v != 1 {
			p.errorf(scope{}, kv.val, "version must be 1, the only version dqaudit reads (got %d)", v)
		}
		cfg.Version = int(v)
	}

	if kv, ok := top["inputs"]; ok && !isNull(kv.val) {
		cfg.Inputs = p.inputs(kv)
	} else {
		at := root
		if ok {
			at = kv.key
		}
		p.errorf(scope{}, at, "no inputs; list at least one under inputs: with name, format and paths")
	}
	if kv, ok := top["references"]; ok && !isNull(kv.val) {
		cfg.References = p.references(kv.val)
	}
	if kv, ok := top["events"]; ok && !isNull(kv.val) {
		cfg.Events = p.eventTypes(kv.val)
	}
	p.logsOnly = len(cfg.Inputs) > 0
	for _, in := range cfg.Inputs {
		p.logsOnly = p.logsOnly && in.Format == FormatKafkaLog
	}
	if kv, ok := top["rules"]; ok && !isNull(kv.val) {
		if items, ok := p.sequence(scope{}, kv.val, "rules", "[{name: r, event: MovieWatchEvent, field: minute, min: 0}]"); ok {
			names := map[string]*yaml.Node{}
			for i, n := range items {
				if r, ok := p.rule(n, i, names); ok {
					cfg.Rules = append(cfg.Rules, r)
				}
			}
		}
	}
	if kv, ok := top["drift"]; ok {
		cfg.Drift = p.drift(kv)
	}
	if kv, ok := top["report"]; ok && !isNull(kv.val) {
		p.report(kv.val, &cfg.Report)
	}
	return cfg
}

func (p *parser) inputs(kv pair) []Input {
	items, ok := p.sequence(scope{}, kv.val, "inputs", "[{name: events, format: avro, paths: [\"archive/{date}/*.avro\"]}]")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		p.errorf(scope{}, kv.val, "no inputs; list at least one under inputs: with name, format and paths")
		return nil
	}
	var out []Input
	names := map[string]*yaml.Node{}
	keys := []string{"name", "format", "paths"}
	for i, n := range items {
		sc := scope{prefix: fmt.Sprintf("input #%d: ", i+1)}
		if !p.mapping(sc, n, "an input") {
			continue
		}
		in := Input{Pos: Pos{resolve(n).Line, resolve(n).Column}}
		if s := scalarAt(n, "name"); s != "" {
			sc.prefix = fmt.Sprintf("input %q: ", s)
		}
		vals := map[string]*yaml.Node{}
		for _, kv := range p.pairs(sc, n) {
			switch kv.key.Value {
			case "name", "format", "paths":
				vals[kv.key.Value] = kv.val
			default:
				p.unknownKey(sc, kv.key, keys, "an input takes name, format and paths")
			}
		}
		if v := vals["name"]; v == nil {
			p.errorf(sc, n, "missing name; every input needs a unique name")
		} else if s, ok := p.name(sc, v, "name"); ok {
			in.Name = s
			sc.prefix = fmt.Sprintf("input %q: ", s)
			if first, dup := names[s]; dup {
				p.errorf(sc, v, "duplicate input name; the first input with this name is at line %d", first.Line)
			} else {
				names[s] = v
			}
		}
		if v := vals["format"]; v == nil {
			p.errorf(sc, n, "missing format; use avro or kafka-log")
		} else if s, ok := p.str(sc, v, "format"); ok {
			switch s {
			case FormatAvro, FormatKafkaLog:
				in.Format = s
			default:
				p.errorf(sc, v, "format must be avro or kafka-log, got %q%s", s, didYouMean(s, []string{FormatAvro, FormatKafkaLog}))
			}
		}
		if v := vals["paths"]; v == nil {
			p.errorf(sc, n, "missing paths; list the globs of its files, such as [\"archive/{date}/*.avro\"]")
		} else if items, ok := p.sequence(sc, v, "paths", "[\"archive/{date}/*.avro\"]"); ok {
			if len(items) == 0 {
				p.errorf(sc, v, "paths is empty; list at least one glob, such as \"archive/{date}/*.avro\"")
			}
			for _, it := range items {
				s, ok := p.str(sc, it, "a path")
				if !ok {
					continue
				}
				if s == "" {
					p.errorf(sc, it, "a path is empty")
					continue
				}
				if _, err := filepath.Match(s, ""); err != nil {
					p.errorf(sc, it, "bad glob %q: %v", s, err)
					continue
				}
				p.checkPlaceholders(sc, it, "path", s, true)
				in.Paths = append(in.Paths, s)
			}
		}
		out = append(out, in)
	}
	return out
}

func (p *parser) references(n *yaml.Node) []Reference {
	if !p.mapping(scope{}, n, "references") {
		return nil
	}
	var out []Reference
	keys := []string{"path", "column", "field"}
	dup := func(k, first *yaml.Node) {
		p.errorf(scope{prefix: fmt.Sprintf("reference %q: ", k.Value)}, k, "defined twice; the first is at line %d", first.Line)
	}
	for _, kv := range p.pairsWith(scope{}, n, dup) {
		name, ok := p.name(scope{}, kv.key, "a reference name")
		if !ok {
			continue
		}
		sc := scope{prefix: fmt.Sprintf("reference %q: ", name)}
		ref := Reference{Name: name, Pos: Pos{kv.key.Line, kv.key.Column}}
		if !p.mapping(sc, kv.val, "a reference") {
			continue
		}
		vals := map[string]*yaml.Node{}
		for _, rkv := range p.pairs(sc, kv.val) {
			switch rkv.key.Value {
			case "path", "column", "field":
				vals[rkv.key.Value] = rkv.val
			default:
				p.unknownKey(sc, rkv.key, keys, "a reference takes path, column (for .csv) and field (for .avro)")
			}
		}
		if v := vals["column"]; v != nil {
			ref.Column, _ = p.name(sc, v, "column")
		}
		if v := vals["field"]; v != nil {
			ref.Field, _ = p.name(sc, v, "field")
		}
		p.refs[name] = true
		v := vals["path"]
		if v == nil {
			p.errorf(sc, kv.val, "missing path; name the .csv, .txt or .avro file of known ids")
			continue
		}
		path, ok := p.name(sc, v, "path")
		if !ok {
			continue
		}
		ref.Path = path
		p.checkPlaceholders(sc, v, "path", path, false)
		switch refExt(path) {
		case ".csv":
			if vals["column"] == nil {
				p.errorf(sc, kv.val, "%s is a CSV file; name the column that holds the ids with column:", path)
			}
			if vals["field"] != nil {
				p.errorf(sc, vals["field"], "field applies to .avro references; a CSV reference names its column with column:")
			}
		case ".txt":
			if vals["column"] != nil {
				p.errorf(sc, vals["column"], "column applies to .csv references; a .txt reference holds one id a line")
			}
			if vals["field"] != nil {
				p.errorf(sc, vals["field"], "field applies to .avro references; a .txt reference holds one id a line")
			}
		case ".avro":
			if vals["field"] == nil {
				p.errorf(sc, kv.val, "%s is an Avro file; name the field that holds the ids with field:", path)
			}
			if vals["column"] != nil {
				p.errorf(sc, vals["column"], "column applies to .csv references; an Avro reference names its field with field:")
			}
		default:
			p.errorf(sc, v, "path %q must end in .csv, .txt or .avro (.csv and .txt may be gzipped: .csv.gz, .txt.gz)", path)
		}
		out = append(out, ref)
	}
	return out
}

// refExt returns the type of a reference file: ".csv", ".txt" or ".avro",
// looking through a ".gz" for the first two.
func refExt(path string) string {
	p := strings.ToLower(withoutQuery(path))
	gz := strings.HasSuffix(p, ".gz")
	p = strings.TrimSuffix(p, ".gz")
	switch {
	case strings.HasSuffix(p, ".csv"):
		return ".csv"
	case strings.HasSuffix(p, ".txt"):
		return ".txt"
	case strings.HasSuffix(p, ".avro") && !gz:
		return ".avro"
	}
	return ""
}

// withoutQuery drops the query of an object-storage URL
// (s3://bucket/key?endpoint=...), which is not part of the file's name.
func withoutQuery(path string) string {
	if strings.Contains(path, "://") {
		path, _, _ = strings.Cut(path, "?")
	}
	return path
}

var eventName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) eventTypes(n *yaml.Node) []string {
	items, ok := p.sequence(scope{}, n, "events", "[PlaybackError]")
	if !ok {
		return nil
	}
	var out []string
	for _, it := range items {
		s, ok := p.name(scope{}, it, "an event type")
		if !ok {
			continue
		}
		switch {
		case s == "*":
			p.errorf(scope{}, it, "events lists \"*\"; list event type names, and use event: \"*\" in rules")
		case isBuiltin(s):
			p.errorf(scope{}, it, "events lists %s, which is built in; remove it", s)
		case strings.Contains(s, ".") && !strings.HasSuffix(s, ".") && eventName.MatchString(strings.ReplaceAll(s, ".", "_")):
			short := s[strings.LastIndexByte(s, '.')+1:]
			p.errorf(scope{}, it, "events lists %s; name the record without its namespace, %s: events are matched by the record's name alone", s, short)
		case !eventName.MatchString(s):
			p.errorf(scope{}, it, "event type %q is not an Avro record name (letters, digits and _, not starting with a digit)", s)
		case p.events[s]:
			p.errorf(scope{}, it, "events lists %s twice", s)
		default:
			p.events[s] = true
			out = append(out, s)
		}
	}
	return out
}

func isBuiltin(event string) bool {
	_, ok := BuiltinFields(event)
	return ok
}

func reportFormats() []string { return []string{"html", "markdown", "json"} }

func (p *parser) report(n *yaml.Node, rep *Report) {
	sc := scope{prefix: "report: "}
	if !p.mapping(scope{}, n, "report") {
		return
	}
	keys := []string{"out", "formats", "samples", "malformed_samples"}
	for _, kv := range p.pairs(sc, n) {
		switch kv.key.Value {
		case "out":
			if s, ok := p.name(sc, kv.val, "out"); ok {
				p.checkPlaceholders(sc, kv.val, "out", s, false)
				rep.Out = s
			}
		case "formats":
			items, ok := p.sequence(sc, kv.val, "formats", "[html, markdown, json]")
			if !ok {
				continue
			}
			if len(items) == 0 {
				p.errorf(sc, kv.val, "formats is empty; list at least one of html, markdown and json")
				continue
			}
			rep.Formats = nil
			seen := map[string]bool{}
			for _, it := range items {
				s, ok := p.str(sc, it, "a format")
				if !ok {
					continue
				}
				switch {
				case s != "html" && s != "markdown" && s != "json":
					p.errorf(sc, it, "format %q is not supported%s; use html, markdown or json", s, didYouMean(s, reportFormats()))
				case seen[s]:
					p.errorf(sc, it, "format %s is listed twice", s)
				default:
					seen[s] = true
					rep.Formats = append(rep.Formats, s)
				}
			}
		case "samples", "malformed_samples":
			if v, ok := p.integer(sc, kv.val, kv.key.Value); ok {
				if v < 0 || v > maxSamples {
					p.errorf(sc, kv.val, "%s must be from 0 to %d, got %d", kv.key.Value, maxSamples, v)
					continue
				}
				if kv.key.Value == "samples" {
					rep.Samples = int(v)
				} else {
					rep.MalformedSamples = int(v)
				}
			}
		default:
			p.unknownKey(sc, kv.key, keys, "report takes "+list(keys, "and"))
		}
	}
}

// Canonical returns the config as a canonical text of everything it says
// that can change what a scan finds: the settings as parsed, in their
// order, without the comments, layout, quoting, key order and anchors of
// the file, or the name it was read under. Two configs with the same
// canonical text give the same results on the same archive, so the shards
// of a run may be merged under either (see audit.ConfigHash). A rule's
// position stays in it, since an input error of a writer schema that
// does not fit the rule cites it; the positions of the other sections
// reach no result.
func (c *Config) Canonical() []byte {
	var b bytes.Buffer
	canonical(&b, reflect.ValueOf(*c), false)
	return b.Bytes()
}

var posType = reflect.TypeFor[Pos]()

// Definition is the canonical text of what the rule counts: its event,
// field, where and check, without its name, severity, tolerance,
// description or position, which change no count. A rule's failed shares
// on two days compare only when its definition is the same.
func (r Rule) Definition() string {
	r.Name, r.Severity, r.Tolerance, r.Description, r.Pos = "", SeverityUnset, Tolerance{}, "", Pos{}
	var b bytes.Buffer
	canonical(&b, reflect.ValueOf(r), false)
	return b.String()
}

// canonical writes v to b: structs as {Name:value ...}, lists as [...],
// maps by sorted keys, strings quoted, floats in the shortest form that
// reads back exactly (NaN and infinities included). keepPos keeps a Pos
// field of the struct v.
func canonical(b *bytes.Buffer, v reflect.Value, keepPos bool) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		b.WriteString(t.Name() + "{")
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type == posType && !keepPos || t == reflect.TypeFor[Config]() && f.Name == "File" {
				continue
			}
			b.WriteString(f.Name + ":")
			canonical(b, v.Field(i), f.Type == reflect.TypeFor[Rule]() || f.Type == reflect.TypeFor[[]Rule]())
			b.WriteByte(' ')
		}
		b.WriteByte('}')
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		canonical(b, v.Elem(), keepPos)
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := range v.Len() {
			canonical(b, v.Index(i), keepPos)
			b.WriteByte(' ')
		}
		b.WriteByte(']')
	case reflect.Map:
		keys := v.MapKeys()
		texts := make([]string, len(keys))
		for i, k := range keys {
			var kb bytes.Buffer
			canonical(&kb, k, false)
			texts[i] = kb.String()
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return strings.Compare(texts[i], texts[j]) })
		b.WriteString("map[")
		for _, i := range order {
			b.WriteString(texts[i] + ":")
			canonical(b, v.MapIndex(keys[i]), keepPos)
			b.WriteByte(' ')
		}
		b.WriteByte(']')
	case reflect.String:
		b.WriteString(strconv.Quote(v.String()))
	case reflect.Float32, reflect.Float64:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	default:
		// No config field is of another kind; should one be, it must
		// not drop out of the comparison unseen.
		fmt.Fprintf(b, "%#v", v)
	}
}
