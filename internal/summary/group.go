package summary

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"servebench/internal/record"
	"servebench/internal/stats"
)

// groupKey identifies a load point of a run and the model it asked for.
// Sweeps put several load points in one run, so run_id alone is not
// enough; a run that mixes models (genload --model a,b) gets a group per
// model, as each model is its own result.
type groupKey struct {
	runID string
	Point
	model string
}

// Lag thresholds for the client-lag warning of open-loop groups: warn when
// the p99 queue delay exceeds both lagFloorMs and lagShare of the median
// latency, i.e. when the client's own delay is large enough to matter.
const (
	lagFloorMs = 10
	lagShare   = 0.1
)

// readLagLimitMs and lateShare: a group more than lateShare of whose
// output chunks genload handled more than readLagLimitMs after their
// arrival (the records' late_chunks) is flagged: its read lag p99 is over
// 1 ms, counted exactly. The client itself was near its limit.
const (
	readLagLimitMs = 1
	lateShare      = 0.01
)

// coalescedShare: a group where more of its output chunks than this came
// out of one read with the chunk before, although its server spaced them,
// is flagged too.
const coalescedShare = 0.05

// rateShortfall is how far below its target rate an open-loop group's
// achieved rate may fall before a warning: 5%.
const rateShortfall = 0.05

// Aggregator folds records into per-group counters and sample sets
// (stats.Samples). It keeps no records: memory grows with the number of
// samples, not lines.
type Aggregator struct {
	groups  map[groupKey]*group
	order   []*group
	records int
	slo     SLO      // judged per request as it is added: records are not kept
	by      []string // record fields that split the groups (WithBy)
	// searchSLOs are the parsed search_slo of search runs, which judge
	// their requests when slo is not set.
	searchSLOs map[string]SLO
	// firstSalted is, per salted run (prompt_salt run), its first
	// successful request (lowest seq, any phase): the one request whose
	// prompt no earlier request of the run can have put in the cache.
	firstSalted map[string]*saltedFirst
}

// saltedFirst is a salted run's first successful request, and its group.
type saltedFirst struct {
	seq, cached int
	g           *group
}

// Option configures an Aggregator.
type Option func(*Aggregator)

// WithSLO judges every measured request against slo, for the goodput
// columns. Without it they are empty.
func WithSLO(slo SLO) Option { return func(a *Aggregator) { a.slo = slo } }

// group accumulates one load point.
type group struct {
	key    groupKey
	first  identity // of the group's first record
	varies []string // identity fields that differ within the group

	requests, ok, warmup, otherPhase int
	errors                           []int // aligned with record.ErrorKinds
	errorsOther                      int

	firstAny            time.Time // earliest scheduled_at of any phase, to order warmup-only groups
	firstSched, lastEnd time.Time // the measured window
	lastSched, lastSent time.Time // the measured sends: the achieved rate
	promptTokens        int
	outputTokens        int
	reasoningTokens     int
	cachedTokens        int
	toolCalls           int

	// Successes whose record says the prompt length asked for, and the
	// server counted it: their requested and counted tokens, and how many
	// missed by more than lengthMissShare.
	asked, askedTokens, askedPrompt, askedOff int

	fromChunks, noCount int
	samples             [NumMetrics]stats.Samples
	readLag             stats.Samples // the requests' read_lag_p99_ms
	readLagMax          float64       // the largest read_lag_max_ms
	coalesced, chunks   int           // coalesced_events, and the output chunks of the records with kernel times
	lateChunks          int           // late_chunks of those records

	good               int // measured requests that met the SLO
	noTTFT, noTPOT     int // successes a TTFT or TPOT objective could not be checked on
	noTTFO             int // successes a TTFO objective could not be checked on
	eosAsked, eosShort int // successes with ignore_eos and a token count; those short of max_tokens
	eosExample         string
	shards             map[string]shardClock // genload --shard: by "K/N"

	sessions map[string]struct{} // the sessions of the measured conversation turns
	turns    int                 // measured requests that are a conversation's turn

	// warmFirst is the salted run's first request when it is in this group
	// and the server served it cached prompt tokens (see Aggregator.firstSalted).
	warmFirst *saltedFirst

	search   searchMark // a capacity search's marks, from the group's first record
	outcomes []seqMet   // a search's measured requests: met the SLO or not
}

// identity is what a load point asked for, beyond its key.
type identity struct {
	model, endpoint, url string
	stream               bool
	maxTokens            int
	serverVersion        string
	modelRoot            string
}

