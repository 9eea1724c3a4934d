package load

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"servebench/internal/record"
	"servebench/internal/setting"
	"servebench/internal/stats"
)

// Search is a capacity search: the highest load (a request rate, or a
// number of closed-loop users) at which the share of good requests stays
// at least MinGoodput. Each probed load is a normal load point (warmup,
// then Requests or Duration measured); the search narrows the bracket
// between the highest load that passed and the lowest that failed:
//
//  1. Bounds. A zero Min or Max comes from a probe: one serial request,
//     whose latency S is the service time. A server that serves one
//     request at a time saturates at 1/S req/s, so the rate search starts
//     at Min = 0.5/S and may go up to Max = 1000/S (a server batching up to
//     a thousand requests); the concurrency search starts at 1 user, up to
//     1024.
//  2. Expansion: Min, then doubling, until a load fails (or Max passes).
//  3. Bisection between the highest pass and the lowest fail, until the
//     two are within Precision of each other (relative; for users, also
//     until they are neighbours).
//
// A load point passes or fails by stats.RatioVerdict: the one-sided 95%
// Wilson interval of its goodput ratio (good / measured attempts,
// failures counted as not good) must lie wholly above MinGoodput to pass,
// wholly below to fail. When it straddles, the point is run again and its
// counts pooled, up to MaxRuns runs; a point still unclear then counts as
// failing, so a lucky run near the threshold never passes.
type Search struct {
	Dim        string                    // record.SearchRate or record.SearchConcurrency
	SLO        string                    // the objectives, as summarize's --slo writes them (summary.SLO.String)
	Good       func(*record.Record) bool // whether a measured request met the SLO
	MinGoodput float64                   // the share of good requests a point needs to pass, 0 < R < 1
	Min, Max   float64                   // the bounds searched; 0: from the probe
	Precision  float64                   // relative width of the final bracket, e.g. 0.05
	MaxRuns    int                       // runs of one load point while its verdict is unclear; 0: DefaultSearchRuns
	// QueueLimit is the longest wait in a queue the SLO allows (its
	// largest limit of ttft, ttfo, e2e and sched_e2e; 0 for tpot alone),
	// which sets how long a rate point must last to show an overload (see
	// minWindow).
	QueueLimit time.Duration
}

// maxLengthen bounds how many times --requests a rate point is lengthened
// to by minWindow.
const maxLengthen = 20

// minWindow is how long a rate point must be measured for an overload
// within the search's precision to break the SLO. Past saturation by a
// share e, the queue grows and a request arriving t into the point waits
// about e·t more than at the start, so requests break a limit L from
// t = L/e on; over a window T the share that still meet it is at least
// L/(e·T), which must fall below MinGoodput for the point to fail:
//
//	T > L / (e · MinGoodput),  e = Precision
//
// A shorter point passes an overloaded server (40 requests at 1.2 times
// saturation can all be good: the queue had no time to grow). Closed
// loops need no such length: their users wait from the second round on.
func (s *Search) minWindow() time.Duration {
	if s.Dim != record.SearchRate || s.QueueLimit == 0 {
		return 0
	}
	return time.Duration(math.Round(float64(s.QueueLimit) / (s.Precision * s.MinGoodput)))
}

// requestsAt is how many requests a rate point at load measures: at least
// --requests, and enough to last minWindow (at most maxLengthen times
// --requests); 0 with --duration (the window is the duration).
func (s *Search) requestsAt(load float64, c *Config) (n int, short bool) {
	if c.Requests == 0 {
		return 0, c.Duration < s.minWindow()
	}
	need := int(math.Ceil(load * s.minWindow().Seconds()))
	if need <= c.Requests {
		return c.Requests, false
	}
	return min(need, maxLengthen*c.Requests), need > maxLengthen*c.Requests
}

// Search defaults.
const (
	DefaultSearchRuns      = 3
	DefaultSearchPrecision = 0.05
	maxSearchUsers         = 1024
	maxSearchPoints        = 64 // load points probed at most: the bisection ends long before
)

