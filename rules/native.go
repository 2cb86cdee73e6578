package rules

import (
	"reflect"

	"github.com/expr-lang/expr/ast"
)

// cond is a where: or expr: condition compiled to run on Values directly,
// without the expression VM and its environment map. Only conditions made
// of comparisons of a field with a constant, a boolean field, and !, &&
// and || over them are compiled; eval reports when a value is of a kind
// for which the VM would fail or whose result it does not mirror, and the
// caller then runs the VM, so results and errors are the VM's, but for a
// null boolean field, which kleene reads as unknown.
type cond struct {
	op     condOp
	field  int   // position in program.names of the compared field
	k      Value // the constant
	strict Kind  // KindInt or KindString when the VM compares with OpEqualInt or OpEqualString
	l, r   *cond
}

type condOp uint8

const (
	condEq condOp = iota
	condNe
	condLt
	condLe
	condGt
	condGe
	condTruth // a boolean field alone
	condNot
	condAnd
	condOr
)

// compileNative returns n as a cond over names, or nil when it is not of
// the supported form.
func compileNative(n ast.Node, names []string) *cond {
	switch n := n.(type) {
	case *ast.UnaryNode:
		if n.Operator != "!" && n.Operator != "not" {
			return nil
		}
		x := compileNative(n.Node, names)
		if x == nil {
			return nil
		}
		return &cond{op: condNot, l: x}
	case *ast.IdentifierNode:
		i := nameIndex(names, n.Value)
		if i < 0 {
			return nil
		}
		return &cond{op: condTruth, field: i}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			l, r := compileNative(n.Left, names), compileNative(n.Right, names)
			if l == nil || r == nil {
				return nil
			}
			op := condAnd
			if n.Operator == "||" || n.Operator == "or" {
				op = condOr
			}
			return &cond{op: op, l: l, r: r}
		}
		var op condOp
		switch n.Operator {
		case "==":
			op = condEq
		case "!=":
			op = condNe
		case "<":
			op = condLt
		case "<=":
			op = condLe
		case ">":
			op = condGt
		case ">=":
			op = condGe
		default:
			return nil
		}
		id, ok := n.Left.(*ast.IdentifierNode)
		k, isConst := constValue(n.Right)
		if !ok || !isConst {
			// constant op field: the same test with the sides swapped.
			id, ok = n.Right.(*ast.IdentifierNode)
			k, isConst = constValue(n.Left)
			if !ok || !isConst {
				return nil
			}
			switch op {
			case condLt:
				op = condGt
			case condLe:
				op = condGe
			case condGt:
				op = condLt
			case condGe:
				op = condLe
			}
		}
		i := nameIndex(names, id.Value)
		if i < 0 {
			return nil
		}
		c := &cond{op: op, field: i, k: k}
		if op == condEq || op == condNe {
			// As the expr compiler chooses its equality op.
			l, r := kindOf(n.Left.Type()), kindOf(n.Right.Type())
			if l == r && simpleType(n.Left) && simpleType(n.Right) {
				switch l {
				case reflect.Int:
					c.strict = KindInt
				case reflect.String:
					c.strict = KindString
				}
			}
			if c.strict == KindInt && k.Kind != KindInt || c.strict == KindString && k.Kind != KindString {
				return nil
			}
		}
		return c
	}
	return nil
}

func kindOf(t reflect.Type) reflect.Kind {
	if t == nil {
		return reflect.Invalid
	}
	return t.Kind()
}

func simpleType(n ast.Node) bool {
	t := n.Type()
	return t != nil && t.PkgPath() == ""
}

func nameIndex(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// constValue returns the value of a constant node of a kind the VM's
// environment can hold.
func constValue(n ast.Node) (Value, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return Int(int64(n.Value)), true
	case *ast.FloatNode:
		return Float(n.Value), true
	case *ast.StringNode:
		return Str(n.Value), true
	case *ast.BoolNode:
		return Bool(n.Value), true
	case *ast.NilNode:
		return Null(), true
	case *ast.ConstantNode:
		switch x := n.Value.(type) {
		case int:
			return Int(int64(x)), true
		case float64:
			return Float(x), true
		case string:
			return Str(x), true
		case bool:
			return Bool(x), true
		case nil:
			return Null(), true
		}
	}
	return Value{}, false
}

