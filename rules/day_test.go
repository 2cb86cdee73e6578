package rules

import (
	"strings"
	"testing"
)

func TestTextTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		date string // "" when not a time
		hour int
	}{
		{"2024-03-19T08:15:00", "2024-03-19", 8},
		{"2024-03-19T23:59:59.999999999", "2024-03-19", 23},
		{"2024-03-19 08:15", "2024-03-19", 8},
		{"2024-03-19", "2024-03-19", -1},
		{"2024-03-19T08", "2024-03-19", 8},
		{"2024-03-19T08:15:00Z", "2024-03-19", 8},
		// Offsets are applied: these are all 2024-03-19T20:00Z.
		{"2024-03-20T01:00:00+05:00", "2024-03-19", 20},
		{"2024-03-20T01:00:00.250+0500", "2024-03-19", 20},
		{"2024-03-20T01:00+05", "2024-03-19", 20},
		{"2024-03-19T15:00:00-05:00", "2024-03-19", 20},
		{"2024-03-19T01:30:00+05:30", "2024-03-18", 20},
		{"2024-03-19T20:00:00+00:00", "2024-03-19", 20},
		{"2024-03-19T22:00:00-03:00", "2024-03-20", 1},
		{"2024-02-29T23:00:00-02:00", "2024-03-01", 1}, // leap day
		{"2023-12-31T23:30:00-01:00", "2024-01-01", 0},
		// Not times.
		{"2024-03-1", "", 0},
		{"2024-03-19X08", "", 0},
		{"2024-03-19T8", "", 0},
		{"2024-03-19T24:00:00", "", 0},
		{"2024-03-19Tab:00:00", "", 0},
		{"2024-13-19T08:00:00+01:00", "", 0}, // a bad date matters only where an offset is applied
		{"2024-02-30T10:00+01:00", "", 0},
		{"2023-02-29T10:00+01:00", "", 0},
		{"2024-02-29T10:00+01:00", "2024-02-29", 9},
		{"2024-03-19T0015+0010", "2024-03-19", 0}, // basic form: 00:05Z
		{"2024-03-19T0005+0010", "2024-03-18", 23},
		// Zones it cannot read are not taken for UTC.
		{"2024-03-19T23:30:00-05:00[America/New_York]", "", 0},
		{"2024-03-19T23:30:00 EST", "", 0},
		{"2024-03-19T08:00:00+0x:00", "", 0},
		{"2024-03-19T08:00:00+01:75", "", 0},
		{"", "", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			date, hour, ok := TextTime(tc.in)
			if tc.date == "" {
				if ok {
					t.Errorf("TextTime(%q) = %s, %d; want not a time", tc.in, date, hour)
				}
				return
			}
			if !ok || date != tc.date || hour != tc.hour {
				t.Errorf("TextTime(%q) = %s, %d, %v; want %s, %d", tc.in, date, hour, ok, tc.date, tc.hour)
			}
		})
	}
}

func TestDayNumber(t *testing.T) {
	for _, tc := range []struct{ t, unit, want int64 }{
		{0, 3_600_000, 0},
		{-1, 3_600_000, -1},
		{1710806400000, 3_600_000, 19801},
		{1710892799999, 3_600_000, 19801},
		{1710892800000, 3_600_000, 19802},
		{1710806400 * 1_000_000_000, 3_600_000_000_000, 19801},
	} {
		if got := DayNumber(tc.t, tc.unit); got != tc.want {
			t.Errorf("DayNumber(%d, %d) = %d, want %d", tc.t, tc.unit, got, tc.want)
		}
	}
}

// textTimeBefore is TextTime as it was before its fast path read the
// hour in two tests: the reference that TestTextTimeSame and
// FuzzTextTime hold it to.
func textTimeBefore(s string) (date string, hour int, ok bool) {
	if n := len(s); n >= 19 && s[10] == 'T' && s[n-1]-'0' <= 9 && s[n-3] >= '0' && s[n-5] >= '0' && s[n-6] >= '0' {
		if h := TwoDigits(s[11], s[12]); h >= 0 && h <= 23 {
			return s[:10], h, true
		}
	}
	return textTime(s)
}

func checkTextTime(t *testing.T, s string) {
	t.Helper()
	date, hour, ok := TextTime(s)
	wdate, whour, wok := textTimeBefore(s)
	if date != wdate || hour != whour || ok != wok {
		t.Fatalf("TextTime(%q) = %q, %d, %v; before, %q, %d, %v", s, date, hour, ok, wdate, whour, wok)
	}
}

// TestTextTimeSame holds TextTime to textTimeBefore on times of every
// length from the date alone to a zone with fractions of seconds, with
// every pair of bytes in the hour, and every byte at every other place.
func TestTextTimeSame(t *testing.T) {
	for _, base := range []string{
		"2024-03-19", "2024-03-19T08", "2024-03-19T08:15", "2024-03-19T0815", "2024-03-19T08:15:00",
		"2024-03-19T08:15:00Z", "2024-03-19T08:15:00.5", "2024-03-19T08:15:00+05", "2024-03-19T08:15:00+0500",
		"2024-03-19T08:15:00-05:00", "2024-03-19T23:59:59.999999999", "2024-03-19 08:15:00", "2024-02-29T23:00:00-02:00",
	} {
		b := []byte(base)
		if len(b) > 12 {
			for h := 0; h < 1<<16; h++ {
				b[11], b[12] = byte(h), byte(h>>8)
				checkTextTime(t, string(b))
			}
			copy(b, base)
		}
		for i := range b {
			for c := 0; c < 256; c++ {
				b[i] = byte(c)
				checkTextTime(t, string(b))
			}
			b[i] = base[i]
		}
		for n := 0; n <= len(base); n++ {
			checkTextTime(t, base[:n])
			checkTextTime(t, base[:n]+strings.Repeat("0", len(base)-n))
		}
	}
}

// FuzzTextTime holds TextTime to textTimeBefore.
func FuzzTextTime(f *testing.F) {
	for _, s := range []string{"2024-03-19T08:15:00", "2024-03-19T23:59:59Z", "2024-03-19T0815+0100", "2024-03-19", "2024-03-19T24:00:00", "2024-03-19T/9:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkTextTime(t, s)
	})
}
