package kafkalog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"
	"unsafe"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// The reasons a line is malformed, as passed to audit.Sink.Malformed.
const (
	ReasonUnknownShape    = "unknown_shape"
	ReasonBadTime         = "bad_time"
	ReasonBadMinute       = "bad_minute"
	ReasonBadRating       = "bad_rating"
	ReasonBadStatus       = "bad_status"
	ReasonBadResponseTime = "bad_response_time"
	ReasonInvalidText     = "invalid_text"
	ReasonTooLong         = "too_long"
)

// utf8BOM is the byte order mark some writers put at the start of a text
// file.
const utf8BOM = "\ufeff"

// maxTooLongText caps the prefix of a too-long line handed to the sink.
const maxTooLongText = 1024

// The request prefixes of the three shapes, after "<time>,<userId>,",
// and the fixed parts of their bodies. They are compared in place as
// string(b[:len(c)]) == c: with c a constant of up to 16 bytes, the
// compiler makes that one or two word compares instead of a call.
const (
	watchPrefix  = "GET /data/m/"
	ratingPrefix = "GET /rate/"
	recPrefix    = "recommendation request "

	watchSuffix = ".mpg"
	recSuffix   = " ms"
	statusMark  = ", status "
	resultMark  = ", result:"
)

// shapes holds the Reader's three immutable shapes. The parser sets the
// fields of their events by position, in the order newShapes checks.
type shapes struct {
	watch, rating, rec *rules.Shape
}

func newShapes() *shapes {
	s := &shapes{
		watch:  builtinShape(rules.MovieWatchEvent, "subtitles"),
		rating: builtinShape(rules.MovieRatingEvent, ""),
		rec:    builtinShape(rules.RecommendationRequest, ""),
	}
	mustOrder(s.watch, "time", "userId", "movieId", "minute")
	mustOrder(s.rating, "time", "userId", "movieId", "rating")
	mustOrder(s.rec, "time", "userId", "server", "status", "recommendations", "responseTime")
	return s
}

// builtinShape returns the shape of a built-in event type without the
// field named drop, which the log does not carry.
func builtinShape(event, drop string) *rules.Shape {
	fields, ok := rules.BuiltinFields(event)
	if !ok {
		panic("kafkalog: unknown built-in event " + event) // a broken catalogue, not input
	}
	kept := fields[:0:0]
	for _, f := range fields {
		if f.Name != drop {
			kept = append(kept, f)
		}
	}
	return rules.NewShape(event, kept)
}

// mustOrder checks that s has the fields names, in that order.
func mustOrder(s *rules.Shape, names ...string) {
	fields := s.Fields()
	for i, name := range names {
		if i >= len(fields) || fields[i].Name != name || len(fields) != len(names) {
			panic(fmt.Sprintf("kafkalog: built-in %s does not have the fields %q", s.Event(), names)) // a broken catalogue, not input
		}
	}
}

// parser turns lines into events for one sink. It is used by one goroutine.
type parser struct {
	*shapes
	sink    audit.Sink
	file    int32
	maxLine int
	watch   *audit.Event
	rating  *audit.Event
	rec     *audit.Event
	times   timeCache
}

func newParser(s *shapes, sink audit.Sink, file int32, maxLine int) *parser {
	return &parser{
		shapes:  s,
		sink:    sink,
		file:    file,
		maxLine: maxLine,
		watch:   audit.NewEvent(s.watch),
		rating:  audit.NewEvent(s.rating),
		rec:     audit.NewEvent(s.rec),
	}
}

// run hands one chunk to the sink and returns the number of lines in it;
// it turns a panic of the sink into an error, so that a broken sink fails
// its file, not the process.
func (p *parser) run(c chunk) (lines int64, err error) {
	defer func() {
		if v := recover(); v != nil {
			if e, ok := v.(error); ok {
				err = fmt.Errorf("panic: %w", e)
			} else {
				err = fmt.Errorf("panic: %v", v)
			}
		}
	}()
	if c.tooLong {
		p.sink.Malformed(audit.Position{File: p.file, Line: c.line}, ReasonTooLong, c.data)
		return 1, nil
	}
	return p.lines(c.data, c.line), nil
}

