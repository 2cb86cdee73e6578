package avro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dqaudit/dqaudit/rules"
)

// typ is an Avro schema type.
type typ uint8

const (
	tNull typ = iota
	tBoolean
	tInt
	tLong
	tFloat
	tDouble
	tBytes
	tString
	tFixed
	tEnum
	tArray
	tMap
	tRecord
	tUnion
)

// primitive returns the primitive type named s.
func primitive(s string) (typ, bool) {
	for t := tNull; t <= tString; t++ {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}

// node is one type of a parsed writer schema. goavro parses the schema
// too, but does not expose its tree, which flattening needs.
type node struct {
	typ        typ
	name       string   // full name of a named type
	aliases    []string // full names of a named type's aliases
	badAliases bool     // its aliases are not a list of strings
	logical    string   // logicalType, if any
	scale      int      // decimal
	precision  int      // decimal, for reports: a change of it is a retype
	size       int      // fixed
	symbols    []string
	fields     []recField
	items      *node    // array items, map values
	branches   []*node  // union
	keys       []string // union: goavro's name for each branch

	minSize int  // fewest bytes one value encodes to
	sizing  bool // minSize is being computed (recursion guard)
	sized   bool
}

type recField struct {
	name string
	typ  *node
}

// unionKey returns the key goavro uses when it wraps a value of this
// union branch in a map. goavro is given the canonical form, which has no
// logical types, so only named types have keys of their own.
func (n *node) unionKey() string {
	switch n.typ {
	case tRecord, tEnum, tFixed:
		return n.name
	}
	return n.typ.String()
}

func (t typ) String() string {
	return [...]string{"null", "boolean", "int", "long", "float", "double", "bytes",
		"string", "fixed", "enum", "array", "map", "record", "union"}[t]
}

// schemaParser resolves the named types of one schema.
type schemaParser struct {
	named map[string]*node
	depth int
}

const maxSchemaDepth = 200

// parseSchema parses a writer schema that goavro has already accepted.
func parseSchema(schema string) (*node, error) {
	p := &schemaParser{named: map[string]*node{}}
	return p.parse(json.RawMessage(schema), "")
}

func (p *schemaParser) parse(raw json.RawMessage, ns string) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxSchemaDepth {
		return nil, errors.New("schema nested too deeply")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty type")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return p.ref(s, ns)
	case '[':
		var members []json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, err
		}
		u := &node{typ: tUnion}
		for _, m := range members {
			b, err := p.parse(m, ns)
			if err != nil {
				return nil, err
			}
			u.branches = append(u.branches, b)
			u.keys = append(u.keys, b.unionKey())
		}
		return u, nil
	case '{':
		return p.object(raw, ns)
	}
	return nil, fmt.Errorf("bad type %.40s", raw)
}

func (p *schemaParser) ref(s, ns string) (*node, error) {
	if t, ok := primitive(s); ok {
		return &node{typ: t}, nil
	}
	if n, ok := p.named[s]; ok {
		return n, nil
	}
	if ns != "" && !strings.Contains(s, ".") {
		if n, ok := p.named[ns+"."+s]; ok {
			return n, nil
		}
	}
	return nil, fmt.Errorf("unknown type %q", s)
}

