package load

import (
	"math/rand/v2"
	"strings"
	"time"

	"servebench/internal/setting"
)

// maxThinkTime bounds a think time: a slip such as 2h would hold every
// session's slot for hours.
const maxThinkTime = time.Hour

// thinkTime is the pause of a conversation's user between an answer and
// the next turn: fixed ("2s"), uniform over a range ("uniform:1s-3s") or
// exponential with a mean ("exp:2s"), drawn from the session's own seeded
// stream. The zero value is no pause.
type thinkTime struct {
	kind      string // "", "fixed", "uniform" or "exp"
	low, high time.Duration
}

// parseThinkTime reads the syntax above; "" and "0" are no pause.
func parseThinkTime(s string) (thinkTime, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (thinkTime, error) {
		return thinkTime{}, setting.Errorf("{ThinkTime} %q: %s (want a duration such as 2s, uniform:1s-3s or exp:2s)", s, why)
	}
	dur := func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		return d, err == nil && d >= 0 && d <= maxThinkTime
	}
	kind, rest, hasKind := strings.Cut(s, ":")
	switch {
	case s == "" || s == "0":
		return thinkTime{}, nil
	case !hasKind:
		d, ok := dur(s)
		if !ok {
			return bad("not a duration from 0 to 1h")
		}
		return thinkTime{kind: "fixed", low: d, high: d}, nil
	case kind == "uniform":
		lo, hi, ok := strings.Cut(rest, "-")
		l, ok1 := dur(lo)
		h, ok2 := dur(hi)
		if !ok || !ok1 || !ok2 {
			return bad("uniform takes two durations from 0 to 1h, LOW-HIGH")
		}
		if h < l {
			return bad("the high end is below the low one")
		}
		return thinkTime{kind: "uniform", low: l, high: h}, nil
	case kind == "exp":
		m, ok := dur(rest)
		if !ok {
			return bad("exp takes a mean from 0 to 1h")
		}
		return thinkTime{kind: "exp", low: m, high: m}, nil
	}
	return bad("unknown distribution " + kind)
}

// draw is the next pause. An exponential draw is capped at maxThinkTime.
func (t thinkTime) draw(rng *rand.Rand) time.Duration {
	switch t.kind {
	case "fixed":
		return t.low
	case "uniform":
		if t.high == t.low {
			return t.low
		}
		return t.low + time.Duration(rng.Int64N(int64(t.high-t.low)+1))
	case "exp":
		return min(time.Duration(rng.ExpFloat64()*float64(t.low)), maxThinkTime)
	}
	return 0
}