// NewAggregator returns an empty Aggregator.
func NewAggregator(opts ...Option) *Aggregator {
	a := &Aggregator{groups: make(map[groupKey]*group)}
	for _, opt := range opts {
		opt(a)
	}
	return a
}

// Records is the number of records added.
func (a *Aggregator) Records() int { return a.records }

// Add counts r in its group. Only the measure phase feeds statistics;
// warmup attempts are only counted, and records of an unknown phase are
// counted as ignored.
func (a *Aggregator) Add(r *record.Record) {
	a.records++
	g := a.group(r)
	g.noteShard(r)
	if r.PromptSalt == record.SaltRun && r.OK && r.Turn <= 1 {
		if f := a.firstSalted[r.RunID]; f == nil || r.Seq < f.seq {
			if a.firstSalted == nil {
				a.firstSalted = map[string]*saltedFirst{}
			}
			a.firstSalted[r.RunID] = &saltedFirst{seq: r.Seq, cached: r.CachedTokens, g: g}
		}
	}
	start := r.ScheduledAt
	if start.IsZero() {
		start = r.SentAt // a writer that had no schedule
	}
	if !start.IsZero() && (g.firstAny.IsZero() || start.Before(g.firstAny)) {
		g.firstAny = start
	}
	switch r.Phase {
	case record.PhaseWarmup:
		g.warmup++
		return
	case record.PhaseMeasure:
	default:
		g.otherPhase++
		return
	}
	g.requests++
	if r.SessionID != "" {
		if g.sessions == nil {
			g.sessions = map[string]struct{}{}
		}
		g.sessions[r.SessionID] = struct{}{}
		g.turns++
	}
	if !start.IsZero() && (g.firstSched.IsZero() || start.Before(g.firstSched)) {
		g.firstSched = start
	}
	if start.After(g.lastSched) {
		g.lastSched = start
	}
	if !r.SentAt.IsZero() {
		if end := r.EndAt(); end.After(g.lastEnd) {
			g.lastEnd = end
		}
		if r.SentAt.After(g.lastSent) {
			g.lastSent = r.SentAt
		}
	}
	slo := a.sloFor(r, g)
	met := !slo.IsZero() && slo.Met(r)
	if met {
		g.good++
	}
	g.noteOutcome(r.Seq, met)
	if !r.OK {
		g.countError(r.ErrorKind)
		return
	}
	g.addSuccess(r, slo)
}

func (a *Aggregator) group(r *record.Record) *group {
	k := groupKey{r.RunID, Point{Label: r.Label, Concurrency: r.Concurrency, Rate: r.Rate, By: byValue(r, a.by)}, r.Model}
	g := a.groups[k]
	if g == nil {
		first := identity{r.Model, r.Endpoint, r.URL, r.Stream, r.MaxTokens, r.ServerVersion, r.ModelRoot}
		g = &group{key: k, first: first, errors: make([]int, len(record.ErrorKinds))}
		a.groups[k] = g
		a.order = append(a.order, g)
		return g
	}
	g.noteVariation("endpoint", g.first.endpoint != r.Endpoint)
	g.noteVariation("url", g.first.url != r.URL)
	g.noteVariation("stream", g.first.stream != r.Stream)
	g.noteVariation("max_tokens", g.first.maxTokens != r.MaxTokens)
	g.noteVariation("server_version", g.first.serverVersion != r.ServerVersion)
	return g
}

func (g *group) noteVariation(field string, differs bool) {
	if differs && !slices.Contains(g.varies, field) {
		g.varies = append(g.varies, field)
	}
}

func (g *group) countError(kind string) {
	if i := slices.Index(record.ErrorKinds, kind); i >= 0 {
		g.errors[i]++
	} else {
		g.errorsOther++
	}
}