func (p *schemaParser) object(raw json.RawMessage, ns string) (*node, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	str := func(key string) string {
		var s string
		if v, ok := obj[key]; ok {
			_ = json.Unmarshal(v, &s)
		}
		return s
	}
	typeRaw, ok := obj["type"]
	if !ok {
		return nil, errors.New("type object without type")
	}
	var t string
	if err := json.Unmarshal(typeRaw, &t); err != nil {
		// {"type": {...}} or {"type": [...]}: a wrapped type.
		return p.parse(typeRaw, ns)
	}
	logical := str("logicalType")
	switch t {
	case "record", "error", "enum", "fixed":
		n := &node{name: fullName(str("name"), str("namespace"), ns), logical: logical}
		p.named[n.name] = n
		if v, ok := obj["aliases"]; ok {
			// The canonical form drops aliases, so goavro never checks
			// them; eventType checks those it uses.
			var aliases []string
			n.badAliases = json.Unmarshal(v, &aliases) != nil
			for _, a := range aliases {
				// An alias without a namespace is relative to the
				// namespace of the name it aliases (Avro specification).
				n.aliases = append(n.aliases, fullName(a, "", namespaceOf(n.name)))
			}
		}
		switch t {
		case "enum":
			n.typ = tEnum
			_ = json.Unmarshal(obj["symbols"], &n.symbols)
			return n, nil
		case "fixed":
			n.typ = tFixed
			_ = json.Unmarshal(obj["size"], &n.size)
			if n.size < 0 {
				return nil, fmt.Errorf("fixed %q: negative size", n.name)
			}
			_ = json.Unmarshal(obj["scale"], &n.scale)
			_ = json.Unmarshal(obj["precision"], &n.precision)
			ignoreBadDecimal(n)
			return n, nil
		}
		n.typ = tRecord
		var fields []struct {
			Name string          `json:"name"`
			Type json.RawMessage `json:"type"`
		}
		if err := json.Unmarshal(obj["fields"], &fields); err != nil {
			return nil, fmt.Errorf("record %q fields: %w", n.name, err)
		}
		inner := namespaceOf(n.name)
		for _, f := range fields {
			ft, err := p.parse(f.Type, inner)
			if err != nil {
				return nil, fmt.Errorf("record %q field %q: %w", n.name, f.Name, err)
			}
			n.fields = append(n.fields, recField{name: f.Name, typ: ft})
		}
		return n, nil
	case "array", "map":
		key := "items"
		n := &node{typ: tArray, logical: logical}
		if t == "map" {
			key, n.typ = "values", tMap
		}
		v, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("%s without %s", t, key)
		}
		items, err := p.parse(v, ns)
		if err != nil {
			return nil, err
		}
		n.items = items
		return n, nil
	}
	n, err := p.ref(t, ns)
	if err != nil {
		return nil, err
	}
	if logical != "" && n.name == "" {
		c := *n
		c.logical = logical
		_ = json.Unmarshal(obj["scale"], &c.scale)
		_ = json.Unmarshal(obj["precision"], &c.precision)
		ignoreBadDecimal(&c)
		return &c, nil
	}
	return n, nil
}

// ignoreBadDecimal drops the decimal logical type of n when its precision
// and scale are not valid (a precision of at least 1, a scale from 0 to
// the precision): the Avro specification has readers ignore an invalid
// logical type and read the underlying bytes or fixed, rather than scale
// every value by a number the writer did not mean.
func ignoreBadDecimal(n *node) {
	if n.logical == "decimal" && (n.precision < 1 || n.scale < 0 || n.scale > n.precision) {
		n.logical, n.precision, n.scale = "", 0, 0
	}
}

func fullName(name, namespace, enclosing string) string {
	if strings.Contains(name, ".") {
		return name
	}
	if namespace == "" {
		namespace = enclosing
	}
	if namespace == "" {
		return name
	}
	return namespace + "." + name
}

// validFullName reports whether s is a valid Avro full name: dotted
// parts of letters, digits and _, none starting with a digit.
func validFullName(s string) bool {
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			switch {
			case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			case '0' <= c && c <= '9' && i > 0:
			default:
				return false
			}
		}
	}
	return true
}

func namespaceOf(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i]
	}
	return ""
}

func shortName(full string) string {
	return full[strings.LastIndexByte(full, '.')+1:]
}

// maxMinBytes caps minBytes far above any block size, so that sums of
// absurd fixed sizes cannot overflow.
const maxMinBytes = 1 << 30

// minBytes returns the fewest bytes a value of n encodes to, so that a block's
// record count can be checked against its size before decoding.
func (n *node) minBytes() int {
	if n.sized {
		return n.minSize
	}
	if n.sizing {
		return 0
	}
	n.sizing = true
	s := 0
	switch n.typ {
	case tNull:
	case tFloat:
		s = 4
	case tDouble:
		s = 8
	case tFixed:
		s = min(n.size, maxMinBytes)
	case tRecord:
		for _, f := range n.fields {
			s = min(s+f.typ.minBytes(), maxMinBytes)
		}
	case tUnion:
		least := -1
		for _, b := range n.branches {
			if bs := b.minBytes(); least < 0 || bs < least {
				least = bs
			}
		}
		s = 1 + max(least, 0)
	default: // boolean, int, long, string, bytes, enum, array, map
		s = 1
	}
	n.sizing, n.sized, n.minSize = false, true, s
	return s
}

// needsWalk reports whether values of n can make goavro allocate or recurse
// beyond what their encoded size bounds: arrays and maps (goavro sizes them
// by their item counts) and recursive types. state memoizes it per node,
// since named types can be used many times.
func needsWalk(n *node, state map[*node]uint8) bool {
	const open, clean = 1, 2
	switch state[n] {
	case open:
		return true // recursion
	case clean:
		return false
	}
	state[n] = open
	switch n.typ {
	case tArray, tMap:
		return true
	case tRecord:
		for _, f := range n.fields {
			if needsWalk(f.typ, state) {
				return true
			}
		}
	case tUnion:
		for _, b := range n.branches {
			if needsWalk(b, state) {
				return true
			}
		}
	}
	state[n] = clean
	return false
}