// lines parses data, whose first line has number line, and returns the
// number of lines in it. The last line may lack its newline.
//
// Nearly every line of a log is an event in the form fastLines takes,
// which checks its text and finds its end as it parses it. The few others
// are split and checked by scanLine and parsed by line.
func (p *parser) lines(data []byte, line int64) int64 {
	first := line
	for len(data) > 0 {
		k, n := p.fastLines(data, line)
		line += n
		if k >= len(data) {
			break
		}
		data = data[k:]
		end, clean := scanLine(data)
		p.line(data[:end], line, clean)
		line++
		if end >= len(data) {
			break
		}
		data = data[end+1:]
	}
	return line - first
}

// line parses one line without its newline; clean says whether scanLine
// found it free of invalid text.
func (p *parser) line(ln []byte, n int64, clean bool) {
	if k := len(ln); k > 0 && ln[k-1] == '\r' {
		ln = ln[:k-1]
	}
	if n == 1 && len(ln) >= len(utf8BOM) && string(ln[:len(utf8BOM)]) == utf8BOM {
		ln = ln[len(utf8BOM):] // a byte order mark starts the file, not its first line
	}
	if len(ln) == 0 {
		return
	}
	pos := audit.Position{File: p.file, Line: n}
	if len(ln) > p.maxLine {
		p.sink.Malformed(pos, ReasonTooLong, ln[:min(p.maxLine, maxTooLongText)])
		return
	}
	if !clean {
		p.sink.Malformed(pos, ReasonInvalidText, ln)
		return
	}
	if reason := p.parse(ln, pos); reason != "" {
		p.sink.Malformed(pos, reason, ln)
	}
}

// parse hands ln to the sink as an event, or returns why it cannot. The
// shape is recognised first; then fields are checked in field order, so
// the reason is that of the first bad field.
func (p *parser) parse(ln []byte, pos audit.Position) string {
	c1 := bytes.IndexByte(ln, ',')
	if c1 < 0 {
		return ReasonUnknownShape
	}
	tm, rest := ln[:c1], ln[c1+1:]
	c2 := bytes.IndexByte(rest, ',')
	if c2 <= 0 { // no userId, or an empty one
		return ReasonUnknownShape
	}
	user, req := rest[:c2], rest[c2+1:]
	switch {
	case len(req) >= len(watchPrefix) && string(req[:len(watchPrefix)]) == watchPrefix:
		return p.parseWatch(tm, user, req[len(watchPrefix):], pos)
	case len(req) >= len(ratingPrefix) && string(req[:len(ratingPrefix)]) == ratingPrefix:
		return p.parseRating(tm, user, req[len(ratingPrefix):], pos)
	case len(req) >= len(recPrefix) && string(req[:len(recPrefix)]) == recPrefix:
		return p.parseRec(tm, user, req[len(recPrefix):], pos)
	}
	return ReasonUnknownShape
}

// parseWatch parses "<movieId>/<minute>.mpg".
func (p *parser) parseWatch(tm, user, body []byte, pos audit.Position) string {
	if len(body) < len(watchSuffix) || string(body[len(body)-len(watchSuffix):]) != watchSuffix {
		return ReasonUnknownShape
	}
	body = body[:len(body)-len(watchSuffix)]
	slash := bytes.LastIndexByte(body, '/')
	if slash < 0 || !validID(body[:slash]) {
		return ReasonUnknownShape
	}
	if !p.times.valid(tm) {
		return ReasonBadTime
	}
	minute, ok := parseInt(body[slash+1:])
	if !ok {
		return ReasonBadMinute
	}
	e := p.watch
	set4(e.Values, tm, user, body[:slash], minute)
	e.Pos = pos
	p.sink.Event(e)
	return ""
}