func (s *Search) validate(c *Config) error {
	switch {
	case s.Dim != record.SearchRate && s.Dim != record.SearchConcurrency:
		return setting.Errorf("{Search} %q: want rate or concurrency", s.Dim)
	case s.Good == nil || s.SLO == "":
		return setting.Errorf("{Search} needs objectives: give {SearchSLO} such as ttft=500,tpot=50")
	case !(s.MinGoodput > 0 && s.MinGoodput < 1):
		return setting.Errorf("{MinGoodput} %v: want a share above 0 and below 1, such as 0.95", s.MinGoodput)
	case s.Min < 0 || s.Max < 0 || (s.Max > 0 && s.Min > s.Max):
		return setting.Errorf("{SearchMin} %v and {SearchMax} %v: want 0 < min <= max", s.Min, s.Max)
	case s.Dim == record.SearchConcurrency && (s.Min != math.Trunc(s.Min) || s.Max != math.Trunc(s.Max)):
		return setting.Errorf("{SearchMin} and {SearchMax} of a concurrency search are whole numbers of users")
	case !(s.Precision > 0 && s.Precision < 1):
		return setting.Errorf("{SearchPrecision} %v: want a relative width above 0%% and below 100%%, such as 5%%", s.Precision)
	case s.MaxRuns < 0:
		return setting.Errorf("{SearchRuns} %d: cannot be negative", s.MaxRuns)
	case len(c.Rates) > 0 || len(c.Concurrencies) > 1:
		return setting.Errorf("{Search} chooses the load points itself: give no {Rates} or {Concurrencies} (cap a rate search's requests in flight with {MaxConcurrency})")
	case s.Dim == record.SearchConcurrency && c.MaxConcurrency > 0:
		return setting.Errorf("{MaxConcurrency} is for a rate search")
	}
	if s.MaxRuns == 0 {
		s.MaxRuns = DefaultSearchRuns
	}
	return nil
}

// poolPoints are the load points the connection pool is sized for.
func (c *Config) poolPoints() []Point {
	if s := c.Search; s != nil {
		if s.Dim == record.SearchConcurrency {
			return []Point{{Concurrency: int(max(s.Max, maxSearchUsers))}}
		}
		return []Point{{Rate: 1, Concurrency: c.MaxConcurrency}}
	}
	return c.Points
}

// SearchResult is a search's answer.
type SearchResult struct {
	Dim        string
	SLO        string
	MinGoodput float64
	// Capacity is the highest load that passed; 0 when none did (even
	// Min failed). Failed is the lowest load that failed; 0 when none did
	// (Max passed: the capacity is at least Max). The truth lies between.
	Capacity, Failed float64
	Min, Max         float64 // the bounds searched
	ServiceMs        float64 // the probe's latency; 0 without a probe
	Probes           []Probe // the loads judged, in order
	Points           int     // load points run, repeats included
	Elapsed          time.Duration
}

// Probe is one load the search judged, over its runs pooled.
type Probe struct {
	Load          float64
	Good, N, Runs int
	Verdict       stats.Verdict // Unclear after MaxRuns counts as failing
	DesignEffect  float64       // stats.OutcomesVerdict's: how clustered the outcomes were
	outcomes      []bool        // by seq, the runs one after another
}

// outcomeLog collects whether each measured request of a load point was
// good, by seq, as workers finish them.
type outcomeLog struct {
	mu   sync.Mutex
	seqs []seqGood
}

type seqGood struct {
	seq  int
	good bool
}

func (l *outcomeLog) add(seq int, good bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seqs = append(l.seqs, seqGood{seq, good})
}

// take returns the outcomes logged since the last take, in seq order:
// the order the requests were sent, which OutcomesVerdict's batches need.
func (l *outcomeLog) take() []bool {
	l.mu.Lock()
	seqs := l.seqs
	l.seqs = nil
	l.mu.Unlock()
	slices.SortFunc(seqs, func(a, b seqGood) int { return a.seq - b.seq })
	out := make([]bool, len(seqs))
	for i, s := range seqs {
		out[i] = s.good
	}
	return out
}

// Point is the load point of load.
func (s *Search) point(load float64, c *Config) Point {
	if s.Dim == record.SearchRate {
		return Point{Rate: load, Concurrency: c.MaxConcurrency}
	}
	return Point{Concurrency: int(load)}
}

// Unit is the load's unit in people's words.
func (r *SearchResult) Unit() string { return record.SearchUnit(r.Dim) }