// leafKind is the kind of values of a type that is not flattened.
func leafKind(n *node) rules.Kind {
	switch n.typ {
	case tBoolean:
		return rules.KindBool
	case tInt, tLong:
		return rules.KindInt
	case tFloat, tDouble:
		return rules.KindFloat
	case tBytes, tFixed:
		if n.logical == "decimal" {
			return rules.KindFloat
		}
		return rules.KindString
	case tString, tEnum, tArray, tMap, tRecord:
		return rules.KindString
	case tUnion:
		k, first := rules.KindNull, true
		for _, b := range n.branches {
			if b.typ == tNull {
				continue
			}
			bk := leafKind(b)
			if first {
				k, first = bk, false
			} else if bk != k {
				return rules.KindNull
			}
		}
		return k
	}
	return rules.KindNull
}

func hasNull(n *node) bool {
	if n.typ == tNull {
		return true
	}
	if n.typ == tUnion {
		for _, b := range n.branches {
			if b.typ == tNull {
				return true
			}
		}
	}
	return false
}

// soleRecord returns the only non-null branch of a union when it is a
// record: such a field is flattened like a record field.
func soleRecord(n *node) *node {
	if n.typ != tUnion {
		return nil
	}
	var rec *node
	for _, b := range n.branches {
		switch {
		case b.typ == tNull:
		case b.typ == tRecord && rec == nil:
			rec = b
		default:
			return nil
		}
	}
	return rec
}

// plan maps goavro's native record maps to flat values.
type plan struct {
	fields []planField
}

type planField struct {
	name   string // key in goavro's record map
	leaf   *node  // non-nil for a leaf field
	index  int    // position of a leaf in the flat values
	sub    *plan  // a flattened nested record
	union  bool   // sub is wrapped in a union by goavro
	first  int    // sub's leaves are values[first:first+count]
	count  int
	unwrap *node // leaf is a union with one non-null branch
}

// maxFields bounds the fields a schema flattens to: a named record used
// in two fields of another, itself used twice, and so on, flattens to
// exponentially many.
const maxFields = 10000

// flatten builds the fields and plan of a top-level record.
func flatten(root *node) ([]rules.Field, *plan, error) {
	var fields []rules.Field
	var walk func(rec *node, prefix string, nullable bool, open map[*node]bool) *plan
	walk = func(rec *node, prefix string, nullable bool, open map[*node]bool) *plan {
		open[rec] = true
		defer delete(open, rec)
		p := &plan{}
		for _, f := range rec.fields {
			if len(fields) > maxFields {
				break
			}
			name := prefix + f.name
			pf := planField{name: f.name}
			sub := f.typ
			union := false
			if r := soleRecord(f.typ); r != nil {
				sub, union = r, true
			}
			if sub.typ == tRecord && !open[sub] {
				pf.first = len(fields)
				pf.sub = walk(sub, name+".", nullable || hasNull(f.typ), open)
				pf.union = union
				pf.count = len(fields) - pf.first
				p.fields = append(p.fields, pf)
				continue
			}
			pf.leaf = f.typ
			pf.index = len(fields)
			if f.typ.typ == tUnion {
				var only *node
				n := 0
				for _, b := range f.typ.branches {
					if b.typ != tNull {
						only = b
						n++
					}
				}
				if n == 1 {
					pf.unwrap = only
				}
			}
			fields = append(fields, rules.Field{
				Name:     name,
				Kind:     leafKind(f.typ),
				Nullable: nullable || hasNull(f.typ),
				Type:     typeText(f.typ),
			})
			p.fields = append(p.fields, pf)
		}
		return p
	}
	p := walk(root, "", false, map[*node]bool{})
	if len(fields) > maxFields {
		return nil, nil, fmt.Errorf("schema flattens to more than %d fields", maxFields)
	}
	return fields, p, nil
}

// canonical returns the schema's Parsing Canonical Form (Avro
// specification): full names, no attributes but type, name, fields,
// symbols, items, values and size, each named type defined once. goavro
// computes one too, but its own misreads nested records that repeat their
// namespace (Python writes them so), so the reader builds the form itself,
// fingerprints it, and hands it to goavro to decode with.
func canonical(root *node) string {
	return string(appendCanonical(nil, root, map[*node]bool{}))
}