// addSuccess takes the samples of a successful request, as vLLM does: TTFT
// and TPOT where present (TPOT needs output_tokens > 1), every ITL gap pooled
// across requests, and the latencies. It also notes what the warnings need:
// values an objective of slo could not be checked on, and outputs shorter
// than max_tokens although ignore_eos asked for exactly max_tokens.
func (g *group) addSuccess(r *record.Record, slo SLO) {
	g.ok++
	addCount(&g.promptTokens, r.PromptTokens)
	addCount(&g.outputTokens, r.OutputTokens)
	addCount(&g.reasoningTokens, r.ReasoningTokens)
	addCount(&g.cachedTokens, r.CachedTokens)
	addCount(&g.toolCalls, r.ToolCalls)
	if r.InputTokensRequested > 0 && r.TokensFrom == record.TokensFromUsage {
		g.asked++
		addCount(&g.askedTokens, r.InputTokensRequested)
		addCount(&g.askedPrompt, r.PromptTokens)
		if math.Abs(float64(r.PromptTokens-r.InputTokensRequested)) > lengthMissShare*float64(r.InputTokensRequested) {
			g.askedOff++
		}
	}
	counted := true
	switch r.TokensFrom {
	case record.TokensFromChunks, record.TokensFromBadUsage:
		g.fromChunks++
	case record.TokensFromNone, "":
		g.noCount++
		counted = false
	}
	if slo.TTFT != 0 && r.TTFTMs == nil {
		g.noTTFT++
	}
	if slo.TTFO != 0 && r.TTFOMs == nil {
		g.noTTFO++
	}
	if slo.TPOT != 0 && r.TPOTMs == nil && r.OutputTokens != 1 {
		g.noTPOT++
	}
	if r.IgnoreEOS && r.MaxTokens > 0 && counted {
		g.eosAsked++
		if r.OutputTokens < r.MaxTokens {
			g.eosShort++
			if g.eosExample == "" {
				g.eosExample = fmt.Sprintf("seq %d: %d of %d tokens, finish_reason %s", r.Seq, r.OutputTokens, r.MaxTokens, orNone(r.FinishReason))
			}
		}
	}
	if r.TTFTMs != nil {
		g.samples[TTFT].Add(*r.TTFTMs)
	}
	if r.TTFOMs != nil {
		g.samples[TTFO].Add(*r.TTFOMs)
	}
	if r.TPOTMs != nil {
		g.samples[TPOT].Add(*r.TPOTMs)
	}
	g.samples[ITL].AddAll(r.ITLMs)
	if r.ReadLagP99Ms != nil {
		g.readLag.Add(*r.ReadLagP99Ms)
	}
	if r.ReadLagMaxMs != nil && *r.ReadLagMaxMs > g.readLagMax {
		g.readLagMax = *r.ReadLagMaxMs
	}
	if r.TimesFrom == record.TimesFromKernel && r.TTFTMs != nil {
		g.coalesced += r.CoalescedEvents
		g.lateChunks += r.LateChunks
		g.chunks += len(r.ITLMs) + 1
	}
	g.samples[Latency].Add(r.LatencyMs)
	g.samples[Queue].Add(r.QueueMs)
	g.samples[SchedLatency].Add(r.SchedLatencyMs())
}

// addCount adds n to a total, saturating rather than wrapping: records
// are input, and a line with an absurd count must not turn a total
// negative.
func addCount(total *int, n int) {
	switch {
	case n > 0 && *total > math.MaxInt-n:
		*total = math.MaxInt
	case n < 0 && *total < math.MinInt-n:
		*total = math.MinInt
	default:
		*total += n
	}
}

// Groups summarizes every group with percentiles ps, ordered by start time
// (groups seen at the same instant keep their input order). It sorts the
// samples, so call it (or Sampled) once, after the last Add.
func (a *Aggregator) Groups(ps []float64) []Group { return a.summaries(ps, false) }

// Sampled is Groups with each group's Samples kept, for comparisons and
// plots. Call it (or Groups) once.
func (a *Aggregator) Sampled(ps []float64) []Group { return a.summaries(ps, true) }

// summaries is Sampled, with the samples only when withSamples: they are
// a copy, which a report without plots or comparisons does not need.
func (a *Aggregator) summaries(ps []float64, withSamples bool) []Group {
	order := slices.Clone(a.order)
	slices.SortStableFunc(order, func(x, y *group) int { return x.start().Compare(y.start()) })
	var sets []*stats.Samples
	for _, g := range order {
		for m := range g.samples {
			sets = append(sets, &g.samples[m])
		}
	}
	stats.SortAll(sets) // on every core at once; summarize then only reads them
	for _, f := range a.firstSalted {
		if f.cached > 0 {
			f.g.warmFirst = f
		}
	}
	out := make([]Group, len(order))
	mixed := mixedPoints(order)
	for i, g := range order {
		out[i] = g.summarize(ps, g.sloOr(a.slo))
		out[i].Search, out[i].SearchMinGoodput, out[i].SearchOutcomes = g.search.dim, g.search.minGoodput, g.outcomesBySeq()
		if mixed[groupKey{runID: g.key.runID, Point: g.key.Point}] {
			out[i].Point.Model = g.key.model
		}
		if withSamples {
			for m := range g.samples {
				out[i].Samples[m] = g.samples[m].Sorted()
				g.samples[m] = stats.Samples{} // the copy replaces it: let the memory go
			}
		}
		out[i].Alerts = g.alerts()
		out[i].readLate = g.readLagWarning() != ""
		out[i].Warnings = append(out[i].Warnings, out[i].Alerts...)
	}
	return out
}