// String is the answer as genload prints it: "capacity 7.6 req/s (95%
// goodput for ttft<=500ms,tpot<=50ms); 7.6-8 bracket; 9 load points,
// 3m12s".
func (r *SearchResult) String() string {
	slo := record.SLOText(r.SLO)
	what := fmt.Sprintf("(%s goodput for %s)", FormatPercent(r.MinGoodput), slo)
	var answer, bracket string
	switch {
	case r.Capacity == 0 && r.Failed == 0:
		answer, bracket = "capacity unknown "+what, "no load point judged"
	case r.Capacity == 0:
		answer, bracket = fmt.Sprintf("capacity below %s %s %s", FormatLoad(r.Failed), r.Unit(), what), "even the lowest load searched failed"
	case r.Failed == 0:
		answer, bracket = fmt.Sprintf("capacity at least %s %s %s", FormatLoad(r.Capacity), r.Unit(), what), "the highest load searched passed"
	default:
		answer = fmt.Sprintf("capacity %s %s %s", FormatLoad(r.Capacity), r.Unit(), what)
		bracket = fmt.Sprintf("%s-%s bracket", FormatLoad(r.Capacity), FormatLoad(r.Failed))
	}
	return fmt.Sprintf("%s; %s; %d load points, %s", answer, bracket, r.Points, r.Elapsed.Round(time.Second))
}

// FormatLoad writes a load with at most 3 significant digits past the
// integer part: 7.6, 12.5, 140, 4.
func FormatLoad(v float64) string { return strconv.FormatFloat(v, 'g', max(3, digits(v)), 64) }

func digits(v float64) int {
	if v < 1 {
		return 1
	}
	return int(math.Floor(math.Log10(v))) + 1
}

// FormatPercent writes a share as a percentage: 0.95 is 95%, 0.995 99.5%.
func FormatPercent(v float64) string { return strconv.FormatFloat(100*v, 'f', -1, 64) + "%" }

// roundLoad rounds a rate to 3 significant digits, so that records and
// reports carry 7.6 rather than 7.5937500001.
func roundLoad(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	if err != nil || v < 1 {
		return v
	}
	return r
}

// searchStep is one run of a load point, as Run's loop runs it.
type searchStep func(i int, pt Point) (pr PointResult, ran bool, err error)

