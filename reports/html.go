package reports

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dqaudit/dqaudit/audit"
)

// HTML writes report.html: one self-contained page (no scripts, fonts,
// images or network) that says whether the day passed, what broke and
// where. Everything from the Result is escaped by html/template, and the
// page stays small whatever the input: only bounded lists are shown.
//
// The drift section (template block "drift") says "Drift: not configured"
// unless the Result has drift enabled; then it shows the baseline, a table
// of the checks and charts of distributions and trends.
type HTML struct{}

var _ Reporter = (*HTML)(nil)

//go:embed html.tmpl
var htmlTemplateText string

//go:embed html.css
var htmlCSS string

// htmlTemplate is parsed on every Write: it costs well under a millisecond
// and keeps the package free of mutable globals. Its json function says
// whether r's run writes report.json, which the page points to for what
// it leaves out.
func htmlTemplate(r *audit.Result) (*template.Template, error) {
	json := func() bool { return writes(r, "report.json") }
	return template.New("report").Funcs(template.FuncMap{"breakable": breakable, "nameBreaks": nameBreaks, "json": json}).Parse(htmlTemplateText)
}

// htmlMaxBytes bounds report.html. The limits below keep a page of any
// realistic run far under it; if hostile data (say, error texts full of
// characters that escape to five bytes) still makes the page bigger, it
// is rendered again with halved limits until it fits.
const htmlMaxBytes = 1_900_000

// htmlLimits say how much of each list and text the page shows; the rest
// is counted ("N more") and is in report.json.
type htmlLimits struct {
	inputs, rules, samples, malformed, reasons, eventTypes int
	versions, files, fields, allFields, attention          int
	drift, distCharts, trendCharts, buckets, trendPoints   int // drift rows and charts
	text, name, path, err                                  int // bytes
}

func defaultHTMLLimits() htmlLimits {
	return htmlLimits{
		inputs: 500, rules: 1000, samples: 20, malformed: 50, reasons: 100, eventTypes: 30,
		versions: 20, files: 20, fields: 200, allFields: 2000, attention: 25,
		drift: 1000, distCharts: 30, trendCharts: 30, buckets: 40, trendPoints: 60,
		text: audit.MaxSampleText + len("…"), name: 200, path: 300, err: 600,
	}
}

// shrink halves every limit, down to a floor; false when nothing changed.
func (l *htmlLimits) shrink() bool {
	changed := false
	half := func(v *int, floor int) {
		if n := max(floor, *v/2); n != *v {
			*v, changed = n, true
		}
	}
	for _, v := range []*int{&l.inputs, &l.rules, &l.samples, &l.malformed, &l.reasons, &l.eventTypes,
		&l.versions, &l.files, &l.fields, &l.allFields, &l.attention, &l.drift, &l.distCharts, &l.trendCharts} {
		half(v, 1)
	}
	half(&l.buckets, 8)
	half(&l.trendPoints, 8)
	for _, v := range []*int{&l.text, &l.name, &l.path, &l.err} {
		half(v, 16)
	}
	return changed
}

