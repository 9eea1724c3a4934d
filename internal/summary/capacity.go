package summary

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"servebench/internal/record"
	"servebench/internal/stats"
)

// searchMark is what a capacity search wrote into its records.
type searchMark struct {
	dim, slo   string
	minGoodput float64
}

// sloFor is the SLO r is judged by: WithSLO's when given, else the
// objectives of the capacity search that made r (search_slo), so that a
// search is summarized by its own objectives unless --slo asks for others.
// It notes the search's marks in g.
func (a *Aggregator) sloFor(r *record.Record, g *group) SLO {
	if r.Search != "" && g.search.dim == "" {
		g.search = searchMark{r.Search, r.SearchSLO, r.SearchMinGoodput}
	}
	if !a.slo.IsZero() || r.SearchSLO == "" {
		return a.slo
	}
	slo, ok := a.searchSLOs[r.SearchSLO]
	if !ok {
		slo, _ = ParseSLO(r.SearchSLO) // one genload did not write: no objectives
		if a.searchSLOs == nil {
			a.searchSLOs = map[string]SLO{}
		}
		a.searchSLOs[r.SearchSLO] = slo
	}
	return slo
}

// seqMet is one measured request of a search: its seq, and whether it met
// the SLO.
type seqMet struct {
	seq int
	met bool
}

// noteOutcome keeps the outcome of a search's measured request.
func (g *group) noteOutcome(seq int, met bool) {
	if g.search.dim != "" {
		g.outcomes = append(g.outcomes, seqMet{seq, met})
	}
}

// outcomesBySeq are the kept outcomes in seq order.
func (g *group) outcomesBySeq() []bool {
	if len(g.outcomes) == 0 {
		return nil
	}
	slices.SortStableFunc(g.outcomes, func(a, b seqMet) int { return a.seq - b.seq })
	out := make([]bool, len(g.outcomes))
	for i, o := range g.outcomes {
		out[i] = o.met
	}
	return out
}

// sloOr is the SLO the group was judged by: def when set, else its search's.
func (g *group) sloOr(def SLO) SLO {
	if !def.IsZero() || g.search.slo == "" {
		return def
	}
	slo, _ := ParseSLO(g.search.slo)
	return slo
}

// Capacity is the answer of one capacity search (genload --search), found
// from its groups alone, as genload found it: every load point probed is
// judged by stats.OutcomesVerdict on its requests' outcomes in seq order
// (its runs pooled, as they share the group), the lowest load that did not pass is Failed, and
// the highest that passed below it is the capacity. Judged by other
// objectives (--slo) the answer changes without a new run, within the
// loads the search happened to probe.
type Capacity struct {
	RunID, Label string
	Search       string  // record.SearchRate or record.SearchConcurrency
	SLO          string  // the objectives judged by (SLO.String)
	MinGoodput   float64 // the share of good requests a load needed
	// Capacity is the highest load that passed below Failed, the lowest
	// that did not; each NaN when there is none.
	Capacity, Failed float64
	Loads            []CapacityLoad // ascending
	// Row sums the search's measured requests for a CSV row: its load point
	// is the capacity's, its slo_met_ratio the goodput ratio there.
	Row Group
}

// CapacityLoad is one load a search probed.
type CapacityLoad struct {
	Load         float64
	Good, N      int
	Ratio        float64 // Good / N
	Verdict      stats.Verdict
	DesignEffect float64 // stats.OutcomesVerdict's
	outcomes     []bool
}

// Unit is the unit of the search's loads.
func (c *Capacity) Unit() string { return record.SearchUnit(c.Search) }

// String is the answer in genload's words: "capacity 4 users (85% goodput
// for ttft<=100ms); 4-5 bracket; 5 loads".
func (c *Capacity) String() string {
	slo := record.SLOText(c.SLO)
	what := fmt.Sprintf("(%s%% goodput for %s)", strconv.FormatFloat(100*c.MinGoodput, 'f', -1, 64), slo)
	load := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	var s string
	switch {
	case math.IsNaN(c.Capacity) && math.IsNaN(c.Failed):
		s = "capacity unknown " + what + "; no load judged"
	case math.IsNaN(c.Capacity):
		s = fmt.Sprintf("capacity below %s %s %s; even the lowest load failed", load(c.Failed), c.Unit(), what)
	case math.IsNaN(c.Failed):
		s = fmt.Sprintf("capacity at least %s %s %s; the highest load passed", load(c.Capacity), c.Unit(), what)
	default:
		s = fmt.Sprintf("capacity %s %s %s; %s-%s bracket", load(c.Capacity), c.Unit(), what, load(c.Capacity), load(c.Failed))
	}
	return fmt.Sprintf("%s; %d %s", s, len(c.Loads), plural(len(c.Loads), "load"))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Capacities finds the answer of every capacity search among groups (those
// with Search set), one per run and label, in the groups' order. A group
// without an SLO (a search whose records carry none) has no answer.
func Capacities(groups []Group) []Capacity {
	type key struct{ run, label string }
	var order []key
	byKey := map[key][]*Group{}
	for i := range groups {
		g := &groups[i]
		if g.Search == "" || g.Requests == 0 || g.SLO == "" {
			continue
		}
		k := key{g.RunID, g.Label}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], g)
	}
	var out []Capacity
	for _, k := range order {
		out = append(out, capacityOf(byKey[k]))
	}
	return out
}

