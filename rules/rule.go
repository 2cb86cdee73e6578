package rules

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

func commonKeys() []string {
	return []string{"name", "event", "field", "where", "severity", "tolerance", "description"}
}

func kindNames() []string {
	ks := ruleKinds()
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = k.String()
	}
	return s
}

func kindByName(name string) RuleKind {
	for _, k := range ruleKinds() {
		if k.String() == name {
			return k
		}
	}
	return RuleUnset
}

// kindList is the sentence that names every check.
func kindList() string { return list(kindNames(), "or") }

func (p *parser) rule(n *yaml.Node, i int, names map[string]*yaml.Node) (Rule, bool) {
	sc := scope{rule: "#" + strconv.Itoa(i+1)}
	rn := resolve(n)
	if rn.Kind != yaml.MappingNode {
		p.errorf(sc, n, "a rule must be a mapping with name, event and one check, got %s", describe(n))
		return Rule{}, false
	}
	r := Rule{Pos: Pos{rn.Line, rn.Column}}
	nerr := len(p.errs)
	vals := map[string]*yaml.Node{}
	keyOf := map[string]*yaml.Node{}
	var kinds []pair
	// The name first, so that every problem can cite it.
	if s := scalarAt(rn, "name"); s != "" {
		sc.rule = s
	}
	pairs := p.pairs(sc, rn)
	for _, kv := range pairs {
		if kv.key.Value == "name" {
			if s, ok := p.name(sc, kv.val, "name"); ok {
				r.Name = s
				sc.rule = s
				if first, dup := names[s]; dup {
					p.errorf(sc, kv.val, "duplicate rule name; the first rule with this name is at line %d", first.Line)
				} else {
					names[s] = kv.val
				}
			}
		}
	}
	valid := append(commonKeys(), kindNames()...)
	typo := false // an unknown key looks like a misspelt check
	for _, kv := range pairs {
		k := kv.key.Value
		switch {
		case kindByName(k) != RuleUnset:
			kinds = append(kinds, kv)
		case k == "name":
			continue
		case contains(commonKeys(), k):
		default:
			p.unknownKey(sc, kv.key, valid, "a rule takes "+list(commonKeys(), "and")+", and one check: "+kindList())
			typo = typo || kindByName(suggest(kv.key.Value, valid)) != RuleUnset
			continue
		}
		vals[k] = kv.val
		keyOf[k] = kv.key
	}
	if !hasKey(pairs, "name") {
		p.errorf(sc, rn, "missing name; every rule needs a unique name, which reports show")
	}

	// event
	var fields []Field // the event's fields when it is built in
	builtin := false
	if v := vals["event"]; v == nil {
		p.errorf(sc, rn, "missing event; name %s", eventChoice())
	} else if s, ok := p.str(sc, v, "event"); ok {
		switch {
		case s == "*":
			r.Event = s
		case isBuiltin(s):
			r.Event = s
			fields, builtin = BuiltinFields(s)
		case p.events[s]:
			r.Event = s
		default:
			p.errorf(sc, v, "unknown event type %q%s; name %s", s, didYouMean(s, p.eventNames()), eventChoice())
		}
	}

	// the check
	switch len(kinds) {
	case 0:
		if !typo {
			p.errorf(sc, rn, "no check; give exactly one of %s", kindList())
		}
	case 1:
	default:
		names := make([]string, len(kinds))
		for i, kv := range kinds {
			names[i] = kv.key.Value
		}
		hint := "split it into one rule per check"
		if len(kinds) == 2 && hasKey(kinds, "min") && hasKey(kinds, "max") {
			hint = "for a range use between: [lo, hi]"
		}
		p.errorf(sc, kinds[1].key, "several checks (%s) in one rule; a rule makes exactly one check, so %s", list(names, "and"), hint)
	}
	if len(kinds) > 0 {
		r.Kind = kindByName(kinds[0].key.Value)
	}

	// field
	var field *Field // the built-in field the rule checks
	fv := vals["field"]
	switch {
	case r.Kind == RuleRowCount && fv != nil:
		p.errorf(sc, keyOf["field"], "row_count counts events, so it takes no field")
	case r.Kind == RuleUnique && fv != nil:
		p.errorf(sc, keyOf["field"], "unique names its fields in its list, such as unique: [userId, movieId]; remove field")
	case fv != nil:
		if s, ok := p.name(sc, fv, "field"); ok {
			r.Field = s
			if builtin {
				field = p.builtinField(sc, fv, r.Event, fields, s)
			}
		}
	case r.Kind != RuleUnset && r.Kind.needsField():
		if builtin {
			p.errorf(sc, rn, "missing field; a %s rule checks one field of %s: %s", r.Kind, r.Event, list(fieldNames(fields), "or"))
		} else {
			p.errorf(sc, rn, "missing field; a %s rule checks one field", r.Kind)
		}
	}

	for _, kv := range kinds {
		p.kindValue(sc, &r, kindByName(kv.key.Value), kv, field, fields, builtin)
	}

	if v := vals["where"]; v != nil {
		if s, ok := p.str(sc, v, "where"); ok {
			r.Where = s
			if r.Event != "" {
				p.expr(sc, v, "where", s, r.Event)
			}
		}
	}
	if r.Event == "*" && p.logsOnly {
		p.starNames(sc, &r, vals)
	}
	if v := vals["severity"]; v != nil {
		if s, ok := p.str(sc, v, "severity"); ok {
			switch s {
			case "error":
				r.Severity = SeverityError
			case "warn":
				r.Severity = SeverityWarn
			default:
				p.errorf(sc, v, "severity must be error or warn, got %q%s", s, didYouMean(s, []string{"error", "warn"}))
			}
		}
	}
	if v := vals["tolerance"]; v != nil {
		switch r.Kind {
		case RuleRowCount:
			p.errorf(sc, keyOf["tolerance"], "tolerance does not apply to row_count; widen its min and max instead")
		case RuleMaxNullRatio:
			p.errorf(sc, keyOf["tolerance"], "tolerance does not apply to max_null_ratio, which is a share itself")
		default:
			r.Tolerance, _ = p.tolerance(sc, v)
		}
	}
	if v := vals["description"]; v != nil {
		r.Description, _ = p.str(sc, v, "description")
	}
	return r, len(p.errs) == nerr
}