// parseRating parses "<movieId>=<rating>".
func (p *parser) parseRating(tm, user, body []byte, pos audit.Position) string {
	eq := bytes.IndexByte(body, '=')
	if eq < 0 || !validID(body[:eq]) {
		return ReasonUnknownShape
	}
	if !p.times.valid(tm) {
		return ReasonBadTime
	}
	rating, ok := parseInt(body[eq+1:])
	if !ok {
		return ReasonBadRating
	}
	e := p.rating
	set4(e.Values, tm, user, body[:eq], rating)
	e.Pos = pos
	p.sink.Event(e)
	return ""
}

// parseRec parses "<server>, status <code>, result: <text>, <n> ms". The
// result text may hold commas, so the tail is taken from the right.
func (p *parser) parseRec(tm, user, body []byte, pos audit.Position) string {
	if len(body) < len(recSuffix) || string(body[len(body)-len(recSuffix):]) != recSuffix {
		return ReasonUnknownShape
	}
	body = body[:len(body)-len(recSuffix)]
	j := lastCommaSpace(body)
	if j < 0 {
		return ReasonUnknownShape
	}
	head, rt := body[:j], body[j+2:]
	i := bytes.IndexByte(head, ',') // server holds no comma
	if i <= 0 || len(head)-i < len(statusMark) || string(head[i:i+len(statusMark)]) != statusMark {
		return ReasonUnknownShape
	}
	server, head := head[:i], head[i+len(statusMark):]
	k := bytes.IndexByte(head, ',')
	if k < 0 || len(head)-k < len(resultMark) || string(head[k:k+len(resultMark)]) != resultMark {
		// a status with a comma in it is a bad status, not another shape
		if k = bytes.Index(head, []byte(resultMark)); k < 0 {
			return ReasonUnknownShape
		}
	}
	code, result := head[:k], head[k+len(resultMark):]
	if len(result) > 0 && result[0] == ' ' {
		result = result[1:]
	}
	if !p.times.valid(tm) {
		return ReasonBadTime
	}
	status, ok := parseInt(code)
	if !ok {
		return ReasonBadStatus
	}
	ms, ok := parseInt(rt)
	if !ok {
		return ReasonBadResponseTime
	}
	e := p.rec
	setRec(e.Values, tm, user, server, status, result, ms)
	e.Pos = pos
	p.sink.Event(e)
	return ""
}

// set4 sets the fields of a watch or rating event: time, userId, movieId
// and the number.
func set4(v []rules.Value, tm, user, id []byte, num int64) {
	v = v[:4]
	v[0] = str(tm)
	v[1] = str(user)
	v[2] = str(id)
	v[3] = rules.Value{Kind: rules.KindInt, Int: num}
}

// setRec sets the fields of a recommendation event; an empty result is
// null.
func setRec(v []rules.Value, tm, user, server []byte, status int64, result []byte, ms int64) {
	v = v[:6]
	v[0] = str(tm)
	v[1] = str(user)
	v[2] = str(server)
	v[3] = rules.Value{Kind: rules.KindInt, Int: status}
	if len(result) == 0 {
		v[4] = rules.Value{}
	} else {
		v[4] = str(result)
	}
	v[5] = rules.Value{Kind: rules.KindInt, Int: ms}
}

// lastCommaSpace returns the index of the last ", " in b, or -1.
func lastCommaSpace(b []byte) int {
	for {
		j := bytes.LastIndexByte(b, ',')
		if j < 0 || j+1 < len(b) && b[j+1] == ' ' {
			return j
		}
		b = b[:j] // b[j+1] was ',' or beyond the end: no match at j
	}
}

