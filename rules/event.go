package rules

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// Kind is the type of a Value. The zero Kind is KindNull.
type Kind uint8

// The kinds of values an event field can hold.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
)

// String returns the kind's name as used in messages and reports.
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "boolean"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindString:
		return "string"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one field value of an event. It is a small tagged union so that
// sources can fill events without allocating. The zero Value is null.
type Value struct {
	Kind  Kind
	Int   int64   // KindInt; KindBool as 0 or 1
	Float float64 // KindFloat
	// KindString; for a KindFloat read from a decimal (see Decimal), the
	// decimal's exact text
	Str string
}

// Null is the null value.
func Null() Value { return Value{} }

// Int returns an int value.
func Int(i int64) Value { return Value{Kind: KindInt, Int: i} }

// Float returns a float value.
func Float(f float64) Value { return Value{Kind: KindFloat, Float: f} }

// Decimal returns a float value read from a decimal number: f is the
// nearest float64, which comparisons, sums and expressions use, and exact
// the decimal in full, without exponent or trailing zeros after the point
// ("-12.5", "12345678901234567890"), which checks of identity (unique,
// in and not_in on whole numbers, in_reference), patterns and samples
// use, so that decimals beyond float64's 15-17 digits stay apart.
func Decimal(f float64, exact string) Value { return Value{Kind: KindFloat, Float: f, Str: exact} }

// wholeInt returns the int a KindFloat value stands for, when it is a
// whole number int64 holds: its exact decimal when it has one.
func (v *Value) wholeInt() (int64, bool) {
	if v.Str != "" {
		if strings.IndexByte(v.Str, '.') >= 0 || v.Float >= 0x1p63 || v.Float < -0x1p63 {
			// Not whole, or beyond int64: said without an error, which
			// would allocate on the hot path.
			return 0, false
		}
		i, err := strconv.ParseInt(v.Str, 10, 64)
		return i, err == nil
	}
	return wholeNumber(v.Float)
}

// Str returns a string value.
func Str(s string) Value { return Value{Kind: KindString, Str: s} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{Kind: KindBool, Int: 1}
	}
	return Value{Kind: KindBool}
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Number returns v as a float64 when it is an int or a float.
func (v Value) Number() (float64, bool) {
	switch v.Kind {
	case KindInt:
		return float64(v.Int), true
	case KindFloat:
		return v.Float, true
	}
	return 0, false
}

// AppendText appends v's text form to b without allocating for numbers.
func (v Value) AppendText(b []byte) []byte {
	switch v.Kind {
	case KindNull:
		return append(b, "null"...)
	case KindBool:
		return strconv.AppendBool(b, v.Int != 0)
	case KindInt:
		return strconv.AppendInt(b, v.Int, 10)
	case KindFloat:
		if v.Str != "" {
			return append(b, v.Str...) // a decimal, exactly
		}
		return strconv.AppendFloat(b, v.Float, 'g', -1, 64)
	case KindString:
		return append(b, v.Str...)
	}
	return b
}

// String returns v's text form: the string itself, a number in Go's
// shortest form, true/false, or "null".
func (v Value) String() string {
	if v.Kind == KindString {
		return v.Str
	}
	return string(v.AppendText(nil))
}

// Any returns v as a Go value for expression evaluation: nil, bool, int,
// float64 or string.
func (v Value) Any() any {
	switch v.Kind {
	case KindBool:
		return v.Int != 0
	case KindInt:
		return int(v.Int)
	case KindFloat:
		return v.Float
	case KindString:
		return v.Str
	}
	return nil
}

// Field is a named, typed field of a Shape.
type Field struct {
	Name     string // dotted for fields of nested records: "a.b"
	Kind     Kind   // the declared kind; KindNull when it varies or is unknown
	Nullable bool   // the field may hold null (an Avro union with "null")
	Type     string // the declared type as the writer wrote it, for reports
}

// Shape describes the fields of the events of one event type as one writer
// produced them. Events of the same shape share one *Shape, so checks
// resolve field names to positions once per shape, not once per event.
// A Shape is immutable once made.
type Shape struct {
	event  string
	fields []Field
	index  map[string]int
	// slot is where an Evaluator looks first for its plan of the shape
	// (see Evaluator.last): a hash of the event type and the field
	// names, so that the few shapes of a scan likely have a slot each.
	slot uint8
}

// NewShape returns the shape of events of type event with the given fields.
func NewShape(event string, fields []Field) *Shape {
	s := &Shape{event: event, fields: append([]Field(nil), fields...), index: make(map[string]int, len(fields))}
	h := fnv.New32a()
	h.Write([]byte(event))
	for i, f := range s.fields {
		s.index[f.Name] = i
		h.Write([]byte{0})
		h.Write([]byte(f.Name))
	}
	x := h.Sum32()
	s.slot = uint8((x ^ x>>8 ^ x>>16 ^ x>>24) % lastPlans)
	return s
}

// Event returns the event type, such as "MovieWatchEvent".
func (s *Shape) Event() string { return s.event }

// Fields returns the shape's fields in order. The caller must not modify it.
func (s *Shape) Fields() []Field { return s.fields }

// Index returns the position of the named field, or -1.
func (s *Shape) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// Event is one record as checks see it. audit.Event satisfies it.
type Event interface {
	Shape() *Shape
	// Value returns the value of the field at position i of Shape().Fields().
	Value(i int) Value
}
