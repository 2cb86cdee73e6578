package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/rules"
)

// PartialVersion is the version of a partial file's layout. Version 2
// streams the keys of unique rules after the document, one per line,
// instead of holding them in it; version 3 hashes the parsed config (see
// ConfigHash), not the file's bytes.
const PartialVersion = 3

// PartialMeta identifies a partial: which run of which config it belongs
// to and which shard it is.
type PartialMeta struct {
	ConfigHash string `json:"config_hash"` // see ConfigHash
	Date       string `json:"date"`
	PlanHash   string `json:"plan_hash"` // of the planned files, so all shards saw one archive
	Shard      int    `json:"shard"`
	Shards     int    `json:"shards"`
}

// ConfigHash is the SHA-256 of the config's canonical text (see
// rules.Config.Canonical): the same for configs that differ only in
// comments, layout, quoting or key order, which give the same results,
// and different when a setting differs, so that merge refuses the shards
// of another config and accepts those of a copy whose comments were
// edited.
func ConfigHash(cfg *rules.Config) string {
	return fmt.Sprintf("%x", sha256.Sum256(cfg.Canonical()))
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
}

type partialSample struct {
	Pos   Position `json:"pos"`
	Value string   `json:"value"`
}

// partialKey is one key of a unique rule, on a line of its own after the
// document; the last line, partialEnd, counts them, so that a cut file is
// refused rather than merged short of keys.
type partialKey struct {
	Check int        `json:"check"`
	Key   [2]uint64  `json:"k"`
	Count int64      `json:"n"`
	First Position   `json:"first"`
	More  []Position `json:"more,omitempty"`
}

type partialEnd struct {
	Keys int64 `json:"end_keys"`
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
// part's keys of unique rules: call it once. It stops when ctx ends.
func (p *Part) Encode(ctx context.Context, w io.Writer, meta PartialMeta) error {
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
	for _, c := range a.checks {
		pc := partialCheck{Checked: c.checked, Failed: c.failed, Samples: []partialSample{}}
		for _, it := range c.samples.items {
			pc.Samples = append(pc.Samples, partialSample{it.Pos, it.Item})
		}
		doc.Checks = append(doc.Checks, pc)
	}
	doc.Malformed = partialMalformed{Total: a.malformed, Reasons: a.malformedReasons, Samples: []partialBad{}}
	for _, it := range a.malformedSamples.items {
		doc.Malformed.Samples = append(doc.Malformed.Samples, partialBad{it.Pos, it.Item.reason, it.Item.text})
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(doc); err != nil {
		a.close()
		return err
	}
	var keys int64
	for i, u := range a.uniq {
		if u == nil {
			continue
		}
		var werr error
		err := u.each(ctx, func(key [2]uint64, count int64, pos []Position) {
			if werr == nil {
				werr = enc.Encode(partialKey{Check: i, Key: key, Count: count, First: pos[0], More: pos[1:]})
				keys++
			}
		})
		if err = cmp.Or(werr, err); err != nil {
			a.close()
			return fmt.Errorf("unique rule %q: %w", p.cfg.book.Checks[i].Name, err)
		}
	}
	return enc.Encode(partialEnd{Keys: keys})
}

// DecodePart reads a partial file written by Encode for the same book and
// sample limits. It checks the layout; accept (if not nil) checks the
// meta, before the layout, so that a partial of another run is refused as
// such rather than for a layout that does not fit this one.
func DecodePart(r io.Reader, plan *Plan, book *rules.Book, opts Options, accept func(PartialMeta) error) (*Part, PartialMeta, error) {
	var doc partialDoc
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, PartialMeta{}, fmt.Errorf("not a dqaudit partial: %w", err)
	}
	if doc.Version != PartialVersion {
		return nil, PartialMeta{}, fmt.Errorf("partial_version %d, this dqaudit reads %d", doc.Version, PartialVersion)
	}
	if accept != nil {
		if err := accept(doc.PartialMeta); err != nil {
			return nil, PartialMeta{}, err
		}
	}
	if len(doc.Checks) != len(book.Checks) || doc.Profile == nil {
		return nil, PartialMeta{}, fmt.Errorf("partial has %d checks, the config %d", len(doc.Checks), len(book.Checks))
	}
	cfg := newScanConfig(book, opts, plan.Date)
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
	if err := decodeKeys(dec, a, book, inPlan); err != nil {
		a.close()
		return nil, PartialMeta{}, err
	}
	return p, doc.PartialMeta, nil
}

// decodeKeys reads the key lines that follow a partial's document into
// a's unique rules, up to the line that ends them.
func decodeKeys(dec *json.Decoder, a *accumulator, book *rules.Book, inPlan func(Position) error) error {
	var keys int64
	for {
		var line struct {
			partialKey
			End *int64 `json:"end_keys"`
		}
		switch err := dec.Decode(&line); {
		case err == io.EOF:
			return errors.New("partial is cut short: its keys of unique rules do not end")
		case err != nil:
			return fmt.Errorf("partial: key %d of unique rules: %w", keys+1, err)
		}
		if line.End != nil {
			if *line.End != keys {
				return fmt.Errorf("partial ends after %d keys of unique rules, but says %d", keys, *line.End)
			}
			if dec.More() {
				return errors.New("partial has data after its end")
			}
			return nil
		}
		k := line.partialKey
		keys++
		if k.Check < 0 || k.Check >= len(book.Checks) || a.uniq[k.Check] == nil {
			return fmt.Errorf("partial has a key for check %d, which is not a unique rule", k.Check)
		}
		// The key's occurrences beyond First and More lie after them:
		// they count, but never as samples.
		if k.Count < int64(1+len(k.More)) {
			return fmt.Errorf("partial has a key of rule %q with count %d and %d positions", book.Checks[k.Check].Name, k.Count, 1+len(k.More))
		}
		for _, pos := range append([]Position{k.First}, k.More...) {
			if err := inPlan(pos); err != nil {
				return err
			}
		}
		u := a.uniq[k.Check]
		u.add(k.Key, k.First, k.Count-int64(len(k.More)))
		for _, pos := range k.More {
			u.add(k.Key, pos, 1)
		}
	}
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
