package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem in a config, placed at the YAML node that causes it.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem is the whole file
	Column int // 1-based; 0 when unknown
	// Rule is the name of the rule the problem belongs to, "#3" for the
	// third rule when it has no usable name, or "" outside rules.
	Rule string
	Msg  string
}

// Error formats e the way compilers and promtool do:
//
//	config.yaml:11:5: rule "r": unknown key "betwen" (did you mean "between"?)
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	switch {
	case strings.HasPrefix(e.Rule, "#"):
		b.WriteString("rule " + e.Rule + ": ")
	case e.Rule != "":
		b.WriteString("rule " + strconv.Quote(e.Rule) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a config, sorted by position.
type ErrorList []*Error

// Error returns the problems, one to a line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the problems for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	s := make([]error, len(l))
	for i, e := range l {
		s[i] = e
	}
	return s
}

// maxErrors bounds the list so that a wildly wrong file gives a readable
// answer.
const maxErrors = 100

func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
	if len(l) > maxErrors {
		more := len(l) - maxErrors
		l = append(l[:maxErrors:maxErrors], &Error{File: l[0].File,
			Msg: fmt.Sprintf("too many errors (%d more not shown)", more)})
	}
	return l
}

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to
// word, or "" when none is close enough to be a likely typo.
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func suggest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	best, bestD := "", -1
	for _, c := range candidates {
		if c == word {
			continue
		}
		lc := strings.ToLower(c)
		if lc == lw {
			return c
		}
		d := editDistance(lw, lc)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := 1
	switch n := len([]rune(word)); {
	case n > 8:
		limit = 3
	case n > 3:
		limit = 2
	}
	if bestD < 0 || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting an
// adjacent transposition ("mniute") as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		// Long strings are not typos of short keys; spare the quadratic work.
		if a == b {
			return 0
		}
		return max(len(ra), len(rb))
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// list joins words for a message: "a, b or c".
func list(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
