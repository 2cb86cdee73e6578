package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/rules"
)

// PartialVersion is the version of a partial file's layout.
const PartialVersion = 1

// PartialMeta identifies a partial: which run of which config it belongs
// to and which shard it is.
type PartialMeta struct {
	ConfigHash string `json:"config_hash"` // of the config file's bytes
	Date       string `json:"date"`
	PlanHash   string `json:"plan_hash"` // of the planned files, so all shards saw one archive
	Shard      int    `json:"shard"`
	Shards     int    `json:"shards"`
}

// partialDoc is a Part on disk. Positions are indices into the plan, which
// every shard computes alike from the config and the date.
type partialDoc struct {
	Version int `json:"partial_version"`
	PartialMeta
	Workers   int              `json:"workers"`
	Files     []partialFile    `json:"files"`
	Events    int64            `json:"events"`
	Checks    []partialCheck   `json:"checks"`
	Malformed partialMalformed `json:"malformed"`
	Profile   *profile.Profile `json:"profile"`
}

type partialFile struct {
	Index        int             `json:"index"`
	Result       FileResult      `json:"result"`
	Schemas      []partialSchema `json:"schemas"`
	GunzipReread string          `json:"gunzip_reread,omitempty"`
}

type partialSchema struct {
	Event       string        `json:"event"`
	Fingerprint string        `json:"fingerprint"`
	Fields      []rules.Field `json:"fields"`
}

type partialCheck struct {
	Checked int64           `json:"checked"`
	Failed  int64           `json:"failed"`
	Samples []partialSample `json:"samples"`
	Keys    []partialKey    `json:"keys,omitempty"` // unique rules
}

type partialSample struct {
	Pos   Position `json:"pos"`
	Value string   `json:"value"`
}

type partialKey struct {
	Key   [2]uint64  `json:"k"`
	Count int64      `json:"n"`
	First Position   `json:"first"`
	More  []Position `json:"more,omitempty"`
}

type partialMalformed struct {
	Total   int64            `json:"total"`
	Reasons map[string]int64 `json:"reasons"`
	Samples []partialBad     `json:"samples"`
}

type partialBad struct {
	Pos    Position `json:"pos"`
	Reason string   `json:"reason"`
	Text   string   `json:"text"`
}

// Encode writes the part as a versioned partial file. It consumes the
// part's keys of unique rules: call it once.
func (p *Part) Encode(w io.Writer, meta PartialMeta) error {
	a := p.acc
	a.countChecked() // as in ruleResults
	doc := partialDoc{Version: PartialVersion, PartialMeta: meta, Workers: p.workers, Events: a.events,
		Profile: a.dayProfile(), Files: []partialFile{}}
	for _, i := range slices.Sorted(maps.Keys(p.files)) {
		pf := partialFile{Index: i, Result: p.files[i], Schemas: []partialSchema{}, GunzipReread: p.infos[i].GunzipReread}
		for _, ws := range p.infos[i].Schemas {
			pf.Schemas = append(pf.Schemas, partialSchema{Event: ws.Event, Fingerprint: ws.Fingerprint, Fields: ws.Fields})
		}
		doc.Files = append(doc.Files, pf)
	}
	for i, c := range a.checks {
		pc := partialCheck{Checked: c.checked, Failed: c.failed, Samples: []partialSample{}}
		for _, it := range c.samples.items {
			pc.Samples = append(pc.Samples, partialSample{it.Pos, it.Item})
		}
		if u := a.uniq[i]; u != nil {
			err := u.each(func(key [2]uint64, count int64, pos []Position) {
				pc.Keys = append(pc.Keys, partialKey{Key: key, Count: count, First: pos[0], More: slices.Clone(pos[1:])})
			})
			if err != nil {
				return fmt.Errorf("unique rule %q: %w", p.cfg.book.Checks[i].Name, err)
			}
		}
		doc.Checks = append(doc.Checks, pc)
	}
	doc.Malformed = partialMalformed{Total: a.malformed, Reasons: a.malformedReasons, Samples: []partialBad{}}
	for _, it := range a.malformedSamples.items {
		doc.Malformed.Samples = append(doc.Malformed.Samples, partialBad{it.Pos, it.Item.reason, it.Item.text})
	}
	return json.NewEncoder(w).Encode(doc)
}

