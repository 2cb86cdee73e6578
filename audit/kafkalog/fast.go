package kafkalog

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// fastLines parses the lines at the start of d while each is an event in
// the form nearly every line of a log takes: printable ASCII throughout,
// numbers without a sign and of at most 18 digits, at least 8 bytes of d
// from the start of the user id (it is read eight bytes at a time; movie
// ids and servers are searched in the assembly, which reads to the end of
// d, or eight bytes at a time where there is none), and an end at "\n",
// "\r\n" or the end of d. It
// returns the number of bytes of d they take, their newlines included,
// and the number of lines; it stops before the first line that is not in
// that form or is too long, having done nothing with it: lines then
// checks and parses it the general way (scanLine, line), which finds the
// reason, if any. fastLines takes no line that line would not make into
// the same event, so malformed lines and their reasons are line's alone.
//
// The general way finds the newline, checks the text, finds the commas,
// then checks each field, each a pass over the same bytes; here each byte
// is looked at once, and the newline is found by parsing up to it. The
// loop over lines is here, not in lines, so that what the sink's call
// clobbers is reloaded once a line, not saved and reloaded around a call
// of a function a line too.
func (p *parser) fastLines(d []byte, n int64) (int, int64) {
	size, first := len(d), n
lines:
	for {
		// The time: 19 bytes, or up to 29 with a fraction. valid checks
		// each of its bytes, so it holds no newline.
		c1 := 19
		if len(d) <= c1 {
			break
		}
		if d[c1] != ',' {
			// a fraction of up to 9 digits: the comma is in d[20:30]
			if len(d) < 30 {
				break
			}
			m := hasZero(binary.LittleEndian.Uint64(d[20:]) ^ (ones * ','))
			switch {
			case m != 0:
				c1 = 20 + bits.TrailingZeros64(m)>>3
			case d[28] == ',':
				c1 = 28
			case d[29] == ',':
				c1 = 29
			default:
				break lines
			}
		}
		if tm := d[:c1]; !(p.times.sameMinute(tm) && secondWord(binary.LittleEndian.Uint32(d[16:])) && (c1 == 19 || validFraction(d[19:c1]))) && !p.times.valid(tm) {
			break
		}
		// The user id: printable up to the next comma.
		u := c1 + 1
		c2 := u
		for {
			if len(d)-c2 < 8 {
				break lines
			}
			if m := commaStop(binary.LittleEndian.Uint64(d[c2:])); m != 0 {
				c2 += bits.TrailingZeros64(m) >> 3
				break
			}
			c2 += 8
		}
		if c2 == u || d[c2] != ',' {
			break
		}
		r := c2 + 1
		var end int
		switch {
		case len(d)-r >= len(watchPrefix) && string(d[r:r+len(watchPrefix)]) == watchPrefix:
			// "<movieId>/<minute>.mpg": the id ends at the first '/', so
			// only digits and ".mpg" follow it, as parseWatch's last '/'.
			i := r + len(watchPrefix)
			j := idEnd(d, i)
			if j <= i || d[j] != '/' {
				break lines
			}
			minute, k := digits(d, j+1)
			if k < 0 || len(d)-k < len(watchSuffix) || string(d[k:k+len(watchSuffix)]) != watchSuffix {
				break lines
			}
			k += len(watchSuffix)
			if end = lineEnd(d, k); end < 0 || k > p.maxLine {
				break lines
			}
			e := p.watch
			v := e.Values[:4] // set4, without its checks of what is checked here
			setText(&v[0], d, 0, c1)
			setText(&v[1], d, u, c2)
			setText(&v[2], d, i, j)
			v[3] = rules.Value{Kind: rules.KindInt, Int: minute}
			e.Pos = audit.Position{File: p.file, Line: n}
			p.sink.Event(e)
		case len(d)-r >= len(ratingPrefix) && string(d[r:r+len(ratingPrefix)]) == ratingPrefix:
			// "<movieId>=<rating>"
			i := r + len(ratingPrefix)
			j := idEnd(d, i)
			if j <= i || d[j] != '=' {
				break lines
			}
			rating, k := digits(d, j+1)
			if k < 0 {
				break lines
			}
			if end = lineEnd(d, k); end < 0 || k > p.maxLine {
				break lines
			}
			e := p.rating
			v := e.Values[:4] // set4, without its checks of what is checked here
			setText(&v[0], d, 0, c1)
			setText(&v[1], d, u, c2)
			setText(&v[2], d, i, j)
			v[3] = rules.Value{Kind: rules.KindInt, Int: rating}
			e.Pos = audit.Position{File: p.file, Line: n}
			p.sink.Event(e)
		case len(d)-r >= len(recPrefix) && string(d[r:r+16]) == "recommendation r" && string(d[r+16:r+len(recPrefix)]) == "equest ":
			// recPrefix in two compares of at most 16 bytes, which take no call
			if end = p.fastRec(d, c1, c2, r+len(recPrefix), n); end < 0 {
				break lines
			}
		default:
			break lines
		}
		n++
		if end+1 >= len(d) {
			return size, n - first
		}
		d = d[end+1 : len(d) : len(d)] // no capacity to keep
	}
	return size - len(d), n - first
}

