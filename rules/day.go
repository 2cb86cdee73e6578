package rules

import (
	"strconv"
	"strings"
	"time"
)

// TimeUnit returns how many units of an integer time field make an hour,
// from the logical type its writer declared (Field.Type keeps it):
// timestamp-millis, -micros or -nanos. It returns 0 for any other type.
func TimeUnit(typ string) int64 {
	switch {
	case strings.Contains(typ, `timestamp-millis"`):
		return 3_600_000
	case strings.Contains(typ, `timestamp-micros"`):
		return 3_600_000_000
	case strings.Contains(typ, `timestamp-nanos"`):
		return 3_600_000_000_000
	}
	return 0
}

// DayNumber returns the day since 1970-01-01 (UTC) of the timestamp t,
// given in units of which unit make an hour (see TimeUnit); days before
// 1970 are negative.
func DayNumber(t, unit int64) int64 {
	d := unit * 24
	day := t / d
	if t%d < 0 {
		day--
	}
	return day
}

// TextTime reads a time written as text: a date YYYY-MM-DD, then a 'T'
// or a space and the hour HH and the rest of the clock, as the Kafka log
// writes it ("2024-03-19T08:15:00"), with an optional zone at the end: Z,
// or an offset +hh:mm, +hhmm or +hh (or -); any other zone refuses it
// (without a zone the text ends with a digit). It returns the date and the
// hour in UTC, the offset applied; hour is -1 for a date alone. A time
// without a zone is taken as UTC. ok is false when s is not such a time.
// The hour is checked; the date only when there is an offset to apply,
// and without one it is returned as written, a part of s.
func TextTime(s string) (date string, hour int, ok bool) {
	if UsualTextTime(s) {
		// TwoDigits and h <= 23 in two tests: when the second digit is
		// one, a first byte that is not 0, 1 or 2 makes h over 23, a
		// byte under '0' wrapping it round to near 2⁶⁴.
		d := uint(s[12]) - '0'
		if h := (uint(s[11])-'0')*10 + d; d <= 9 && h <= 23 {
			return s[:10], int(h), true
		}
	}
	return textTime(s)
}

// UsualTextTime reports whether s is a text time in the form the Kafka log
// writes: at least 19 bytes, a 'T' after the date, and no zone (a digit at
// the end, and no sign where an offset would have one). TextTime reads the
// date and hour of such a time from its first 13 bytes alone, so two of
// them that share those bytes have one reading (the profile caches it).
func UsualTextTime(s string) bool {
	n := len(s)
	return n >= 19 && s[10] == 'T' && s[n-1]-'0' <= 9 && s[n-3] >= '0' && s[n-5] >= '0' && s[n-6] >= '0'
}

func textTime(s string) (date string, hour int, ok bool) {
	if len(s) < 10 || len(s) > 10 && s[10] != 'T' && s[10] != ' ' {
		return "", 0, false
	}
	if len(s) == 10 {
		return s, -1, true
	}
	if len(s) < 13 {
		return "", 0, false
	}
	hour = TwoDigits(s[11], s[12])
	if hour < 0 || hour > 23 {
		return "", 0, false
	}
	off, has := zoneOffset(s)
	switch {
	case !has && s[len(s)-1]-'0' > 9:
		// Some other zone, such as " EST" or "[America/New_York]": not
		// one to read as UTC.
		return "", 0, false
	case !has || off == 0:
		return s[:10], hour, true
	case off > 24*3600 || off < -24*3600:
		return "", 0, false
	}
	y, m, d := TwoDigits(s[0], s[1])*100+TwoDigits(s[2], s[3]), TwoDigits(s[5], s[6]), TwoDigits(s[8], s[9])
	if TwoDigits(s[0], s[1]) < 0 || TwoDigits(s[2], s[3]) < 0 || m < 1 || m > 12 || d < 1 || d > DaysIn(m, y) || s[4] != '-' || s[7] != '-' {
		return "", 0, false // time.Date would roll 02-30 over into March
	}
	minute := 0
	switch {
	case len(s) >= 16 && s[13] == ':': // 08:15
		minute = TwoDigits(s[14], s[15])
	case len(s) >= 15 && s[13]-'0' <= 9: // 0815, ISO 8601's basic form
		minute = TwoDigits(s[13], s[14])
	}
	if minute < 0 || minute > 59 {
		return "", 0, false
	}
	t := time.Date(y, time.Month(m), d, hour, minute, 0, 0, time.UTC).Add(-time.Duration(off) * time.Second)
	return t.Format(time.DateOnly), t.Hour(), true
}

// zoneOffset returns the zone offset in seconds at the end of a time as
// text whose hour ends at byte 13, and whether it has one ("Z" is one, of
// 0). After the date no '+' or '-' belongs to the clock, so the three
// forms are told apart by where the sign is.
func zoneOffset(s string) (int, bool) {
	n := len(s)
	switch {
	case s[n-1] == 'Z' || s[n-1] == 'z':
		return 0, true
	case n >= 19 && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':': // +hh:mm
		return offset(s[n-6], s[n-5:n-3], s[n-2:])
	case n >= 18 && (s[n-5] == '+' || s[n-5] == '-'): // +hhmm
		return offset(s[n-5], s[n-4:n-2], s[n-2:])
	case n >= 16 && (s[n-3] == '+' || s[n-3] == '-'): // +hh
		return offset(s[n-3], s[n-2:], "00")
	}
	return 0, false
}

// offset returns the offset of sign, hours hh and minutes mm in seconds;
// one that is not digits is out of range, so that TextTime refuses it.
func offset(sign byte, hh, mm string) (int, bool) {
	h, m := TwoDigits(hh[0], hh[1]), TwoDigits(mm[0], mm[1])
	if h < 0 || m < 0 || m > 59 {
		return 1 << 30, true
	}
	off := h*3600 + m*60
	if sign == '-' {
		off = -off
	}
	return off, true
}

// TwoDigits returns the two decimal digits a and b as a number, or -1.
func TwoDigits(a, b byte) int {
	x, y := a-'0', b-'0'
	if x > 9 || y > 9 {
		return -1
	}
	return int(x)*10 + int(y)
}

// timestampText shows an integer timestamp of the given unit (see
// TimeUnit) as a UTC time followed by the number as written, such as
// "2024-03-20T00:00:00.5Z (1710892800500)".
func timestampText(t, unit int64) string {
	var tm time.Time
	switch unit {
	case 3_600_000:
		tm = time.UnixMilli(t)
	case 3_600_000_000:
		tm = time.UnixMicro(t)
	default:
		tm = time.Unix(0, t)
	}
	return tm.UTC().Format(time.RFC3339Nano) + " (" + strconv.FormatInt(t, 10) + ")"
}

// DaysIn returns the number of days of month (1 to 12) in year.
func DaysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