func hasKey(pairs []pair, k string) bool {
	for _, kv := range pairs {
		if kv.key.Value == k {
			return true
		}
	}
	return false
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func eventChoice() string {
	return list(BuiltinEvents(), "or") + `, "*" for every type, or a type listed under events:`
}

func (p *parser) eventNames() []string {
	s := BuiltinEvents()
	for e := range p.events {
		s = append(s, e)
	}
	return s
}

// builtinField returns the field of a built-in event type, or reports
// that it has none of that name.
func (p *parser) builtinField(sc scope, n *yaml.Node, event string, fields []Field, name string) *Field {
	for i := range fields {
		if fields[i].Name == name {
			return &fields[i]
		}
	}
	names := fieldNames(fields)
	p.errorf(sc, n, "%s has no field %q%s; its fields are %s", event, name, didYouMean(name, names), list(names, "and"))
	return nil
}

// kindWord returns "a string", "an int" and so on.
func kindWord(k Kind) string {
	switch k {
	case KindInt:
		return "an int"
	case KindNull:
		return "untyped"
	}
	return "a " + k.String()
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// kindValue reads the value of a check's key into r and checks it against
// the field it applies to, when the field's type is known.
func (p *parser) kindValue(sc scope, r *Rule, kind RuleKind, kv pair, field *Field, fields []Field, builtin bool) {
	v := kv.val
	if kind.numeric() && field != nil && field.Kind != KindNull && field.Kind != KindInt && field.Kind != KindFloat {
		p.errorf(sc, kv.key, "%s needs a numeric field, but %s's %s is %s", kind, r.Event, field.Name, kindWord(field.Kind))
	}
	switch kind {
	case RuleBetween:
		items, ok := p.sequence(sc, v, "between", "[1, 5]")
		if !ok {
			return
		}
		if len(items) != 2 {
			p.errorf(sc, v, "between needs two numbers [lo, hi] (got %d)", len(items))
			return
		}
		lo, ok1 := p.number(sc, items[0], "the low bound of between")
		hi, ok2 := p.number(sc, items[1], "the high bound of between")
		loI, hiI := integerOf(items[0]), integerOf(items[1])
		switch {
		case loI != nil && hiI != nil:
			if *loI > *hiI {
				p.errorf(sc, v, "between [%d, %d] has its low bound above its high bound; write [%d, %d]", *loI, *hiI, *hiI, *loI)
			}
		case ok1 && ok2 && lo > hi:
			p.errorf(sc, v, "between [%s, %s] has its low bound above its high bound; write [%s, %s]", fmtNum(lo), fmtNum(hi), fmtNum(hi), fmtNum(lo))
		}
		r.Between = [2]float64{lo, hi}
		r.IntBounds = [2]*int64{loI, hiI}
	case RuleMin:
		r.Min, _ = p.number(sc, v, "min")
		r.IntBounds[0] = integerOf(v)
	case RuleMax:
		r.Max, _ = p.number(sc, v, "max")
		r.IntBounds[1] = integerOf(v)
	case RuleIn, RuleNotIn:
		items, ok := p.sequence(sc, v, kind.String(), "[200, 204]")
		if !ok {
			return
		}
		if len(items) == 0 {
			p.errorf(sc, v, "%s is empty; list at least one value", kind)
			return
		}
		var vals []Value
		for _, it := range items {
			val, ok := p.scalarValue(sc, it, kind)
			if !ok {
				continue
			}
			if field != nil && field.Kind != KindNull && !sameType(field.Kind, val.Kind) {
				p.errorf(sc, it, "%s lists %s, but %s's %s is %s; %s", kind, describe(it), r.Event, field.Name, kindWord(field.Kind), typeHint(field.Kind, it))
				continue
			}
			vals = append(vals, val)
		}
		r.Values = vals
	case RuleNotNull:
		p.onlyTrue(sc, v, kind)
	case RuleOnDay:
		p.onlyTrue(sc, v, kind)
		if field != nil && field.Kind != KindString && field.Kind != KindNull && !(field.Kind == KindInt && TimeUnit(field.Type) > 0) {
			p.errorf(sc, kv.key, "on_day needs a time field: text such as 2024-03-19T08:15:00, or an Avro long with a timestamp logical type; %s's %s is %s", r.Event, field.Name, kindWord(field.Kind))
		}
	case RulePattern:
		s, ok := p.str(sc, v, "pattern")
		if !ok {
			return
		}
		r.Pattern = s
		if _, err := compilePattern(s); err != nil {
			p.errorf(sc, v, "%v", err)
		}
	case RuleInReference:
		s, ok := p.name(sc, v, "in_reference")
		if !ok {
			return
		}
		r.Reference = s
		if !p.refs[s] {
			names := make([]string, 0, len(p.refs))
			for n := range p.refs {
				names = append(names, n)
			}
			p.errorf(sc, v, "in_reference names %q, which is not defined%s; define it under references: with a path", s, didYouMean(s, names))
		}
	case RuleUnique:
		items, ok := p.sequence(sc, v, "unique", "[userId, movieId]")
		if !ok {
			return
		}
		if len(items) == 0 {
			p.errorf(sc, v, "unique is empty; list the fields whose combination must not repeat")
			return
		}
		seen := map[string]bool{}
		for _, it := range items {
			s, ok := p.name(sc, it, "a unique field")
			if !ok {
				continue
			}
			if seen[s] {
				p.errorf(sc, it, "unique lists %s twice", s)
				continue
			}
			seen[s] = true
			if builtin && p.builtinField(sc, it, r.Event, fields, s) == nil {
				continue
			}
			r.Fields = append(r.Fields, s)
		}
	case RuleMaxNullRatio:
		share, ok := p.share(sc, v)
		if !ok {
			p.errorf(sc, v, "max_null_ratio must be a share from 0 to 1 (e.g. 0.01) or a percent (e.g. 1%%), got %s", describe(v))
			return
		}
		r.MaxNullRatio = share
	case RuleRowCount:
		p.rowCount(sc, r, v)
	case RuleExpr:
		s, ok := p.str(sc, v, "expr")
		if !ok {
			return
		}
		r.Expr = s
		if r.Event != "" {
			p.expr(sc, v, "expr", s, r.Event)
		}
	}
}

// starNames refuses a name that a "*" rule reads and no built-in event
// type has, when every input is a Kafka log: such a rule could apply to
// no event, and would pass every night checking nothing.
func (p *parser) starNames(sc scope, r *Rule, vals map[string]*yaml.Node) {
	var known []string
	for _, e := range BuiltinEvents() {
		fields, _ := BuiltinFields(e)
		for _, f := range fields {
			if !contains(known, f.Name) {
				known = append(known, f.Name)
			}
		}
	}
	check := func(n *yaml.Node, name string) {
		if !contains(known, name) {
			p.errorf(sc, n, "no event type has a field %q%s; the inputs are all Kafka logs, whose events are %s", name, didYouMean(name, known), list(BuiltinEvents(), "and"))
		}
	}
	if r.Field != "" {
		check(vals["field"], r.Field)
	}
	if v := vals["unique"]; v != nil {
		for _, it := range resolve(v).Content {
			if it := resolve(it); it.Kind == yaml.ScalarNode && contains(r.Fields, it.Value) {
				check(it, it.Value)
			}
		}
	}
	for _, key := range []string{"where", "expr"} {
		src := r.Where
		if key == "expr" {
			src = r.Expr
		}
		if v := vals[key]; v != nil && src != "" {
			if prog, e := compileExpr(src, "*"); e == nil {
				for _, name := range prog.names {
					check(v, name)
				}
			}
		}
	}
}

// onlyTrue reads the value of a check that takes no parameter, such as
// not_null: true.
func (p *parser) onlyTrue(sc scope, v *yaml.Node, kind RuleKind) {
	rv := resolve(v)
	if rv.Kind != yaml.ScalarNode || rv.ShortTag() != "!!bool" {
		p.errorf(sc, v, "%s must be true, got %s", kind, describe(v))
		return
	}
	if rv.Value != "true" && rv.Value != "True" && rv.Value != "TRUE" {
		p.errorf(sc, v, "%s: %s checks nothing; set it to true or remove the rule", kind, rv.Value)
	}
}

func sameType(field, val Kind) bool {
	num := func(k Kind) bool { return k == KindInt || k == KindFloat }
	return field == val || num(field) && num(val)
}

func typeHint(field Kind, n *yaml.Node) string {
	switch field {
	case KindInt, KindFloat:
		return "write a number without quotes"
	case KindString:
		return fmt.Sprintf("quote it: %q", resolve(n).Value)
	case KindBool:
		return "use true or false"
	}
	return "use a value of the field's type"
}

// scalarValue turns a YAML scalar into a Value: ints, floats, booleans and
// strings keep their YAML type, so 200 and "200" differ.
func (p *parser) scalarValue(sc scope, n *yaml.Node, kind RuleKind) (Value, bool) {
	r := resolve(n)
	if r.Kind != yaml.ScalarNode {
		p.errorf(sc, n, "%s lists single values (numbers, strings or booleans), got %s", kind, describe(n))
		return Value{}, false
	}
	switch r.ShortTag() {
	case "!!null":
		p.errorf(sc, n, "%s lists null, but nulls pass value rules; use not_null to refuse them", kind)
		return Value{}, false
	case "!!int":
		var i int64
		if err := r.Decode(&i); err != nil {
			p.errorf(sc, n, "%s lists %s, which is out of range", kind, r.Value)
			return Value{}, false
		}
		return Int(i), true
	case "!!float":
		f, ok := p.number(sc, n, "a value")
		return Float(f), ok
	case "!!bool":
		var b bool
		if err := r.Decode(&b); err != nil {
			return Str(r.Value), true
		}
		return Bool(b), true
	}
	return Str(r.Value), true
}

// share reads a share of 0 to 1 written as a number or a percent.
func (p *parser) share(sc scope, n *yaml.Node) (float64, bool) {
	r := resolve(n)
	if r.Kind != yaml.ScalarNode {
		return 0, false
	}
	if isNumber(r) {
		var f float64
		if err := r.Decode(&f); err != nil || math.IsNaN(f) || f < 0 || f > 1 {
			return 0, false
		}
		return f, true
	}
	pct, ok := parsePercent(r.Value)
	return pct / 100, ok
}

// parsePercent reads "0.5%" as 0.5.
func parsePercent(s string) (float64, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
		return 0, false
	}
	return f, true
}

func (p *parser) tolerance(sc scope, n *yaml.Node) (Tolerance, bool) {
	r := resolve(n)
	const want = "tolerance must be a count of 0 or more (e.g. 10) or a percent from 0%% to 100%% (e.g. 0.5%%), got %s"
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
		var c int64
		if err := r.Decode(&c); err == nil && c >= 0 {
			return Tolerance{Count: c}, true
		}
		if c >= 0 {
			p.errorf(sc, n, "tolerance %s is out of range; a count is at most %d", r.Value, int64(math.MaxInt64))
			return Tolerance{}, false
		}
	} else if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!float" {
		f, err := strconv.ParseFloat(r.Value, 64)
		switch {
		case err == nil && f > 0 && f < 1:
			// Most likely a share: 0.007 is 0.7%, not 0.007%.
			p.errorf(sc, n, "tolerance %s is neither a count nor a percent; write a whole count (e.g. 10) or a percent (%s%% for the share %s)", r.Value, strconv.FormatFloat(f*100, 'g', 6, 64), r.Value)
		case err == nil && f >= 1 && f <= 100:
			p.errorf(sc, n, "tolerance %s is neither a count nor a percent; write a whole count (e.g. 10) or a percent (%s%%)", r.Value, r.Value)
		default:
			p.errorf(sc, n, want, describe(n))
		}
		return Tolerance{}, false
	} else if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
		if pct, ok := parsePercent(r.Value); ok {
			return Tolerance{Percent: pct, IsPercent: true}, true
		}
	}
	p.errorf(sc, n, want, describe(n))
	return Tolerance{}, false
}