// fastRec is fastLines for "<server>, status <code>, result: <text>, <n> ms",
// which starts at d[i]; d[:c1] is the time and d[c1+1:c2] the user id.
// The text may hold commas and ", "; as in parseRec, it ends at the last
// ", " of the line, and that is the one before the digits of <n>, which
// hold none.
func (p *parser) fastRec(d []byte, c1, c2, i int, n int64) int {
	s := commaEnd(d, i) // the comma after the server
	if s <= i || len(d)-s < len(statusMark) || string(d[s:s+len(statusMark)]) != statusMark {
		return -1
	}
	status, k := digits(d, s+len(statusMark))
	if k < 0 || len(d)-k < len(resultMark) || string(d[k:k+len(resultMark)]) != resultMark {
		return -1
	}
	text := k + len(resultMark)
	t := text + printable(d[text:]) // the line end, if all is well
	end := lineEnd(d, t)
	if end < 0 || t > p.maxLine || t-text < len(recSuffix) || string(d[t-len(recSuffix):t]) != recSuffix {
		return -1
	}
	ms, m := digitsBack(d, text, t-len(recSuffix))
	if m-text < 2 || d[m-2] != ',' || d[m-1] != ' ' {
		return -1
	}
	from, to := text, m-2 // the result, without a space after "result:"
	if from < to && d[from] == ' ' {
		from++
	}
	e := p.rec
	v := e.Values[:6] // setRec written out: its call of seven arguments cost more
	setText(&v[0], d, 0, c1)
	setText(&v[1], d, c1+1, c2)
	setText(&v[2], d, i, s)
	v[3] = rules.Value{Kind: rules.KindInt, Int: status}
	if from == to {
		v[4] = rules.Value{}
	} else {
		setText(&v[4], d, from, to)
	}
	v[5] = rules.Value{Kind: rules.KindInt, Int: ms}
	e.Pos = audit.Position{File: p.file, Line: n}
	p.sink.Event(e)
	return end
}

// secondWord is validSecond for the time of which x holds bytes 16 to 19,
// the first lowest: ':', '0' to '5', '0' to '9' and any byte. The mask
// flags, exactly for the lowest, the bytes of x less ":00" that are above
// 0, 5 and 9 or borrow (see commaStop).
func secondWord(x uint32) bool {
	t := x&0xffffff - 0x30303a
	return (t|(t+0x767a7f))&0x808080 == 0
}

// lineEnd returns the index of the newline when a line ends at d[k], with
// "\n" or "\r\n", or len(d) when it is the last line of d, with or without
// a final '\r'; or -1.
func lineEnd(d []byte, k int) int {
	switch {
	case k == len(d) || d[k] == '\n':
		return k
	case d[k] == '\r' && (k+1 == len(d) || d[k+1] == '\n'):
		return k + 1
	}
	return -1
}

// The fast path looks for the first byte of a field that ends it or is
// not printable ASCII, eight bytes at a time. It flags such bytes in
// their high bits, exactly for the lowest one, which is the one it looks
// at: a byte below it borrows or carries into no byte above it. The
// bytes are these:
//
//	(x - ones*c) | x | (x + ones)  bytes below c, 0x80 and up, and 0x7f (special, with c = ' ')
//	(x ^ (ones * c)) - ones        c, among ASCII bytes (the others are flagged anyway)

// commaStop flags the bytes of x that end a user id or a server: ',' or
// not printable ASCII.
func commaStop(x uint64) uint64 {
	return (((x ^ (ones * ',')) - ones) | (x - lows) | x | (x + ones)) & highs
}

// commaEndWords is commaEnd eight bytes at a time, for CPUs without the
// assembly version; tests hold the two to the same answers.
func commaEndWords(d []byte, i int) int {
	for ; len(d)-i >= 8; i += 8 {
		if m := commaStop(binary.LittleEndian.Uint64(d[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	return -1
}

// idEndWords is idEnd eight bytes at a time, for CPUs without the
// assembly version; tests hold the two to the same answers.
func idEndWords(d []byte, i int) int {
	for ; len(d)-i >= 8; i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		// ' ' is flagged as a byte below '!'.
		m := (((x ^ (ones * ',')) - ones) | ((x ^ (ones * '/')) - ones) | ((x ^ (ones * '=')) - ones) |
			(x - ones*'!') | x | (x + ones)) & highs
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	return -1
}

// digits parses the unsigned decimal of 1 to 18 digits, too few to
// overflow, at d[i:] and returns it and the index after it, or -1 for the
// index when there is none or it is longer.
func digits(d []byte, i int) (int64, int) {
	var u int64
	j := i
	for ; j < len(d); j++ {
		c := d[j] - '0'
		if c > 9 {
			break
		}
		u = u*10 + int64(c)
	}
	if j == i || j-i > 18 {
		return 0, -1
	}
	return u, j
}

// digitsBack parses the unsigned decimal of 1 to 18 digits that ends
// before d[end] and starts after d[from], and returns it and the index of
// its first digit, or -1 for the index.
func digitsBack(d []byte, from, end int) (int64, int) {
	var u, scale int64 = 0, 1
	i := end
	for ; i > from; i-- {
		c := d[i-1] - '0'
		if c > 9 {
			break
		}
		u += int64(c) * scale
		scale *= 10
	}
	if i == end || end-i > 18 {
		return 0, -1
	}
	return u, i
}

// setText sets v to the string d[i:j], for 0 <= i < j <= len(d), which
// the fast path knows from the bytes it has read about each field. It
// writes the string's header itself: slicing d and unsafe.String would
// check again what is known, and cost more than the write.
func setText(v *rules.Value, d []byte, i, j int) {
	v.Kind, v.Int, v.Float = rules.KindString, 0, 0
	*(*stringHeader)(unsafe.Pointer(&v.Str)) = stringHeader{unsafe.Add(unsafe.Pointer(unsafe.SliceData(d)), i), j - i}
}

// stringHeader is the layout of a string.
type stringHeader struct {
	data unsafe.Pointer
	len  int
}
