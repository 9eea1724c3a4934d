package load

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync/atomic"

	"servebench/internal/openai"
	"servebench/internal/setting"
)

// URL mixes: how a run given several replicas (genload --url a,b without a
// router in front) gives each request its replica.
const (
	URLRoundRobin    = "round-robin"    // by request index: replica seq mod n, exact shares
	URLLeastInflight = "least-inflight" // the replica with the fewest requests in flight at send time
	URLRandom        = "random"         // uniform, a function of --seed and the request index
)

// validateURLs checks Config.URLs (the replicas after URL, which is the
// first of them) and URLMix, once URL's Target is resolved.
func (c *Config) validateURLs() error {
	if len(c.URLs) <= 1 {
		if c.URLMix != "" && c.URLMix != URLRoundRobin && c.URLMix != URLLeastInflight && c.URLMix != URLRandom {
			return setting.Errorf("{URLMix} %q: want %s, %s or %s", c.URLMix, URLRoundRobin, URLLeastInflight, URLRandom)
		}
		c.URLs = nil
		return nil
	}
	switch c.URLMix {
	case "":
		c.URLMix = URLRoundRobin
	case URLRoundRobin, URLLeastInflight, URLRandom:
	default:
		return setting.Errorf("{URLMix} %q: want %s, %s or %s", c.URLMix, URLRoundRobin, URLLeastInflight, URLRandom)
	}
	c.targets = c.targets[:0]
	for i, u := range c.URLs {
		t, err := openai.ParseTarget(u)
		if err != nil {
			return setting.Errorf("{URL}: %v", err)
		}
		if t.Endpoint != "" && t.Endpoint != c.Endpoint {
			return setting.Errorf("{URL} %s names the %s endpoint but the run sends to %s", u, t.Endpoint, c.Endpoint)
		}
		if slices.ContainsFunc(c.targets, func(o openai.Target) bool { return o.EndpointURL(c.Endpoint) == t.EndpointURL(c.Endpoint) }) {
			return setting.Errorf("{URL} names %s twice", t.EndpointURL(c.Endpoint))
		}
		if i == 0 {
			t = c.Target
		}
		c.targets = append(c.targets, t)
	}
	return nil
}

// replicas are the run's targets when it has several, each with its own
// client (connection pool) and count of requests in flight.
type replicas struct {
	list []*replica
	mix  string
	seed uint64
}

type replica struct {
	a        *attempter
	inflight atomic.Int64
}

// newReplicas prepares an attempter for each of cfg's targets; nil when
// the run has one (then runner.a sends everything).
func newReplicas(cfg *Config, hc *http.Client, run context.Context) (*replicas, func(), error) {
	if len(cfg.targets) <= 1 {
		return nil, func() {}, nil
	}
	reps := &replicas{mix: cfg.URLMix, seed: cfg.Seed}
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	for _, t := range cfg.targets {
		c := *cfg
		c.Target = t
		a, closeIdle, err := newAttempter(&c, hc, run)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		a.cfg = cfg // one Config for the run: the target is in a's doer and url
		closers = append(closers, closeIdle)
		reps.list = append(reps.list, &replica{a: a})
	}
	return reps, closeAll, nil
}

// pick is the replica of job j. Round-robin and random depend on the
// request's index alone, so the shards of a run (--shard) split a
// request to the same replica as one process would; least-inflight
// depends on the moment, counted per process.
func (rs *replicas) pick(j job) *replica {
	n := len(rs.list)
	switch rs.mix {
	case URLRandom:
		return rs.list[splitmix64(rs.seed^0x75726c73+uint64(j.seq))%uint64(n)]
	case URLLeastInflight:
		best := rs.list[j.seq%n] // ties go round-robin
		for i := range n {
			if r := rs.list[(j.seq+i)%n]; r.inflight.Load() < best.inflight.Load() {
				best = r
			}
		}
		return best
	}
	return rs.list[j.seq%n]
}

// splitmix64 is Vigna's SplitMix64 finaliser: a well-mixed 64-bit hash of
// x, so that consecutive indices give independent choices.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// attempterFor is the attempter that sends j, and the function to call
// when it has ended.
func (r *runner) attempterFor(j job) (*attempter, func()) {
	if r.replicas == nil {
		return r.a, func() {}
	}
	rep := r.replicas.pick(j)
	rep.inflight.Add(1)
	return rep.a, func() { rep.inflight.Add(-1) }
}

// checkReplicas checks the model on every replica after the first (which
// servedModel checked): each must serve it.
func checkReplicas(ctx context.Context, hc *http.Client, cfg *Config, stderr io.Writer) error {
	for _, t := range cfg.targets[min(1, len(cfg.targets)):] {
		c := *cfg
		c.Target = t
		if _, err := servedModel(ctx, hc, &c, stderr); err != nil {
			return err
		}
	}
	return nil
}