// mixedPoints are the load points of runs that asked for more than one
// model there: their groups carry the model in their Point, so that a
// comparison matches them model by model, while runs of one model each
// still match whatever their models (an A/B of two models).
func mixedPoints(groups []*group) map[groupKey]bool {
	first := map[groupKey]string{}
	mixed := map[groupKey]bool{}
	for _, g := range groups {
		k := groupKey{runID: g.key.runID, Point: g.key.Point}
		if m, ok := first[k]; !ok {
			first[k] = g.key.model
		} else if m != g.key.model {
			mixed[k] = true
		}
	}
	return mixed
}

// start orders groups: the measured window's start, or for a group with no
// measured attempt its earliest record.
func (g *group) start() time.Time {
	if !g.firstSched.IsZero() {
		return g.firstSched
	}
	return g.firstAny
}

// summarize computes the group's numbers. Throughput divides by the
// measured window: from the first scheduled send to the last completion
// (record.EndAt) of any measured attempt, failures included, as vLLM's
// benchmark duration spans the whole measured run:
//
//	duration_s        = lastEnd - firstScheduled
//	req_per_s         = ok / duration_s
//	output_tok_per_s  = sum(output_tokens of ok) / duration_s
//	total_tok_per_s   = sum(prompt_tokens + output_tokens of ok) / duration_s
//	input_tok_per_s   = sum(prompt_tokens of ok) / duration_s
//
// With an SLO (see SLO for what makes a request good), as vLLM's goodput
// and the share of the measured requests, failures counting as not met:
//
//	goodput_req_per_s = good / duration_s
//	slo_met_ratio     = good / requests
func (g *group) summarize(ps []float64, slo SLO) Group {
	nan := math.NaN()
	out := Group{
		RunID: g.key.runID, Point: g.key.Point, StartTime: g.firstSched,
		Model: g.first.model, Server: Server(g.first.url), Endpoint: g.first.endpoint, Stream: g.first.stream, MaxTokens: g.first.maxTokens,
		ServerVersion: g.first.serverVersion, ModelRoot: g.first.modelRoot,
		Requests: g.requests, OK: g.ok, Failed: g.requests - g.ok,
		Errors: slices.Clone(g.errors), ErrorsOther: g.errorsOther, Warmup: g.warmup,
		DurationS: nan, ReqPerS: nan, OutputTokPerS: nan, TotalTokPerS: nan, InputTokPerS: nan,
		PromptTokens: g.promptTokens, OutputTokens: g.outputTokens,
		ReasoningTokens: g.reasoningTokens, CachedTokens: g.cachedTokens, ToolCalls: g.toolCalls,
		MeanPromptTokens: nan, MeanOutputTokens: nan, TokensFromChunks: g.fromChunks, CachedShare: nan,
		GoodputReqPerS: nan, SLOMetRatio: nan, ClientReadLagP99Ms: nan, ClientReadLagMaxMs: nan,
		Sessions: len(g.sessions), Turns: g.turns,
	}
	if g.readLag.Len() > 0 {
		out.ClientReadLagP99Ms, out.ClientReadLagMaxMs = g.readLag.Percentile(99), g.readLagMax
	}
	if !g.firstSched.IsZero() && !g.lastEnd.IsZero() {
		out.DurationS = g.lastEnd.Sub(g.firstSched).Seconds()
	}
	if out.DurationS > 0 {
		out.ReqPerS = float64(g.ok) / out.DurationS
		out.OutputTokPerS = float64(g.outputTokens) / out.DurationS
		out.TotalTokPerS = (float64(g.promptTokens) + float64(g.outputTokens)) / out.DurationS
		out.InputTokPerS = float64(g.promptTokens) / out.DurationS
	}
	if !slo.IsZero() {
		out.SLO, out.SLOMet = slo.String(), g.good
		if out.DurationS > 0 {
			out.GoodputReqPerS = float64(g.good) / out.DurationS
		}
		if g.requests > 0 {
			out.SLOMetRatio = float64(g.good) / float64(g.requests)
		}
	}
	if g.promptTokens > 0 {
		out.CachedShare = float64(g.cachedTokens) / float64(g.promptTokens)
	}
	if g.ok > 0 {
		out.MeanPromptTokens = float64(g.promptTokens) / float64(g.ok)
		out.MeanOutputTokens = float64(g.outputTokens) / float64(g.ok)
	}
	for m := range out.Metrics {
		if s, ok := g.samples[m].Summarize(ps); ok {
			out.Metrics[m] = &s
		}
	}
	out.Warnings = g.warnings(&out)
	return out
}