func (p *parser) rowCount(sc scope, r *Rule, n *yaml.Node) {
	r.RowCount = RowCount{Min: 0, Max: -1}
	if !p.mapping(sc, n, "row_count") {
		return
	}
	var minN, maxN *yaml.Node
	given := false
	for _, kv := range p.pairs(sc, n) {
		switch kv.key.Value {
		case "min", "max":
			given = true
			c, ok := p.integer(sc, kv.val, "row_count "+kv.key.Value)
			if !ok {
				continue
			}
			if c < 0 {
				p.errorf(sc, kv.val, "row_count %s must be 0 or more, got %d", kv.key.Value, c)
				continue
			}
			if kv.key.Value == "min" {
				r.RowCount.Min, minN = c, kv.val
			} else {
				r.RowCount.Max, maxN = c, kv.val
			}
		default:
			p.unknownKey(sc, kv.key, []string{"min", "max"}, "row_count takes min and max")
		}
	}
	switch {
	case !given:
		p.errorf(sc, n, "row_count needs min, max or both, such as {min: 1000}")
	case minN != nil && maxN != nil && r.RowCount.Min > r.RowCount.Max:
		p.errorf(sc, n, "row_count min %d is above its max %d", r.RowCount.Min, r.RowCount.Max)
	}
}