// Write renders r as one HTML page of at most htmlMaxBytes.
func (HTML) Write(w io.Writer, r *audit.Result) error {
	t, err := htmlTemplate(r)
	if err != nil {
		return fmt.Errorf("html template: %w", err)
	}
	var buf bytes.Buffer
	lim := defaultHTMLLimits()
	for {
		buf.Reset()
		if err := t.ExecuteTemplate(&buf, "report", newHTMLPage(r, lim)); err != nil {
			return err
		}
		if buf.Len() <= htmlMaxBytes || !lim.shrink() {
			break
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// htmlPage is what html.tmpl renders. Its strings are already made
// visible and clipped; escaping is html/template's job.
type htmlPage struct {
	CSS       template.CSS
	Date      string
	Version   string
	Status    statusLook
	ExitCode  int
	Headline  string
	Started   string
	Duration  string
	Workers   int
	Events    string
	Counts    ruleCounts
	Malformed string
	OtherDay  string // "12 events dated another day (...)", or ""

	Attention     []htmlAttention
	AttentionMore int

	Rules     []htmlRule
	RulesMore int

	EventTypes     []htmlEventType
	EventTypesMore int

	Inputs      []htmlInput
	InputsMore  int
	InputsTotal int
	InputErrors int
	InputBytes  string

	MalformedTotal   int64
	Reasons          []htmlReason
	ReasonsMore      int
	MalformedSamples []htmlMalformedSample
	MalformedMore    int

	Schemas     []htmlSchemaEvent
	SchemasMore int

	Drift *htmlDrift // nil when drift is not configured

	lim         htmlLimits
	distCharts  int // drawn so far, against lim.distCharts
	trendCharts int // drawn so far, against lim.trendCharts
}

type htmlAttention struct {
	Status statusLook
	Anchor string
	Title  string
	Detail string
}

type htmlRule struct {
	Anchor      string
	Status      statusLook
	Name        string
	Event       string
	Field       string
	Kind        string
	Severity    string
	Description string
	Checked     string
	Failed      string
	Share       string
	Tolerance   string
	Samples     []htmlSample
	SamplesMore int
	FailedN     int64
	FailedBad   bool // failures that made the rule warn or fail
	Open        bool // failing rules show their samples from the start
	Trend       *htmlTrend
}

// htmlTrend is a failing or warning rule's failed share over the runs in
// the history, drawn in the rule's samples row.
type htmlTrend struct {
	Anchor string
	Chart  trendChart
}

// htmlDrift is the drift section.
type htmlDrift struct {
	NoBaseline      bool
	NoBaselineLook  statusLook
	NoBaselineNote  string // why there is none, as a sentence
	NoBaselineShort string // for the summary: "no baseline yet" or "no usable baseline"
	Source          string
	Days            string // "7 days"
	Dates           string // "2025-03-07 … 2025-03-13"
	Gap             string // how far the baseline is, when not the days just before
	Counts          driftCounts

	Rows     []htmlDriftRow
	RowsMore int

	// Charts of the checks that warn or fail, and those of the others,
	// which the page keeps folded.
	Dists, DistsPassing   []htmlDriftChart
	Trends, TrendsPassing []htmlDriftChart
	ChartsMore            int // charts not drawn (the page's bound)
}

type htmlDriftRow struct {
	Anchor string
	Status statusLook
	Name   string
	Kind   string
	Event  string
	Field  string
	Metric string
	Value  string
	NA     bool // Value is "n/a"
	Bad    bool // the value made the check warn or fail
	Warn   string
	Fail   string
	Note   string
	Charts []htmlChartLink
}

type htmlChartLink struct {
	Anchor, Label string
}

// htmlDriftChart is a drift check's distribution or trend chart, with a
// caption that links back to its row.
type htmlDriftChart struct {
	Anchor string
	Row    string
	Status statusLook
	Name   string
	Detail string // "linf 0.230 (warn 0.100, fail 0.200)"
	Where  string // "MovieRatingEvent · rating"
	Dist   *distChart
	Trend  *trendChart
}

type htmlSample struct {
	Where string
	Value []segment
	Empty bool
}

type htmlEventType struct {
	Name   string
	Count  string
	Chart  *hourChart
	NoTime bool
}

type htmlInput struct {
	Anchor    string
	Input     string
	Path      string
	Format    string
	Bytes     string
	BytesN    string
	Events    string
	Malformed string
	Err       string
	Where     string
}

type htmlReason struct {
	Reason string
	Count  string
	Share  string
}

type htmlMalformedSample struct {
	Where  string
	Reason string
	Text   []segment
	Empty  bool
}

type htmlSchemaEvent struct {
	Event        string
	Versions     []htmlSchemaVersion
	VersionsMore int
}

type htmlSchemaVersion struct {
	Number      int
	Fingerprint string
	Fields      []htmlField
	FieldsMore  int
	Added       []htmlField
	Removed     []htmlField
	Changed     []htmlFieldChange
	ChangesMore int
	First       bool
	Files       []string
	FilesMore   int
	FileCount   int
}

type htmlField struct {
	Name, Type string
}

type htmlFieldChange struct {
	Name, From, To string
}

func text(s string, n int) string     { return show(s, n) }
func pathText(s string, n int) string { return showLeft(s, n) }

func newHTMLPage(r *audit.Result, lim htmlLimits) *htmlPage {
	p := &htmlPage{
		lim:      lim,
		CSS:      template.CSS(htmlCSS),
		Date:     text(r.Date, lim.name),
		Version:  text(r.Version, lim.name),
		Status:   lookOf(r.Status),
		ExitCode: int(r.ExitCode),
		Started:  formatTime(r.StartedAt),
		Duration: formatDuration(r.Duration),
		Workers:  r.Workers,
		Events:   formatInt(r.TotalEvents()),
		Counts:   countRules(r.Rules),
	}
	p.InputErrors = r.InputErrors()
	p.MalformedTotal = r.Malformed.Total
	p.Malformed = formatInt(r.Malformed.Total)
	p.OtherDay = strings.TrimPrefix(otherDayText(r), " · ")
	p.Headline = headline(r, p.Counts, p.InputErrors)

	rules := sortedRules(r.Rules)
	p.addRules(r, rules)
	p.addInputs(r.Inputs)
	drift := sortedDrift(r.Drift)
	p.addDrift(r, drift, rules)
	p.addAttention(rules, drift)
	p.addEventTypes(r)
	p.addMalformed(r.Malformed)
	p.addSchemas(r.Schemas)
	return p
}

// headline is the one sentence under the status: why the run has it.
func headline(r *audit.Result, c ruleCounts, inputErrors int) string {
	var s string
	switch r.Status {
	case audit.StatusError:
		s = "Some input could not be read fully, or has a writer schema the rules do not fit: the audit of this day is incomplete."
	case audit.StatusFail:
		s = "The data-quality gate failed."
		if r.ExitCode == audit.ExitPass {
			s = "The data-quality gate failed; this run exits 0 all the same (--fail-on never)."
		}
	case audit.StatusWarn:
		s = "The gate passed with warnings."
		if r.ExitCode != audit.ExitPass {
			// --fail-on warn or --warn-exit-code
			s = fmt.Sprintf("The gate passed with warnings, which make this run exit %d.", r.ExitCode)
		}
	case audit.StatusPass:
		s = "The gate passed."
	default:
		s = "The gate was not evaluated."
	}
	s += " " + plural(c.Fail, "rule failed", "rules failed") + ", " +
		plural(c.Warn, "warned", "warned") + ", " + plural(c.Pass, "passed", "passed")
	if r.DriftEnabled {
		s += "; " + driftText(r)
	}
	return s + "; " + plural(inputErrors, "input error", "input errors") + "."
}

// malformedText is "1 malformed line" or "1,234 malformed lines".
func malformedText(n int64) string {
	if n == 1 {
		return "1 malformed line"
	}
	return formatInt(n) + " malformed lines"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (p *htmlPage) addRules(r *audit.Result, rules []audit.RuleResult) {
	if len(rules) > p.lim.rules {
		p.RulesMore = len(rules) - p.lim.rules
		rules = rules[:p.lim.rules]
	}
	for i, rr := range rules {
		failed, share := failedCells(r, rr)
		hr := htmlRule{
			Anchor:      "rule-" + strconv.Itoa(i+1),
			Status:      lookOf(rr.Status),
			Name:        text(rr.Name, p.lim.name),
			Event:       text(rr.Event, p.lim.name),
			Field:       text(rr.Field, p.lim.name),
			Kind:        text(kindText(rr), p.lim.name),
			Severity:    text(rr.Severity, p.lim.name),
			Description: text(rr.Description, p.lim.err),
			Checked:     formatInt(rr.Checked),
			Failed:      failed,
			FailedN:     rr.Failed,
			FailedBad:   rr.Failed > 0 && rr.Status != audit.StatusPass,
			Open:        rr.Status == audit.StatusFail || rr.Status == audit.StatusError,
			Share:       share,
			Tolerance:   text(rr.Tolerance, p.lim.name),
		}
		samples := rr.Samples
		if len(samples) > p.lim.samples {
			hr.SamplesMore = len(samples) - p.lim.samples
			samples = samples[:p.lim.samples]
		}
		for _, s := range samples {
			hr.Samples = append(hr.Samples, htmlSample{
				Where: pathText(sampleWhere(s), p.lim.path),
				Value: segments(clip(s.Value, p.lim.text)),
				Empty: s.Value == "",
			})
		}
		p.Rules = append(p.Rules, hr)
	}
}

// addInputs lists files that could not be read first, then the others in
// the Result's order, up to p.lim.inputs.
func (p *htmlPage) addInputs(inputs []audit.FileResult) {
	p.InputsTotal = len(inputs)
	var total int64
	for _, f := range inputs {
		total += f.Bytes
	}
	p.InputBytes = formatBytes(total)
	order := make([]int, 0, len(inputs))
	for i, f := range inputs {
		if f.Err != "" {
			order = append(order, i)
		}
	}
	for i, f := range inputs {
		if f.Err == "" {
			order = append(order, i)
		}
	}
	if len(order) > p.lim.inputs {
		p.InputsMore = len(order) - p.lim.inputs
		order = order[:p.lim.inputs]
	}
	for _, i := range order {
		f := inputs[i]
		p.Inputs = append(p.Inputs, htmlInput{
			Anchor:    "input-" + strconv.Itoa(i+1),
			Input:     text(f.Input, p.lim.name),
			Path:      pathText(f.Path, p.lim.path),
			Format:    text(f.Format, p.lim.name),
			Bytes:     formatBytes(f.Bytes),
			BytesN:    formatInt(f.Bytes) + " bytes",
			Events:    formatInt(f.Events),
			Malformed: formatInt(f.Malformed),
			Err:       text(f.Err, p.lim.err),
			Where:     inputWhere(f),
		})
	}
}

// addAttention lists what broke at the top of the page: input errors,
// then failing rules and drift checks, then warning ones, each linked to
// its row.
func (p *htmlPage) addAttention(rules []audit.RuleResult, drift []audit.DriftResult) {
	type ranked struct {
		rank int
		item htmlAttention
	}
	var items []ranked
	for _, in := range p.Inputs {
		if in.Err == "" {
			continue
		}
		d := in.Err
		if in.Where != "" {
			d = in.Where + ": " + d
		}
		items = append(items, ranked{statusRank(audit.StatusError), htmlAttention{Status: lookOf(audit.StatusError), Anchor: in.Anchor, Title: in.Path, Detail: d}})
	}
	// Input errors, rules and drift checks beyond the shown rows have no
	// row to link to.
	hidden := p.InputErrors - len(items)
	bad := func(s audit.Status) bool {
		return s == audit.StatusFail || s == audit.StatusWarn || s == audit.StatusError
	}
	for i, rr := range rules {
		if !bad(rr.Status) {
			continue
		}
		if i >= len(p.Rules) {
			hidden++
			continue
		}
		hr := p.Rules[i]
		events := hr.Event + " events"
		if rr.Event == "*" || rr.Event == "" {
			events = "events"
		}
		d := fmt.Sprintf("%s of %s %s failed (%s; tolerance %s)", hr.Failed, hr.Checked, events, hr.Share, hr.Tolerance)
		if hr.Field != "" {
			d = hr.Field + ": " + d
		}
		items = append(items, ranked{statusRank(rr.Status), htmlAttention{Status: hr.Status, Anchor: hr.Anchor, Title: hr.Name, Detail: d}})
	}
	if p.Drift != nil {
		for i, dr := range drift {
			if !bad(dr.Status) {
				continue
			}
			if i >= len(p.Drift.Rows) {
				hidden++
				continue
			}
			row := p.Drift.Rows[i]
			d := row.Kind + " drift, " + driftDetail(dr, row.Metric)
			if w := driftWhere(row); w != "" {
				d = w + ": " + d
			}
			if row.Note != "" {
				d += "; " + row.Note
			}
			items = append(items, ranked{statusRank(dr.Status), htmlAttention{Status: row.Status, Anchor: row.Anchor, Title: row.Name, Detail: d}})
		}
	}
	slices.SortStableFunc(items, func(a, b ranked) int { return a.rank - b.rank })
	if len(items) > p.lim.attention {
		hidden += len(items) - p.lim.attention
		items = items[:p.lim.attention]
	}
	p.Attention = make([]htmlAttention, len(items))
	for i, it := range items {
		p.Attention[i] = it.item
	}
	p.AttentionMore = hidden
}

// driftWhere names what a drift check looked at: "MovieRatingEvent ·
// rating", an event type, or "".
func driftWhere(row htmlDriftRow) string {
	switch {
	case row.Event != "" && row.Field != "":
		return row.Event + " · " + row.Field
	case row.Event != "":
		return row.Event
	}
	return row.Field
}

// addDrift fills the drift section: the baseline, the checks worst first
// (up to lim.drift rows) and their charts. Distributions are drawn up to
// lim.distCharts, trends (of drift checks and of rules) up to
// lim.trendCharts, in order of need: checks that warn or fail, the
// trends of failing and warning rules, then checks that passed.
func (p *htmlPage) addDrift(r *audit.Result, drift []audit.DriftResult, rules []audit.RuleResult) {
	if !r.DriftEnabled {
		return
	}
	d := &htmlDrift{
		NoBaseline:      noBaseline(r),
		NoBaselineLook:  lookOf(audit.StatusNoBaseline),
		NoBaselineNote:  text(baselineSentence(r), p.lim.err),
		NoBaselineShort: "no baseline yet",
		Source:          text(r.BaselineSource, p.lim.name),
		Days:            baselineDays(r.BaselineDates),
		Dates:           dateSpan(r.BaselineDates, p.lim.name),
		Gap:             text(baselineGapSentence(r), p.lim.err),
		Counts:          countDrift(r.Drift),
	}
	if len(historyProblems(r)) > 0 {
		d.NoBaselineShort = "no usable baseline"
	}
	p.Drift = d
	shown := drift
	if len(shown) > p.lim.drift {
		d.RowsMore = len(shown) - p.lim.drift
		shown = shown[:p.lim.drift]
	}
	for i, dr := range shown {
		row := htmlDriftRow{
			Anchor: "drift-" + strconv.Itoa(i+1),
			Status: lookOf(dr.Status),
			Name:   text(dr.Name, p.lim.name),
			Kind:   text(dr.Kind, p.lim.name),
			Event:  text(dr.Event, p.lim.name),
			Field:  text(dr.Field, p.lim.name),
			Metric: text(dr.Metric, p.lim.name),
			Value:  formatMeasure(dr.Value, dr.Metric),
			NA:     math.IsNaN(dr.Value),
			Bad:    dr.Status == audit.StatusWarn || dr.Status == audit.StatusFail,
			Warn:   formatThreshold(dr.Warn, dr.Metric),
			Fail:   formatThreshold(dr.Fail, dr.Metric),
			Note:   text(dr.Note, p.lim.err),
		}
		d.Rows = append(d.Rows, row)
	}
	// Charts are drawn worst first: failing, then warning, then passing
	// (folded) checks; the rules' trends come with their tier.
	for tier := range 3 {
		for i, dr := range shown {
			if dr.Dist == nil || chartTier(dr.Status) != tier {
				continue
			}
			c, ok := p.distChart(&d.Rows[i], dr)
			switch {
			case !ok:
				d.ChartsMore++
			case tier == 2:
				d.DistsPassing = append(d.DistsPassing, c)
			default:
				d.Dists = append(d.Dists, c)
			}
		}
		p.addRuleTrends(rules, r.RuleTrends, tier)
		for i, dr := range shown {
			if len(dr.Trend) == 0 || chartTier(dr.Status) != tier {
				continue
			}
			c, ok := p.trendChart(&d.Rows[i], dr)
			switch {
			case !ok:
				d.ChartsMore++
			case tier == 2:
				d.TrendsPassing = append(d.TrendsPassing, c)
			default:
				d.Trends = append(d.Trends, c)
			}
		}
	}
	for _, dr := range drift[len(shown):] {
		if dr.Dist != nil {
			d.ChartsMore++
		}
		if len(dr.Trend) > 0 {
			d.ChartsMore++
		}
	}
}

// chartTier orders charts by need: 0 for failures, 1 for warnings, 2
// for the rest, whose charts the page folds.
func chartTier(s audit.Status) int {
	switch s {
	case audit.StatusFail, audit.StatusError:
		return 0
	case audit.StatusWarn:
		return 1
	}
	return 2
}

// take reports whether the page may draw one more chart of a kind
// (drawn so far n, at most limit), and counts it.
func take(n *int, limit int) bool {
	if *n >= limit {
		return false
	}
	*n++
	return true
}

func (p *htmlPage) distChart(row *htmlDriftRow, dr audit.DriftResult) (htmlDriftChart, bool) {
	if !take(&p.distCharts, p.lim.distCharts) {
		return htmlDriftChart{}, false
	}
	anchor := row.Anchor + "-dist"
	field := text(dr.Field, p.lim.name)
	what := "the values of " + field
	if dr.Dist.Numeric {
		what = field + " in the baseline's quantile bins"
	}
	c := newDistChart(anchor+"-svg", "Distribution of "+driftWhere(*row)+": baseline vs today", what,
		dr.Dist.Labels, dr.Dist.Base, dr.Dist.Cur, p.lim.buckets, p.lim.name)
	row.Charts = append(row.Charts, htmlChartLink{Anchor: anchor, Label: "distribution"})
	return htmlDriftChart{
		Anchor: anchor, Row: row.Anchor, Status: row.Status, Name: row.Name,
		Detail: driftDetail(dr, row.Metric), Where: driftWhere(*row), Dist: &c,
	}, true
}

func (p *htmlPage) trendChart(row *htmlDriftRow, dr audit.DriftResult) (htmlDriftChart, bool) {
	if !take(&p.trendCharts, p.lim.trendCharts) {
		return htmlDriftChart{}, false
	}
	anchor := row.Anchor + "-trend"
	var title, what string
	unit := unitValue
	switch dr.Kind {
	case audit.DriftVolume, audit.DriftOutlier:
		title, what, unit = "Events per day: "+row.Event, "events of "+row.Event+" per day", unitCount
	case audit.DriftAnomaly:
		rule := text(strings.TrimSuffix(dr.Name, ":anomaly"), p.lim.name)
		title, what, unit = "Failed share per day: "+rule, "failed share of "+rule, unitShare
	case audit.DriftMalformed:
		title, what, unit = "Malformed share per day", "share of malformed lines", unitShare
	default:
		title, what = row.Metric+" per day: "+row.Name, row.Metric+" of "+row.Name
	}
	c := newTrendChart(anchor+"-svg", title, what, dr.Trend, unit, p.lim.trendPoints, p.lim.name)
	row.Charts = append(row.Charts, htmlChartLink{Anchor: anchor, Label: "trend"})
	return htmlDriftChart{
		Anchor: anchor, Row: row.Anchor, Status: row.Status, Name: row.Name,
		Detail: driftDetail(dr, row.Metric), Where: driftWhere(*row), Trend: &c,
	}, true
}

// addRuleTrends draws the failed share over the history's runs of each
// shown rule of chartTier tier that has at least two runs; rules that
// passed (tier 2) get none.
func (p *htmlPage) addRuleTrends(rules []audit.RuleResult, trends map[string][]audit.TrendPoint, tier int) {
	if tier == 2 {
		return
	}
	for i := range p.Rules {
		rr := rules[i]
		t := trends[rr.Name]
		if len(t) < 2 || chartTier(rr.Status) != tier {
			continue
		}
		if !take(&p.trendCharts, p.lim.trendCharts) {
			if p.Drift != nil {
				p.Drift.ChartsMore++
			}
			continue
		}
		hr := &p.Rules[i]
		anchor := hr.Anchor + "-trend"
		c := newTrendChart(anchor+"-svg", "Failed share over the runs in the history: "+hr.Name, "failed share of "+hr.Name,
			t, unitShare, p.lim.trendPoints, p.lim.name)
		hr.Trend = &htmlTrend{Anchor: anchor, Chart: c}
	}
}

func (p *htmlPage) addEventTypes(r *audit.Result) {
	names := sortedKeys(r.Events)
	for name := range r.Hours {
		if _, ok := r.Events[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) > p.lim.eventTypes {
		p.EventTypesMore = len(names) - p.lim.eventTypes
		names = names[:p.lim.eventTypes]
	}
	for i, name := range names {
		et := htmlEventType{Name: text(name, p.lim.name), Count: formatInt(r.Events[name])}
		if h := r.Hours[name]; h != nil && *h != ([24]int64{}) {
			c := newHourChart("chart-"+strconv.Itoa(i+1), et.Name, *h)
			et.Chart = &c
		} else {
			et.NoTime = true
		}
		p.EventTypes = append(p.EventTypes, et)
	}
}

func (p *htmlPage) addMalformed(m audit.MalformedSummary) {
	reasons := sortedKeys(m.ByReason)
	slices.SortStableFunc(reasons, func(a, b string) int {
		return -compareInt(m.ByReason[a], m.ByReason[b])
	})
	if len(reasons) > p.lim.reasons {
		p.ReasonsMore = len(reasons) - p.lim.reasons
		reasons = reasons[:p.lim.reasons]
	}
	for _, reason := range reasons {
		n := m.ByReason[reason]
		p.Reasons = append(p.Reasons, htmlReason{Reason: text(reason, p.lim.name), Count: formatInt(n), Share: formatShare(n, m.Total)})
	}
	samples := m.Samples
	if len(samples) > p.lim.malformed {
		p.MalformedMore = len(samples) - p.lim.malformed
		samples = samples[:p.lim.malformed]
	}
	for _, s := range samples {
		p.MalformedSamples = append(p.MalformedSamples, htmlMalformedSample{
			Where:  pathText(malformedWhere(s), p.lim.path),
			Reason: text(s.Reason, p.lim.name),
			Text:   segments(clip(s.Text, p.lim.text)),
			Empty:  s.Text == "",
		})
	}
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (p *htmlPage) addSchemas(schemas map[string][]audit.SchemaSeen) {
	events := sortedKeys(schemas)
	if len(events) > p.lim.eventTypes {
		p.SchemasMore = len(events) - p.lim.eventTypes
		events = events[:p.lim.eventTypes]
	}
	budget := p.lim.allFields // fields and changes shown on the whole page
	field := func(f audit.SchemaField) htmlField {
		return htmlField{text(f.Name, p.lim.name), text(f.Type, p.lim.name)}
	}
	for _, event := range events {
		list := schemas[event]
		se := htmlSchemaEvent{Event: text(event, p.lim.name)}
		for i, s := range list {
			if i >= p.lim.versions {
				se.VersionsMore = len(list) - p.lim.versions
				break
			}
			v := htmlSchemaVersion{
				Number:      i + 1,
				Fingerprint: text(s.Fingerprint, p.lim.name),
				First:       i == 0,
				FileCount:   len(s.Files),
			}
			if i > 0 {
				d := diffFields(list[i-1].Fields, s.Fields)
				for _, f := range d.added {
					if budget > 0 {
						v.Added = append(v.Added, field(f))
						budget--
					}
				}
				for _, f := range d.removed {
					if budget > 0 {
						v.Removed = append(v.Removed, field(f))
						budget--
					}
				}
				for _, c := range d.changed {
					if budget > 0 {
						v.Changed = append(v.Changed, htmlFieldChange{text(c.name, p.lim.name), text(c.from, p.lim.name), text(c.to, p.lim.name)})
						budget--
					}
				}
				v.ChangesMore = len(d.added) + len(d.removed) + len(d.changed) - len(v.Added) - len(v.Removed) - len(v.Changed)
			}
			for j, f := range s.Fields {
				if j >= p.lim.fields || budget <= 0 {
					v.FieldsMore = len(s.Fields) - j
					break
				}
				v.Fields = append(v.Fields, field(f))
				budget--
			}
			files := s.Files
			if len(files) > p.lim.files {
				v.FilesMore = len(files) - p.lim.files
				files = files[:p.lim.files]
			}
			for _, f := range files {
				v.Files = append(v.Files, pathText(f, p.lim.path))
			}
			se.Versions = append(se.Versions, v)
		}
		p.Schemas = append(p.Schemas, se)
	}
}

// fieldDiff is what a writer schema changed from the previous version.
type fieldDiff struct {
	added, removed []audit.SchemaField
	changed        []fieldChange
}

type fieldChange struct{ name, from, to string }

// diffFields compares two versions of a writer schema by field name: what
// the newer one added, removed, or gave another type, in schema order.
func diffFields(prev, cur []audit.SchemaField) fieldDiff {
	var d fieldDiff
	old := make(map[string]string, len(prev))
	for _, f := range prev {
		old[f.Name] = f.Type
	}
	now := make(map[string]bool, len(cur))
	for _, f := range cur {
		now[f.Name] = true
		t, ok := old[f.Name]
		switch {
		case !ok:
			d.added = append(d.added, f)
		case t != f.Type:
			d.changed = append(d.changed, fieldChange{f.Name, t, f.Type})
		}
	}
	for _, f := range prev {
		if !now[f.Name] {
			d.removed = append(d.removed, f)
		}
	}
	return d
}
