// Package rules reads dqaudit's rule book, the YAML file ML engineers
// edit to say what a day of events must look like, and turns it into
// checks that run over millions of events a second.
//
// Parse and Load decode and validate a config in one pass and report every
// problem at once, each with the file, line and column of the offending
// YAML node, the rule it belongs to and what would be accepted:
//
//	config.yaml:11:5: rule "rating-in-range": unknown key "betwen" (did you mean "between"?)
//
// The drift section decodes into a Drift with every default filled in:
// the baseline a day is compared with, the thresholds of each family of
// drift measures, and the drift checks of single fields. ParseBaseline
// reads the same baselines from a command-line flag.
//
// Compile binds a valid Config to its loaded reference sets and returns a
// Book: immutable checks shared by all goroutines. Each goroutine makes an
// Evaluator from the Book and feeds it events; the Evaluator returns one
// Outcome per check that applies to the event. Counting outcomes, keeping
// samples and deciding the gate are the caller's job: Check.Status turns
// the counts of one check into pass, warn or fail.
//
// Value rules (between, min, max, in, not_in, pattern, in_reference) pass
// null values: a missing value is policed by not_null and max_null_ratio,
// so that each rule says one thing.
package rules