// compilePattern compiles a pattern that must match the whole value.
func compilePattern(s string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(s); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("bad pattern (RE2 syntax): %s: `%s`", se.Code, se.Expr)
		}
		return nil, fmt.Errorf("bad pattern: %v", err)
	}
	// Anchor the parsed pattern, not its text: text such as \Qa.b (quoted
	// to the end) would swallow the anchors.
	re, err := syntax.Parse(s, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("bad pattern: %v", err)
	}
	return regexp.Compile(`^(?:` + re.String() + `)$`)
}

// expr compiles an expression of a rule and reports its error at the
// place in the YAML file where it is, when that can be told.
func (p *parser) expr(sc scope, n *yaml.Node, key, src, event string) {
	_, e := compileExpr(src, event)
	if e == nil {
		return
	}
	r := resolve(n)
	at := *r
	if e.line == 1 && !strings.Contains(src, "\n") {
		// Point at the offending character when the YAML text is the
		// expression as written: plain, or quoted without escapes.
		switch r.Style {
		case 0:
			at.Column += e.column
		case yaml.SingleQuotedStyle:
			if !strings.Contains(src, "'") {
				at.Column += 1 + e.column
			}
		case yaml.DoubleQuotedStyle:
			if !strings.ContainsAny(src, "\"\\") && utf8.ValidString(src) {
				at.Column += 1 + e.column
			}
		}
	}
	p.errorf(sc, &at, "bad %s: %s", key, e.msg)
}