// eval evaluates c over args, the values of program.names. ok is false
// when the VM must decide. Every leaf is evaluated, so that the result
// does not depend on whether the VM short-circuits.
func (c *cond) eval(idx []int, vals []Value) (res, ok bool) {
	switch c.op {
	case condAnd, condOr:
		l, okl := c.l.eval(idx, vals)
		r, okr := c.r.eval(idx, vals)
		if !okl || !okr {
			return false, false
		}
		if c.op == condAnd {
			return l && r, true
		}
		return l || r, true
	case condNot:
		x, ok := c.l.eval(idx, vals)
		return !x, ok
	case condTruth:
		v := &vals[idx[c.field]]
		return v.Int != 0, v.Kind == KindBool
	case condEq, condNe:
		eq, ok := c.equal(&vals[idx[c.field]])
		return eq != (c.op == condNe), ok
	}
	return c.order(&vals[idx[c.field]])
}

// kleene is eval with a boolean field that is null read as unknown, as
// SQL's three-valued logic reads it: false && unknown is false, true ||
// unknown is true, and otherwise an unknown is the result. null is then
// the position in names of the null field, else -1. ok is false when a
// leaf other than a null boolean needs the VM.
func (c *cond) kleene(idx []int, vals []Value) (res bool, null int, ok bool) {
	switch c.op {
	case condTruth:
		switch v := &vals[idx[c.field]]; v.Kind {
		case KindBool:
			return v.Int != 0, -1, true
		case KindNull:
			return false, c.field, true
		}
		return false, -1, false
	case condNot:
		x, n, ok := c.l.kleene(idx, vals)
		return !x, n, ok
	case condAnd, condOr:
		l, ln, okl := c.l.kleene(idx, vals)
		r, rn, okr := c.r.kleene(idx, vals)
		if !okl || !okr {
			return false, -1, false
		}
		decides := c.op == condOr // the value of one side that settles the result
		switch {
		case ln < 0 && l == decides, rn < 0 && r == decides:
			return decides, -1, true
		case ln >= 0:
			return false, ln, true
		case rn >= 0:
			return false, rn, true
		}
		if c.op == condAnd {
			return l && r, -1, true
		}
		return l || r, -1, true
	}
	res, ok = c.eval(idx, vals)
	return res, -1, ok
}

// equal mirrors the VM's OpEqualInt and OpEqualString, which fail on
// other kinds, and runtime.Equal.
func (c *cond) equal(v *Value) (eq, ok bool) {
	k := &c.k
	switch c.strict {
	case KindInt:
		return v.Int == k.Int, v.Kind == KindInt
	case KindString:
		return v.Str == k.Str, v.Kind == KindString
	}
	switch v.Kind {
	case KindInt:
		switch k.Kind {
		case KindInt:
			return v.Int == k.Int, true
		case KindFloat:
			return float64(v.Int) == k.Float, true
		}
	case KindFloat:
		switch k.Kind {
		case KindInt:
			return v.Float == float64(k.Int), true
		case KindFloat:
			return v.Float == k.Float, true
		}
	case KindString:
		if k.Kind == KindString {
			return v.Str == k.Str, true
		}
	case KindBool:
		if k.Kind == KindBool {
			return (v.Int != 0) == (k.Int != 0), true
		}
	case KindNull:
		return k.Kind == KindNull, true
	default:
		return false, false
	}
	// Different kinds, neither of them null: never equal.
	return false, true
}

// order mirrors runtime.Less and its kin, which fail on kinds other than
// numbers and strings.
func (c *cond) order(v *Value) (res, ok bool) {
	k := &c.k
	var cmp int
	switch {
	case v.Kind == KindInt && k.Kind == KindInt:
		cmp = compare(v.Int, k.Int)
	case v.Kind == KindString && k.Kind == KindString:
		cmp = compare(v.Str, k.Str)
	case (v.Kind == KindInt || v.Kind == KindFloat) && (k.Kind == KindInt || k.Kind == KindFloat):
		a, _ := v.Number()
		b, _ := k.Number()
		// Comparisons with NaN are false, whatever the operator.
		switch c.op {
		case condLt:
			return a < b, true
		case condLe:
			return a <= b, true
		case condGt:
			return a > b, true
		default:
			return a >= b, true
		}
	default:
		return false, false
	}
	switch c.op {
	case condLt:
		return cmp < 0, true
	case condLe:
		return cmp <= 0, true
	case condGt:
		return cmp > 0, true
	}
	return cmp >= 0, true
}

func compare[T int64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