// search runs the capacity search of cfg.Search with run, and says on
// stderr how each load point was judged.
func (r *runner) search(cfg *Config, run searchStep, pause, resume func()) (*SearchResult, error) {
	s := cfg.Search
	start := time.Now()
	res := &SearchResult{Dim: s.Dim, SLO: s.SLO, MinGoodput: s.MinGoodput, Min: s.Min, Max: s.Max}
	say := func(format string, args ...any) {
		if !cfg.Quiet {
			pause()
			fmt.Fprintf(r.stderr, "genload: search: "+format+"\n", args...)
			resume()
		}
	}
	defer func() { res.Elapsed = time.Since(start) }()
	if err := r.searchBounds(cfg, res, say); err != nil {
		return res, err
	}
	if need := stats.MinPassing(s.MinGoodput); cfg.Requests > 0 && cfg.Duration == 0 && cfg.Requests*s.MaxRuns < need {
		say("warning: passing %s goodput takes at least %d measured requests, and a point gets at most %d (%d runs of %d): every point will fail; raise --requests",
			FormatPercent(s.MinGoodput), need, cfg.Requests*s.MaxRuns, s.MaxRuns, cfg.Requests)
	}
	requests := cfg.Requests
	defer func() { cfg.Requests = requests }()
	warned := false
	judge := func(load float64) (bool, error) {
		p := Probe{Load: load}
		pt := s.point(load, cfg)
		n, short := s.requestsAt(load, &Config{Requests: requests, Duration: cfg.Duration})
		if short && !warned {
			warned = true
			say("warning: a point shorter than %v cannot show an overload within %s (the queue needs that long to break the SLO): lengthen --duration or raise --requests",
				s.minWindow().Round(time.Millisecond), FormatPercent(s.Precision))
		}
		if requests > 0 {
			cfg.Requests = n // Run's loop reads it: this point measures n
		}
		for p.Runs < s.MaxRuns {
			_, ran, err := run(res.Points, pt)
			if err != nil || !ran || r.stop.Err() != nil {
				return false, err // a stopped point is not judged: the run ends
			}
			res.Points++
			p.Runs++
			p.outcomes = append(p.outcomes, r.outcomes.take()...)
			j := stats.OutcomesVerdict(p.outcomes, s.MinGoodput)
			p.Good, p.N, p.Verdict, p.DesignEffect = j.Good, j.N, j.Verdict, j.DesignEffect
			lo, hi := j.Lo, j.Hi
			note := ""
			if p.Verdict == stats.Unclear {
				note = fmt.Sprintf(": repeating (run %d of %d)", p.Runs+1, s.MaxRuns)
				if p.Runs == s.MaxRuns {
					note = fmt.Sprintf(": still unclear after %d runs, counted as failing", p.Runs)
				}
			}
			clustered := ""
			if p.DesignEffect > 1 {
				clustered = fmt.Sprintf(", clustered: as %.0f independent", float64(p.N)/p.DesignEffect)
			}
			say("%s %s: %d of %d good (%.1f%%; 95%% bounds %.3f-%.3f against %v%s): %s%s",
				FormatLoad(load), res.Unit(), p.Good, p.N, 100*float64(p.Good)/float64(max(p.N, 1)), lo, hi, s.MinGoodput, clustered, p.Verdict, note)
			if p.Verdict != stats.Unclear {
				break
			}
		}
		p.outcomes = nil
		res.Probes = append(res.Probes, p)
		pass := p.Verdict == stats.Pass
		if pass {
			res.Capacity = max(res.Capacity, load)
		} else if res.Failed == 0 || load < res.Failed {
			res.Failed = load
		}
		return pass, nil
	}
	// Expansion: Min, then doubling.
	load := res.Min
	for {
		pass, err := judge(load)
		if err != nil || r.stop.Err() != nil {
			return res, err
		}
		if !pass || load >= res.Max || len(res.Probes) >= maxSearchPoints {
			break
		}
		load = min(2*load, res.Max)
		if s.Dim == record.SearchRate {
			load = roundLoad(load)
		}
	}
	// Bisection between the highest pass and the lowest fail.
	for res.Capacity > 0 && res.Failed > 0 && res.Failed-res.Capacity > s.Precision*res.Capacity && len(res.Probes) < maxSearchPoints {
		mid := (res.Capacity + res.Failed) / 2
		if s.Dim == record.SearchConcurrency {
			mid = math.Floor(mid)
		} else if m := roundLoad(mid); m > res.Capacity && m < res.Failed {
			mid = m
		}
		if mid <= res.Capacity || mid >= res.Failed {
			break // neighbours: nothing between them
		}
		if _, err := judge(mid); err != nil || r.stop.Err() != nil {
			return res, err
		}
	}
	return res, nil
}

// searchBounds fills res.Min and res.Max, from the probe when not given.
func (r *runner) searchBounds(cfg *Config, res *SearchResult, say func(string, ...any)) error {
	if res.Dim == record.SearchConcurrency {
		if res.Min == 0 {
			res.Min = 1
		}
		if res.Max == 0 {
			res.Max = max(res.Min, maxSearchUsers)
		}
		return nil
	}
	if res.Min > 0 && res.Max > 0 {
		return nil
	}
	// The probe: one serial request, recorded as warmup.
	r.probing = true
	err := r.phase(record.PhaseWarmup, Point{Concurrency: 1}, 1, 0, cfg.Seed) // warmup: no outcome logged
	r.probing = false
	r.c.measured.take(Point{})
	if err != nil {
		return err
	}
	if r.stop.Err() != nil {
		return nil
	}
	if r.probeMs <= 0 {
		return fmt.Errorf("search: the probe request (one serial request, to bound the rate) failed; give --search-min and --search-max, or see its record")
	}
	res.ServiceMs = r.probeMs
	perSec := 1000 / r.probeMs
	if res.Min == 0 {
		res.Min = roundLoad(0.5 * perSec)
	}
	if res.Max == 0 {
		res.Max = roundLoad(max(res.Min, 1000*perSec))
	}
	say("probe: one serial request took %.1f ms, so 1/S = %s req/s; searching %s-%s req/s", r.probeMs, FormatLoad(perSec), FormatLoad(res.Min), FormatLoad(res.Max))
	return nil
}