// str makes a string value that points into b: events are valid only
// during the sink call, and b outlives it.
func str(b []byte) rules.Value {
	return rules.Value{Kind: rules.KindString, Str: unsafe.String(unsafe.SliceData(b), len(b))}
}

// validID reports whether b can be a movie id: a non-empty slug without
// the bytes that separate the log's fields and the request path (',', '/',
// ' ', '='). It tests eight bytes at a time; ids are short.
func validID(b []byte) bool {
	switch {
	case len(b) == 0:
		return false
	case len(b) < 8:
		for _, c := range b {
			if c < 64 && idStops>>c&1 != 0 {
				return false
			}
		}
		return true
	}
	for i := 0; ; i += 8 {
		if i > len(b)-8 {
			i = len(b) - 8 // the last word overlaps the one before
		}
		x := binary.LittleEndian.Uint64(b[i:])
		if hasZero(x^(ones*','))|hasZero(x^(ones*'/'))|hasZero(x^(ones*' '))|hasZero(x^(ones*'=')) != 0 {
			return false
		}
		if i == len(b)-8 {
			return true
		}
	}
}

// idStops has bit c set for each byte c a movie id cannot hold.
const idStops uint64 = 1<<',' | 1<<'/' | 1<<' ' | 1<<'='

// hasZero is non-zero when a byte of x is zero.
func hasZero(x uint64) uint64 { return (x - ones) &^ x & highs }

// parseInt parses a signed decimal int64 as strconv.ParseInt(b, 10, 64)
// does, without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		u = u*10 + uint64(d)
	}
	switch {
	case neg && u == 1<<63:
		return math.MinInt64, true
	case u > math.MaxInt64:
		return 0, false
	case neg:
		return -int64(u), true
	}
	return int64(u), true
}

// validTime reports whether b is an ISO-8601 local date-time
// YYYY-MM-DDTHH:MM:SS with an optional fraction of 1 to 9 digits, and a
// real one: months 1-12, days within the month (leap years included),
// hours 0-23, minutes and seconds 0-59.
func validTime(b []byte) bool {
	return len(b) >= 19 && validHour(b) && validClock(b)
}

// validHour checks the date and hour of a time, b[:13] ("YYYY-MM-DDTHH");
// len(b) >= 13.
func validHour(b []byte) bool {
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' {
		return false
	}
	hi, lo := rules.TwoDigits(b[0], b[1]), rules.TwoDigits(b[2], b[3])
	month, day, hour := rules.TwoDigits(b[5], b[6]), rules.TwoDigits(b[8], b[9]), rules.TwoDigits(b[11], b[12])
	if hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 {
		return false
	}
	return day <= rules.DaysIn(month, hi*100+lo)
}

// validClock checks the rest of a time after its hour, b[13:]
// (":MM:SS" and an optional fraction); len(b) >= 19.
func validClock(b []byte) bool {
	if b[13] != ':' {
		return false
	}
	if minute := rules.TwoDigits(b[14], b[15]); minute < 0 || minute > 59 {
		return false
	}
	return validSecond(b)
}

// validSecond checks the rest of a time after its minute, b[16:]
// (":SS" and an optional fraction); len(b) >= 19.
func validSecond(b []byte) bool {
	return b[16] == ':' && b[17]-'0' <= 5 && b[18]-'0' <= 9 && (len(b) == 19 || validFraction(b[19:]))
}

// validFraction checks the fraction of a time, "." and 1 to 9 digits.
func validFraction(b []byte) bool {
	if len(b) < 2 || len(b) > 10 || b[0] != '.' {
		return false
	}
	for _, c := range b[1:] {
		if c-'0' > 9 {
			return false
		}
	}
	return true
}

// timeCache remembers the date, hour and minute of the last valid time.
// A log's lines come in time order, so the next time nearly always shares
// its minute, and only its seconds and fraction need checking; when it
// shares only the hour, its minutes too. valid gives validTime's answer
// either way: the parts are checked independently.
type timeCache struct {
	// "YYYY-MM-DDTHH:MM" of the last valid time, as two little-endian
	// words: bytes 0-7 and 8-15
	w0, w1 uint64
	ok     bool // w0 and w1 hold one
}

