package avro

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/rules"
)

// converter turns goavro's native values into flat rules.Values. One
// converter belongs to one goroutine: it owns a scratch buffer.
type converter struct {
	scratch []byte
	err     error // set by value for a value it cannot convert
}

// maxDecimalBytes bounds a decimal's unscaled value: 128 bytes hold 308
// digits, float64's range and far more than any decimal type's precision
// (BigQuery's BIGNUMERIC has 77). Its exact text costs time that grows
// faster than its length (2.8 s for a million bytes), so a longer one is
// the record's error, not seconds of work for each of a block's records.
const maxDecimalBytes = 128

// fill writes the values of a decoded nested record to out.
func (c *converter) fill(p *plan, m map[string]any, out []rules.Value) error {
	for i := range p.fields {
		if err := c.field(&p.fields[i], m[p.fields[i].name], out); err != nil {
			return err
		}
	}
	return nil
}

// field writes the values of one decoded field to out.
func (c *converter) field(f *planField, v any, out []rules.Value) error {
	if f.sub != nil {
		if f.union {
			v = unwrap(v)
		}
		if v == nil {
			clear(out[f.first : f.first+f.count])
			return nil
		}
		sm, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("field %q: record decoded as %T", f.name, v)
		}
		return c.fill(f.sub, sm, out)
	}
	if f.unwrap != nil {
		out[f.index] = c.value(f.unwrap, unwrap(v))
	} else {
		out[f.index] = c.value(f.leaf, v)
	}
	if err := c.err; err != nil {
		c.err = nil
		return fmt.Errorf("field %q: %w", f.name, err)
	}
	return nil
}

// unwrap returns the value inside goavro's one-entry union map.
func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

func (c *converter) value(n *node, v any) rules.Value {
	switch x := v.(type) {
	case nil:
		return rules.Null()
	case string:
		return rules.Str(x)
	case int32:
		return rules.Int(int64(x))
	case int64:
		return rules.Int(x)
	case float64:
		return rules.Float(x)
	case float32:
		return rules.Float(widen(x))
	case bool:
		return rules.Bool(x)
	case []byte:
		if n.logical == "decimal" {
			if len(x) > maxDecimalBytes {
				c.err = fmt.Errorf("decimal of %d bytes, more than the %d (308 digits) a decimal may take", len(x), maxDecimalBytes)
				return rules.Null()
			}
			return rules.Decimal(decimal(x, n.scale))
		}
		return rules.Str(string(x))
	case map[string]any:
		if n.typ == tUnion && len(x) == 1 {
			for k, inner := range x {
				return c.value(n.branch(k), inner)
			}
		}
	}
	c.scratch = appendJSON(c.scratch[:0], v)
	return rules.Str(string(c.scratch))
}

// branch returns the union branch goavro names key.
func (n *node) branch(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.branches[i]
		}
	}
	// Not expected; convert by the value's Go type.
	return &node{typ: tString}
}

// decimal returns the value of an Avro decimal: a big-endian two's
// complement unscaled integer, divided by ten to the scale.
func decimal(b []byte, scale int) (f float64, exact string) {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if scale <= 0 || scale > 1000 {
		f, _ := new(big.Float).SetInt(n).Float64()
		return f, n.String()
	}
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	r := new(big.Rat).SetFrac(n, d)
	f, _ = r.Float64()
	exact = r.FloatString(scale)
	if strings.Contains(exact, ".") {
		exact = strings.TrimRight(strings.TrimRight(exact, "0"), ".")
	}
	if exact == "-0" {
		exact = "0"
	}
	return f, exact
}

// appendJSON appends goavro's native value v as JSON text. Map keys are
// sorted so that the text is the same on every run; union values keep
// goavro's {"type": value} form, which is Avro's JSON encoding.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float32:
		return appendJSONFloat(b, float64(x), 32)
	case float64:
		return appendJSONFloat(b, x, 64)
	case string:
		return appendJSONString(b, x)
	case []byte:
		// Avro's JSON encoding of bytes: one code point per byte.
		var s strings.Builder
		for _, c := range x {
			s.WriteRune(rune(c))
		}
		return appendJSONString(b, s.String())
	case time.Time:
		return appendJSONString(b, x.Format(time.RFC3339Nano))
	case time.Duration:
		return strconv.AppendInt(b, x.Milliseconds(), 10)
	case *big.Rat:
		return append(b, x.FloatString(10)...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x[k])
		}
		return append(b, '}')
	}
	return appendJSONString(b, fmt.Sprint(v))
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendJSONString(b, strconv.FormatFloat(f, 'g', -1, bits))
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// widen is the float64 of the shortest decimal that reads back as x, the
// number the writer meant: a float 0.1 is 0.1, not 0.10000000149011612,
// so that max: 0.1 and in: [0.1] hold for it and samples show 0.1.
func widen(x float32) float64 {
	f := float64(x)
	if math.IsInf(f, 0) || f != f {
		return f
	}
	var buf [32]byte
	w, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], f, 'g', -1, 32)), 64)
	if err != nil {
		return f
	}
	return w
}