func appendCanonical(b []byte, n *node, defined map[*node]bool) []byte {
	switch n.typ {
	case tRecord, tEnum, tFixed:
		if defined[n] {
			return appendJSONString(b, n.name)
		}
		defined[n] = true
		b = append(b, `{"name":`...)
		b = appendJSONString(b, n.name)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, n.typ.String())
		switch n.typ {
		case tRecord:
			b = append(b, `,"fields":[`...)
			for i, f := range n.fields {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"name":`...)
				b = appendJSONString(b, f.name)
				b = append(b, `,"type":`...)
				b = appendCanonical(b, f.typ, defined)
				b = append(b, '}')
			}
			b = append(b, ']')
		case tEnum:
			b = append(b, `,"symbols":[`...)
			for i, s := range n.symbols {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, s)
			}
			b = append(b, ']')
		case tFixed:
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, int64(n.size), 10)
		}
		return append(b, '}')
	case tArray:
		b = append(b, `{"type":"array","items":`...)
		return append(appendCanonical(b, n.items, defined), '}')
	case tMap:
		b = append(b, `{"type":"map","values":`...)
		return append(appendCanonical(b, n.items, defined), '}')
	case tUnion:
		b = append(b, '[')
		for i, br := range n.branches {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, br, defined)
		}
		return append(b, ']')
	}
	return appendJSONString(b, n.typ.String())
}

// fieldSchema returns the schema goavro decodes a top-level field with:
// its canonical form, standalone, with "string" read as "bytes".
func fieldSchema(n *node) string {
	str := func(n *node) bool { return n.typ == tString && n.logical == "" }
	switch {
	case str(n):
		return `"bytes"`
	case n.typ == tUnion && !slices.ContainsFunc(n.branches, func(b *node) bool { return b.typ == tBytes }):
		u := *n
		u.branches = slices.Clone(n.branches)
		for i, b := range u.branches {
			if str(b) {
				u.branches[i] = &node{typ: tBytes}
			}
		}
		n = &u
	}
	return string(appendCanonical(nil, n, map[*node]bool{}))
}

// typeText returns a field's declared type as reports show it: like the
// canonical form, but named types by name only and logical types kept, so
// that the same schema reads the same whichever library wrote it.
func typeText(n *node) string {
	return string(appendTypeText(nil, n))
}

func appendTypeText(b []byte, n *node) []byte {
	switch n.typ {
	case tFixed:
		if n.logical != "" {
			return appendTypeJSON(b, n)
		}
		return append(b, n.name...)
	case tRecord, tEnum:
		return append(b, n.name...)
	case tArray, tMap, tUnion:
		return appendTypeJSON(b, n)
	}
	if n.logical != "" {
		return appendTypeJSON(b, n)
	}
	return append(b, n.typ.String()...)
}

func appendTypeJSON(b []byte, n *node) []byte {
	switch n.typ {
	case tFixed:
		if n.logical == "" {
			return appendJSONString(b, n.name)
		}
		// A fixed's logical type, a decimal's precision and scale, as
		// for bytes below, with the fixed's name as its type.
		b = append(b, `{"type":`...)
		b = appendJSONString(b, n.name)
		return appendLogical(b, n)
	case tRecord, tEnum:
		return appendJSONString(b, n.name)
	case tArray, tMap:
		key := `,"items":`
		if n.typ == tMap {
			key = `,"values":`
		}
		b = append(b, `{"type":`...)
		b = appendJSONString(b, n.typ.String())
		b = append(b, key...)
		return append(appendTypeJSON(b, n.items), '}')
	case tUnion:
		b = append(b, '[')
		for i, br := range n.branches {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTypeJSON(b, br)
		}
		return append(b, ']')
	}
	if n.logical != "" {
		b = append(b, `{"type":`...)
		b = appendJSONString(b, n.typ.String())
		return appendLogical(b, n)
	}
	return appendJSONString(b, n.typ.String())
}

// appendLogical appends the logicalType of n, and a decimal's precision
// and scale, then closes the type object.
func appendLogical(b []byte, n *node) []byte {
	b = append(b, `,"logicalType":`...)
	b = appendJSONString(b, n.logical)
	if n.logical == "decimal" {
		// decimal(12,2) and decimal(12,4) read the same bytes as
		// values 100 times apart: the report must tell them apart.
		b = fmt.Appendf(b, `,"precision":%d,"scale":%d`, n.precision, n.scale)
	}
	return append(b, '}')
}

// rabin returns the CRC-64-AVRO fingerprint of b, as the specification
// defines it.
func rabin(b []byte) uint64 {
	const empty = 0xc15d213aa4d7a795
	var table [256]uint64
	for i := range table {
		fp := uint64(i)
		for range 8 {
			fp = (fp >> 1) ^ (empty & -(fp & 1))
		}
		table[i] = fp
	}
	fp := uint64(empty)
	for _, c := range b {
		fp = (fp >> 8) ^ table[byte(fp)^c]
	}
	return fp
}
