package load

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fatih/color"

	"servebench/internal/record"
)

// PointResult is how the measured requests of one load point went: what a
// person must not miss at the end of a run of failures, and what
// genload's --min-success-ratio judges.
type PointResult struct {
	Point    Point
	Attempts int            // measured attempts (warmup excluded)
	Failed   int            // of them, failures
	Kinds    map[string]int // failures by error_kind
	Messages []string       // the first distinct failure messages, at most maxFirstMessages
}

// SuccessRatio is the share of measured attempts that succeeded; 1 with
// no attempts (nothing failed).
func (p PointResult) SuccessRatio() float64 {
	if p.Attempts == 0 {
		return 1
	}
	return float64(p.Attempts-p.Failed) / float64(p.Attempts)
}

// String names the load point as people read it: "concurrency 4", "2 req/s
// (at most 8 in flight)".
func (p Point) String() string {
	switch {
	case p.Rate > 0 && p.Concurrency > 0:
		return fmt.Sprintf("%g req/s (at most %d in flight)", p.Rate, p.Concurrency)
	case p.Rate > 0:
		return fmt.Sprintf("%g req/s", p.Rate)
	}
	return fmt.Sprintf("concurrency %d", p.Concurrency)
}

// maxFirstMessages is how many distinct failure messages a point keeps.
const maxFirstMessages = 3

// tally counts the measured attempts of the current load point. Successes
// cost one atomic add; failures take the lock.
type tally struct {
	attempts atomic.Int64
	mu       sync.Mutex
	failed   int
	kinds    map[string]int
	messages []string
}

func (t *tally) add(rec *record.Record) {
	if rec.Phase != record.PhaseMeasure {
		return
	}
	t.attempts.Add(1)
	if rec.OK {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed++
	if t.kinds == nil {
		t.kinds = map[string]int{}
	}
	t.kinds[rec.ErrorKind]++
	if len(t.messages) < maxFirstMessages && !slices.Contains(t.messages, rec.Error) {
		t.messages = append(t.messages, rec.Error)
	}
}

// kindsNow is "http 3, timeout 1", for the progress line.
func (t *tally) kindsNow() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return kindList(t.kinds)
}

// take returns the point's result and starts the next point from zero.
func (t *tally) take(pt Point) PointResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := PointResult{Point: pt, Attempts: int(t.attempts.Swap(0)), Failed: t.failed, Kinds: t.kinds, Messages: t.messages}
	t.failed, t.kinds, t.messages = 0, nil, nil
	return res
}

// kindList is "http 18, timeout 2", most frequent first.
func kindList(kinds map[string]int) string {
	names := slices.Sorted(maps.Keys(kinds))
	slices.SortStableFunc(names, func(a, b string) int { return kinds[b] - kinds[a] })
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, kinds[k])
	}
	return strings.Join(parts, ", ")
}

// reportFailures says on stderr, in red on a terminal, when most of a load
// point's measured requests failed: their kinds and first messages. A run
// of 404s must not pass for a benchmark.
//
// Failures on the client's own limits (kind client) are said whatever
// their share: they measure genload, not the server.
func reportFailures(stderr io.Writer, res PointResult, colored bool) {
	red := color.New(color.FgRed, color.Bold)
	if colored {
		red.EnableColor()
	} else {
		red.DisableColor()
	}
	if n := res.Kinds[record.ErrClient]; n > 0 {
		fmt.Fprintf(stderr, "genload: %s %s: %d requests failed on genload's own limits (kind client: out of file descriptors or local ports): raise ulimit -n, or lower the concurrency\n",
			red.Sprint("CLIENT LIMIT"), res.Point, n)
	}
	if res.Attempts == 0 || res.Failed*2 <= res.Attempts {
		return
	}
	quoted := make([]string, len(res.Messages))
	for i, m := range res.Messages {
		quoted[i] = fmt.Sprintf("%q", m)
	}
	fmt.Fprintf(stderr, "genload: %s %s: %d of %d requests failed (%s); first errors: %s\n",
		red.Sprint("FAILURES"), res.Point, res.Failed, res.Attempts, kindList(res.Kinds), strings.Join(quoted, ", "))
}

// ephemeralAddr is the client's own address in a network error ("read tcp
// 127.0.0.1:43122->127.0.0.1:8000: ..."): an ephemeral port that differs
// in every message.
var ephemeralAddr = regexp.MustCompile(`\b((?:tcp|udp)[46]?) \S+->`)

// stableMessage takes what changes from attempt to attempt out of a
// failure's message, so that the same failure reads the same and `sort |
// uniq -c` over records groups it.
func stableMessage(msg string) string {
	if !strings.Contains(msg, "->") {
		return msg
	}
	return ephemeralAddr.ReplaceAllString(msg, "$1 ->")
}
