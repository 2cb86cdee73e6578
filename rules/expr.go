package rules

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// program is a compiled where: or expr: expression.
type program struct {
	src  string
	prog *vm.Program
	// names are the event fields the expression reads, sorted. A rule
	// applies only to events whose shape has all of them.
	names []string
	// lists are the fields it uses as a list or map: len(f), f[i], x in
	// f, f == [...]. Avro arrays and maps reach rules as their JSON text,
	// on which these work on the characters, not the items.
	lists []string
	// native is the expression compiled to run without the VM, or nil.
	native *cond
	// For a built-in event type: the kinds the expression was compiled
	// for, and loose, the same expression compiled without them, for
	// events whose writer gave a field another type (an int retyped to
	// double), which the typed program cannot take.
	kinds map[string]Kind
	loose *program
}

// forShape returns the program to run on events of shape s: p, or its
// loose twin when s types a field p reads otherwise than p was compiled
// for, or lets a field that is not boolean be null: the typed program
// compares ints and strings with ops that fail on a null, where the loose
// one finds null == 200 false, as on any other event type. (Null
// booleans are read as unknown by the evaluator, whichever program runs.)
func (p *program) forShape(s *Shape) *program {
	if p == nil || p.loose == nil {
		return p
	}
	for _, name := range p.names {
		want, ok := p.kinds[name]
		i := s.Index(name)
		if !ok || i < 0 {
			continue
		}
		if f := s.Fields()[i]; f.Kind != want || f.Nullable && f.Kind != KindBool {
			return p.loose
		}
	}
	return p
}

// exprError is a compile error with its place in the expression.
type exprError struct {
	msg    string
	line   int // 1-based line in the expression; 0 when unknown
	column int // 0-based rune column in that line
}

// compileExpr compiles src as a boolean expression over the fields of
// event. For a built-in event type the fields are typed, so that
// `status == "200"` on an int field fails here rather than on every event.
func compileExpr(src, event string) (*program, *exprError) {
	if strings.TrimSpace(src) == "" {
		return nil, &exprError{msg: "the expression is empty"}
	}
	fields, typed := BuiltinFields(event)
	p, e := compileWith(src, fields, typed)
	if e != nil || !typed {
		return p, e
	}
	p.kinds = make(map[string]Kind, len(fields))
	for _, f := range fields {
		p.kinds[f.Name] = f.Kind
	}
	if loose, e := compileWith(src, nil, false); e == nil && slices.Equal(loose.names, p.names) {
		p.loose = loose
	}
	return p, nil
}

// compileWith compiles src against the typed fields, or, when typed is
// false, against fields known only from the data, as for "*" and extra
// event types.
func compileWith(src string, fields []Field, typed bool) (*program, *exprError) {
	// now() would make the same data give other counts on another run.
	opts := []expr.Option{expr.AsBool(), expr.Patch(dottedNames{}), expr.DisableBuiltin("now")}
	if typed {
		env := make(map[string]any, len(fields))
		for _, f := range fields {
			env[f.Name] = zeroOf(f.Kind)
		}
		opts = append(opts, expr.Env(env))
	} else {
		opts = append(opts, expr.Env(map[string]any{}), expr.AllowUndefinedVariables())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			msg := fe.Message
			if name, ok := strings.CutPrefix(msg, "unknown name "); ok && typed {
				msg += didYouMean(name, fieldNames(fields))
			}
			msg += sqlHint(msg, src, fe.From)
			return nil, &exprError{msg: msg, line: fe.Line, column: fe.Column}
		}
		msg := err.Error()
		if strings.HasPrefix(msg, "expected bool") {
			msg = "the expression must be true or false: " + msg
		}
		return nil, &exprError{msg: msg}
	}
	w := &nameWalker{src: src, declared: map[string]bool{}, used: map[string]bool{}, lists: map[string]bool{}}
	root := prog.Node()
	ast.Walk(&root, w)
	if w.err != nil {
		return nil, w.err
	}
	names := make([]string, 0, len(w.used))
	for n := range w.used {
		if !w.declared[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var lists []string
	for n := range w.lists {
		if !w.declared[n] {
			lists = append(lists, n)
		}
	}
	sort.Strings(lists)
	return &program{src: src, prog: prog, names: names, lists: lists, native: compileNative(prog.Node(), names)}, nil
}

// sqlHint says what to write instead of SQL's words and operators, which
// rule authors reach for: msg is the compile error and from the rune
// offset in src where it was found.
func sqlHint(msg, src string, from int) string {
	prev, next := "", ""
	if r := []rune(src); from >= 0 && from < len(r) {
		if from > 0 {
			prev = string(r[from-1])
		}
		if from+1 < len(r) {
			next = string(r[from+1])
		}
	}
	switch {
	case msg == "unknown name null" || msg == "unknown name NULL":
		return "; write nil for null"
	case msg == `unexpected token Operator("=")` && next == ">":
		return "; write >= for at least"
	case msg == `unexpected token Operator("=")`:
		return "; compare with == (and a regular expression with matches)"
	case msg == `unexpected token Operator(">")` && prev == "<":
		return "; write != for not equal"
	case msg == `unexpected token Identifier("AND")`, msg == `unexpected token Identifier("OR")`:
		return "; write and, or, not (or &&, ||, !) in lower case"
	case msg == `unexpected token Identifier("LIKE")`:
		return "; use startsWith, endsWith, contains or matches"
	case msg == `unexpected token Operator(",")` && strings.Contains(src, "in ("):
		return "; a list is written in brackets: in [200, 204]"
	}
	return ""
}

func zeroOf(k Kind) any {
	switch k {
	case KindBool:
		return false
	case KindInt:
		return 0
	case KindFloat:
		return 0.0
	case KindString:
		return ""
	}
	return nil
}

func fieldNames(fields []Field) []string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f.Name
	}
	return s
}