// warnings are the caveats that travel with the group's numbers.
func (g *group) warnings(out *Group) []string {
	var ws []string
	if g.requests == 0 {
		ws = append(ws, "no measured requests (warmup only?): nothing to summarize")
	}
	if g.fromChunks > 0 {
		ws = append(ws, fmt.Sprintf("%d of %d successful requests counted output tokens from stream chunks, not the server's usage: token counts and throughput are approximate", g.fromChunks, g.ok))
	}
	if g.noCount > 0 {
		ws = append(ws, fmt.Sprintf("%d successful requests carry no token counts: token throughput is undercounted", g.noCount))
	}
	if w := g.lengthWarning(); w != "" {
		ws = append(ws, w)
	}
	if g.otherPhase > 0 {
		ws = append(ws, fmt.Sprintf("%d records of an unknown phase were ignored", g.otherPhase))
	}
	if len(g.varies) > 0 {
		ws = append(ws, fmt.Sprintf("%s differ within the group; showing the first record's", strings.Join(g.varies, ", ")))
	}
	if q, l := &g.samples[Queue], out.Metrics[Latency]; g.key.Rate > 0 && q.Len() > 0 && l != nil {
		p99 := q.Percentile(99)
		if p99 > lagFloorMs && p99 > lagShare*l.Median {
			ws = append(ws, fmt.Sprintf("requests left late: p99 client queue delay %.2f ms; the client or a full concurrency limit fell behind the schedule, see sched_latency", p99))
		}
	}
	if f := g.warmFirst; f != nil {
		ws = append(ws, fmt.Sprintf("the run's first request (seq %d) was served %d cached prompt tokens although its prompt began with the run's own salt, which nothing before it sent: the server's cache holds this prompt from elsewhere (a cache keyed without the salt's tokens?), so the run did not start cold (genload --same-prompts asks for a warm cache on purpose)", f.seq, f.cached))
	}
	if g.noTTFT > 0 {
		ws = append(ws, fmt.Sprintf("%d successful requests have no TTFT (not streamed?): the ttft objective cannot be checked on them and counts them as not met", g.noTTFT))
	}
	if g.noTTFO > 0 {
		ws = append(ws, fmt.Sprintf("%d successful requests have no TTFO (not streamed, or written by a genload without ttfo_ms): the ttfo objective cannot be checked on them and counts them as not met", g.noTTFO))
	}
	if g.noTPOT > 0 {
		ws = append(ws, fmt.Sprintf("%d successful requests have no TPOT (not streamed, or no token count): the tpot objective cannot be checked on them and counts them as not met", g.noTPOT))
	}
	return ws
}

// lengthMissShare is how far a group's input lengths (the server's
// prompt_tokens) may be from those requested before a warning: 2%.
const lengthMissShare = 0.02

// lengthWarning says when the prompts' token counts, by the server's
// usage, miss the lengths the run asked for (input_tokens_requested) by
// more than lengthMissShare over the group: the prompts were words and
// the server's tokenizer (or its chat template) does not count a word a
// token, so the group measured other prompt lengths than it says.
func (g *group) lengthWarning() string {
	if g.asked == 0 || g.askedTokens == 0 {
		return ""
	}
	miss := float64(g.askedPrompt-g.askedTokens) / float64(g.askedTokens)
	if math.Abs(miss) <= lengthMissShare {
		return ""
	}
	return fmt.Sprintf("input lengths miss the requested ones by %+.1f%%: prompt_tokens average %.1f for %.1f requested (%d of %d requests off by more than 2%%); the server's tokenizer does not count a word a token: genload --tokenize on fits the prompts with its POST /tokenize",
		100*miss, float64(g.askedPrompt)/float64(g.asked), float64(g.askedTokens)/float64(g.asked), g.askedOff, g.asked)
}

