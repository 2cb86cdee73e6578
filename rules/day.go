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

// TextDate returns the date of a time written as text, such as
// "2024-03-19T08:15:00" (the Kafka log's form) or "2024-03-19 08:15": its
// first ten bytes, when a 'T', a space or the end follows them. The date
// is taken as written; a zone offset after the time is not applied.
func TextDate(s string) (string, bool) {
	if len(s) < 10 || len(s) > 10 && s[10] != 'T' && s[10] != ' ' {
		return "", false
	}
	return s[:10], true
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