// DecodePart reads a partial file written by Encode for the same book and
// sample limits. It checks the layout, not the meta: the caller compares
// PartialMeta with its own run.
func DecodePart(r io.Reader, plan *Plan, book *rules.Book, opts Options) (*Part, PartialMeta, error) {
	var doc partialDoc
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, PartialMeta{}, fmt.Errorf("not a dqaudit partial: %w", err)
	}
	if doc.Version != PartialVersion {
		return nil, PartialMeta{}, fmt.Errorf("partial_version %d, this dqaudit reads %d", doc.Version, PartialVersion)
	}
	if len(doc.Checks) != len(book.Checks) || doc.Profile == nil {
		return nil, PartialMeta{}, fmt.Errorf("partial has %d checks, the config %d", len(doc.Checks), len(book.Checks))
	}
	cfg := newScanConfig(book, opts)
	a := newAccumulator(cfg)
	a.events = doc.Events
	a.merged = doc.Profile
	inPlan := func(pos Position) error {
		if pos.File < 0 || int(pos.File) >= len(plan.Files) {
			return fmt.Errorf("partial refers to file %d, the plan has %d", pos.File, len(plan.Files))
		}
		return nil
	}
	for i, pc := range doc.Checks {
		c := &a.checks[i]
		c.checked, c.failed = pc.Checked, pc.Failed
		for _, s := range pc.Samples {
			if err := inPlan(s.Pos); err != nil {
				return nil, PartialMeta{}, err
			}
			c.samples.add(s.Pos, s.Value)
		}
		if len(pc.Keys) > 0 && a.uniq[i] == nil {
			return nil, PartialMeta{}, fmt.Errorf("partial has keys for rule %q, which is not unique", book.Checks[i].Name)
		}
		for _, k := range pc.Keys {
			// The key's occurrences beyond First and More lie after them:
			// they count, but never as samples.
			if k.Count < int64(1+len(k.More)) {
				return nil, PartialMeta{}, fmt.Errorf("partial has a key of rule %q with count %d and %d positions", book.Checks[i].Name, k.Count, 1+len(k.More))
			}
			for _, pos := range append([]Position{k.First}, k.More...) {
				if err := inPlan(pos); err != nil {
					return nil, PartialMeta{}, err
				}
			}
			a.uniq[i].add(k.Key, k.First, k.Count-int64(len(k.More)))
			for _, pos := range k.More {
				a.uniq[i].add(k.Key, pos, 1)
			}
		}
	}
	a.malformed = doc.Malformed.Total
	maps.Copy(a.malformedReasons, doc.Malformed.Reasons)
	for _, s := range doc.Malformed.Samples {
		if err := inPlan(s.Pos); err != nil {
			return nil, PartialMeta{}, err
		}
		a.malformedSamples.add(s.Pos, malformedItem{reason: s.Reason, text: s.Text})
	}
	p := &Part{cfg: cfg, acc: a, files: map[int]FileResult{}, infos: map[int]FileInfo{}, workers: doc.Workers}
	for _, f := range doc.Files {
		if err := inPlan(Position{File: int32(f.Index)}); err != nil {
			return nil, PartialMeta{}, err
		}
		info := FileInfo{GunzipReread: f.GunzipReread}
		for _, s := range f.Schemas {
			info.Schemas = append(info.Schemas, WriterSchema{Event: s.Event, Fingerprint: s.Fingerprint, Fields: s.Fields})
		}
		p.files[f.Index], p.infos[f.Index] = f.Result, info
	}
	return p, doc.PartialMeta, nil
}

// Shard returns the indices of the plan's files that shard i of n scans:
// files are dealt largest first to the shard with the fewest bytes so far
// (ties by path, then by shard number), so the assignment is stable for a
// given archive and balanced by size.
func (p *Plan) Shard(i, n int) []int {
	order := make([]int, len(p.Files))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(p.Files[b].Size, p.Files[a].Size), cmp.Compare(p.Files[a].Path, p.Files[b].Path))
	})
	load := make([]int64, n)
	var mine []int
	for _, k := range order {
		s := 0
		for j := 1; j < n; j++ {
			if load[j] < load[s] {
				s = j
			}
		}
		load[s] += max(p.Files[k].Size, 1)
		if s == i {
			mine = append(mine, k)
		}
	}
	slices.Sort(mine)
	return mine
}