// alerts are the warnings that question the run itself (see Group.Alerts).
func (g *group) alerts() []string {
	var ws []string
	if w := g.readLagWarning(); w != "" {
		ws = append(ws, w)
	}
	if w := g.rateWarning(); w != "" {
		ws = append(ws, w)
	}
	ws = append(ws, g.shardWarnings()...)
	if g.eosShort > 0 {
		ws = append(ws, fmt.Sprintf("%d of %d successful requests with ignore_eos have fewer output tokens than max_tokens (e.g. %s): the server may not honour ignore_eos, and per-token figures (TPOT, ITL, tok/s) then describe shorter outputs than the run asked for", g.eosShort, g.eosAsked, g.eosExample))
	}
	return ws
}

// readLagWarning says when genload read the group's tokens late: more
// than 1% of its output chunks handled over readLagLimitMs after their
// arrival (a read lag p99 over the limit, counted exactly), or more than
// coalescedShare of the output chunks read together with the one before
// although the server spaced them (ITL median over 1 ms): then genload was
// a whole token gap behind, and TCP merged what waited (see record.md).
func (g *group) readLagWarning() string {
	const advice = "; ITL and TPOT of this run are not trustworthy; lower the concurrency or add a client (docs/record.md, read lag)"
	if g.chunks == 0 {
		return ""
	}
	share := func(n int) float64 { return 100 * float64(n) / float64(g.chunks) }
	if float64(g.lateChunks) > lateShare*float64(g.chunks) {
		return fmt.Sprintf("genload read tokens late: %d of %d output chunks (%.1f%%) were handled more than %d ms after they arrived (worst %.2f ms), the client was near its limit", g.lateChunks, g.chunks, share(g.lateChunks), readLagLimitMs, g.readLagMax) + advice
	}
	if float64(g.coalesced) > coalescedShare*float64(g.chunks) && g.samples[ITL].Len() > 0 && g.samples[ITL].Percentile(50) > 1 {
		return fmt.Sprintf("genload read tokens late: %d of %d output chunks (%.0f%%) came out of one read with the chunk before although the server spaced them (ITL median %.2f ms): the client fell a token behind", g.coalesced, g.chunks, share(g.coalesced), g.samples[ITL].Percentile(50)) + advice
	}
	return ""
}

// rateWarning checks an open-loop group's achieved rate against its target
// rate, and says why it fell short. The achieved rate is the rate of the
// sends, as vegeta's Rate, with n-1 gaps between n sends:
//
//	achieved  = (requests - 1) / (last sent_at - first scheduled_at)
//	scheduled = (requests - 1) / (last scheduled_at - first scheduled_at)
//
// It is not requests / duration_s: that window also waits for the last
// responses, so a healthy run of 60 s at 8 req/s with 5 s answers would
// read 7.4 req/s. Sends behind a schedule that kept the rate mean a full
// cap on requests in flight or a lagging client; a schedule below the rate means
// random arrivals in a short run, or a ramp-up.
func (g *group) rateWarning() string {
	rate := g.key.Rate
	if rate <= 0 || g.requests < 2 || g.firstSched.IsZero() || !g.lastSent.After(g.firstSched) {
		return ""
	}
	span := g.lastSent.Sub(g.firstSched).Seconds()
	achieved := float64(g.requests-1) / span
	if achieved >= (1-rateShortfall)*rate {
		return ""
	}
	msg := fmt.Sprintf("achieved rate %.2f req/s is %.1f%% below the target %s req/s (%d requests sent over %.2f s from the first scheduled send)",
		achieved, 100*(1-achieved/rate), strconv.FormatFloat(rate, 'f', -1, 64), g.requests, span)
	const behind = ": a full cap on requests in flight or client lag (see queue and sched_latency)"
	d := g.lastSched.Sub(g.firstSched).Seconds()
	if d <= 0 {
		return msg + "; the sends fell behind the schedule" + behind
	}
	scheduled := float64(g.requests-1) / d
	if achieved < (1-rateShortfall)*scheduled {
		return msg + fmt.Sprintf("; the sends fell behind a schedule of %.2f req/s", scheduled) + behind
	}
	return msg + fmt.Sprintf("; the schedule itself offered %.2f req/s: random arrivals in a short run, or a ramp-up", scheduled)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