// dayHour masks the bytes of w1 up to the hour, "DDTHH".
const dayHour = 1<<40 - 1

func (c *timeCache) valid(b []byte) bool {
	if c.sameMinute(b) {
		return validSecond(b)
	}
	return c.miss(b)
}

// sameMinute reports whether b, of at least 19 bytes, starts with the
// cached "YYYY-MM-DDTHH:MM".
func (c *timeCache) sameMinute(b []byte) bool {
	return len(b) >= 19 && binary.LittleEndian.Uint64(b) == c.w0 && binary.LittleEndian.Uint64(b[8:]) == c.w1 && c.ok
}

// miss is valid for a time of another minute than the cached one.
func (c *timeCache) miss(b []byte) bool {
	if len(b) < 19 {
		return false
	}
	w0, w1 := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	if w0 == c.w0 && (w1^c.w1)&dayHour == 0 && c.ok {
		if !validClock(b) {
			return false
		}
	} else if !validHour(b) || !validClock(b) {
		return false
	}
	c.w0, c.w1, c.ok = w0, w1, true
	return true
}

// Masks for eight-bytes-at-a-time tests.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
	lows  = 0x2020202020202020 // ' ' in every byte
)

// scanLine returns the index of the first newline in data, or len(data),
// and whether the line before it is valid UTF-8 without control characters
// (C0, DEL or C1), a final '\r' aside. It tests eight bytes at a time and
// looks closer only at bytes outside printable ASCII, the newline among
// them, so that splitting and checking take one pass.
func scanLine(data []byte) (end int, clean bool) {
	i := 0
	for {
		// Thirty-two bytes a turn while they last, then eight.
		for len(data)-i >= 32 {
			w := data[i : i+32 : i+32]
			a, b := binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
			c, d := binary.LittleEndian.Uint64(w[16:]), binary.LittleEndian.Uint64(w[24:])
			if (special(a)|special(b)|special(c)|special(d))&highs == 0 {
				i += 32
				continue
			}
			for _, x := range [4]uint64{a, b, c, d} {
				if m := special(x) & highs; m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					break
				}
				i += 8
			}
			goto look
		}
		if i+8 <= len(data) {
			if m := special(binary.LittleEndian.Uint64(data[i:])) & highs; m == 0 {
				i += 8
				continue
			} else {
				i += bits.TrailingZeros64(m) >> 3
			}
		} else if i == len(data) {
			return i, true
		}
	look:
		c := data[i]
		switch {
		case c == '\n':
			return i, true
		case c == '\r' && (i+1 == len(data) || data[i+1] == '\n'):
			i++ // the CR of a line end
			continue
		case c >= 0x20 && c < 0x7f:
			i++ // printable, in the last few bytes of data
			continue
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[i:])
			if size > 1 && r > 0x9f { // valid and not a C1 control
				i += size
				continue
			}
		}
		if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
			return i + j, false
		}
		return len(data), false
	}
}

// printableWords is printable eight bytes at a time, for CPUs without
// the assembly version; tests hold the two to the same answers.
func printableWords(data []byte) int {
	i := 0
	for ; len(data)-i >= 8; i += 8 {
		if m := special(binary.LittleEndian.Uint64(data[i:])) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(data); i++ {
		if data[i]-0x20 > 0x5e {
			return i
		}
	}
	return i
}

// special flags, in their high bits, the bytes of x outside printable
// ASCII, once masked with highs: a byte below 0x20 borrows into its high
// bit, 0x7f carries into it, 0x80 and up have it set. No borrow or carry
// comes from below the lowest such byte, so the lowest flag is exact.
func special(x uint64) uint64 {
	return (x-lows)&^x | x | (x + ones)
}