// capacityOf judges the groups of one search.
func capacityOf(gs []*Group) Capacity {
	first := gs[0]
	c := Capacity{RunID: first.RunID, Label: first.Label, Search: first.Search, SLO: first.SLO,
		MinGoodput: first.SearchMinGoodput, Capacity: math.NaN(), Failed: math.NaN()}
	loadOf := func(g *Group) float64 {
		if c.Search == record.SearchRate {
			return g.Rate
		}
		return float64(g.Concurrency)
	}
	at := map[float64]*CapacityLoad{}
	for _, g := range gs { // the groups of one load: models of a mix
		l := at[loadOf(g)]
		if l == nil {
			l = &CapacityLoad{Load: loadOf(g)}
			at[l.Load] = l
		}
		l.outcomes = append(l.outcomes, g.SearchOutcomes...) // a mix's models one after another
	}
	for _, l := range at {
		j := stats.OutcomesVerdict(l.outcomes, c.MinGoodput)
		l.Good, l.N, l.Verdict, l.DesignEffect = j.Good, j.N, j.Verdict, j.DesignEffect
		l.Ratio = float64(l.Good) / float64(max(l.N, 1))
		l.outcomes = nil
		c.Loads = append(c.Loads, *l)
	}
	slices.SortFunc(c.Loads, func(a, b CapacityLoad) int { return cmpFloat(a.Load, b.Load) })
	for _, l := range c.Loads {
		if l.Verdict != stats.Pass {
			c.Failed = l.Load
			break
		}
		c.Capacity = l.Load
	}
	c.Row = capacityRow(&c, gs, loadOf)
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// capacityRow is the search as one Group for a CSV row: the run's
// identity, the capacity's load point, the counts of every measured
// request of the search, the span from its first send to its last
// completion, and the goodput ratio at the capacity. Latency metrics are
// left empty: they belong to each load.
func capacityRow(c *Capacity, gs []*Group, loadOf func(*Group) float64) Group {
	nan := math.NaN()
	first := gs[0]
	row := Group{RunID: c.RunID, Point: Point{Label: c.Label}, Model: first.Model, Server: first.Server,
		Endpoint: first.Endpoint, Stream: first.Stream, MaxTokens: first.MaxTokens, Errors: make([]int, len(first.Errors)),
		DurationS: nan, ReqPerS: nan, OutputTokPerS: nan, TotalTokPerS: nan, InputTokPerS: nan, SLO: c.SLO,
		GoodputReqPerS: nan, SLOMetRatio: nan, MeanPromptTokens: nan, MeanOutputTokens: nan,
		Search: c.Search, SearchMinGoodput: c.MinGoodput, IsCapacity: true}
	var end time.Time
	for _, g := range gs {
		row.Requests += g.Requests
		row.OK += g.OK
		row.Failed += g.Failed
		row.ErrorsOther += g.ErrorsOther
		for i := range min(len(row.Errors), len(g.Errors)) {
			row.Errors[i] += g.Errors[i]
		}
		row.Warmup += g.Warmup
		if !g.StartTime.IsZero() && (row.StartTime.IsZero() || g.StartTime.Before(row.StartTime)) {
			row.StartTime = g.StartTime
		}
		if !g.StartTime.IsZero() && !math.IsNaN(g.DurationS) {
			if e := g.StartTime.Add(time.Duration(g.DurationS * float64(time.Second))); e.After(end) {
				end = e
			}
		}
		if loadOf(g) == c.Capacity {
			row.Concurrency, row.Rate = g.Concurrency, g.Rate
		}
	}
	if !row.StartTime.IsZero() && end.After(row.StartTime) {
		row.DurationS = end.Sub(row.StartTime).Seconds()
	}
	for _, l := range c.Loads {
		if l.Load == c.Capacity {
			row.SLOMet, row.SLOMetRatio = l.Good, l.Ratio
		}
	}
	row.Capacity, row.CapacityFailed = c.Capacity, c.Failed
	return row
}