// dottedNames rewrites a.b.c into one identifier "a.b.c": event values
// are scalars, so member access can only mean a field of a nested Avro
// record, which shapes name with dots.
type dottedNames struct{}

func (dottedNames) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || m.Optional || m.Method {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || strings.HasPrefix(id.Value, "$") {
		return
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		return
	}
	ast.Patch(node, &ast.IdentifierNode{Value: id.Value + "." + prop.Value})
}

// nameWalker collects the fields an expression reads and refuses what
// cannot work on events.
type nameWalker struct {
	src      string
	declared map[string]bool // let variables
	used     map[string]bool
	lists    map[string]bool // see program.lists
	err      *exprError
}

// listBuiltins are the builtins whose first argument is a list or map.
var listBuiltins = map[string]bool{
	"len": true, "all": true, "none": true, "any": true, "one": true, "filter": true, "map": true,
	"count": true, "sum": true, "find": true, "findIndex": true, "findLast": true, "findLastIndex": true,
	"groupBy": true, "sortBy": true, "reduce": true, "first": true, "last": true, "take": true,
	"keys": true, "values": true, "flatten": true, "uniq": true, "sort": true, "mean": true, "median": true,
}

// list notes n as used as a list or map, if it is a field.
func (w *nameWalker) list(n ast.Node) {
	if id, ok := n.(*ast.IdentifierNode); ok {
		w.lists[id.Value] = true
	}
}

func (w *nameWalker) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if strings.HasPrefix(n.Value, "$") {
			w.fail(n, "$env is not available; name the fields directly")
			return
		}
		w.used[n.Value] = true
	case *ast.VariableDeclaratorNode:
		w.declared[n.Name] = true
	case *ast.BuiltinNode:
		if listBuiltins[n.Name] && len(n.Arguments) > 0 {
			w.list(n.Arguments[0])
		}
	case *ast.MemberNode:
		w.list(n.Node)
	case *ast.SliceNode:
		w.list(n.Node)
	case *ast.BinaryNode:
		switch n.Operator {
		case "in", "not in":
			w.list(n.Right)
		case "==", "!=":
			if isCollection(n.Left) {
				w.list(n.Right)
			}
			if isCollection(n.Right) {
				w.list(n.Left)
			}
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			w.fail(n, fmt.Sprintf("unknown function %s", id.Value))
		}
	}
}

func isCollection(n ast.Node) bool {
	switch n.(type) {
	case *ast.ArrayNode, *ast.MapNode:
		return true
	}
	return false
}

func (w *nameWalker) fail(n ast.Node, msg string) {
	if w.err != nil {
		return
	}
	// Locations count runes from the start of the expression.
	e := &exprError{msg: msg, line: 1}
	from := n.Location().From
	for i, r := range []rune(w.src) {
		if i == from {
			break
		}
		e.column++
		if r == '\n' {
			e.line++
			e.column = 0
		}
	}
	w.err = e
}

// errorText returns a run-time error of an expression in one line.
func errorText(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}
