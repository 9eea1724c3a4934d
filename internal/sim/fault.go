package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is a failure llmsim acts out on purpose, so that a client's error
// handling can be tested against a cause known in advance. Config.FaultCycle
// or Config.FaultRates decide which request gets which; see the package
// documentation for what each one does.
type Fault uint8

const (
	FaultNone        Fault = iota
	FaultHTTP400           // 400 with vLLM's {"error":{...}} body
	FaultHTTP429           // 429 with Retry-After and vLLM's {"error":{...}} body
	FaultHTTP500           // 500 with vLLM's {"error":{...}} body
	FaultHTTP503           // 503 with vLLM's {"error":{...}} body
	FaultHTTP400Flat       // as FaultHTTP400 with older vLLM's flat {"object":"error",...} body
	FaultHTTP429Flat
	FaultHTTP500Flat
	FaultHTTP503Flat
	FaultReset       // TCP RST in place of token FaultAfter
	FaultStreamError // {"error":{...}} event and [DONE] in place of token FaultAfter
	FaultMalformed   // token FaultAfter's chunk cut short: not JSON
	FaultNoDone      // the whole stream but [DONE], then the connection closes
	FaultStall       // nothing after token FaultAfter-1 until the client leaves
	FaultSlowHeaders // accepted SlowHeaders late: the status line waits
	FaultOversized   // token FaultAfter carries OversizeBytes of padding
	numFaults
)

var faultNames = [numFaults]string{
	"none", "http400", "http429", "http500", "http503",
	"http400-flat", "http429-flat", "http500-flat", "http503-flat",
	"reset", "stream-error", "malformed", "no-done", "stall", "slow-headers", "oversized",
}

// Defaults of the fault settings llmsim starts with.
const (
	DefaultFaultAfter    = 2
	DefaultSlowHeaders   = 5 * time.Second
	DefaultOversizeBytes = 80 << 20
)

func (f Fault) String() string {
	if f < numFaults {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// FaultNames lists every fault's name, none first, for usage texts.
func FaultNames() []string { return faultNames[:] }

// ParseFault reads a fault's name.
func ParseFault(name string) (Fault, error) {
	for f, n := range faultNames {
		if n == name {
			return Fault(f), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown fault %q (known: %s)", ErrConfig, name, strings.Join(faultNames[:], ", "))
}

// ParseFaultCycle reads a list of fault names.
func ParseFaultCycle(names []string) ([]Fault, error) {
	var cycle []Fault
	for _, n := range names {
		f, err := ParseFault(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		cycle = append(cycle, f)
	}
	return cycle, nil
}

// FaultRate is a fault and its probability per request.
type FaultRate struct {
	Fault Fault
	Rate  float64
}

// ParseFaultRates reads KIND=RATE items.
func ParseFaultRates(items []string) ([]FaultRate, error) {
	var rates []FaultRate
	for _, item := range items {
		name, rate, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, fmt.Errorf("%w: fault %q: want KIND=RATE, e.g. http503=0.01", ErrConfig, item)
		}
		f, err := ParseFault(name)
		if err != nil {
			return nil, err
		}
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: fault %q: rate %q is not a number", ErrConfig, item, rate)
		}
		rates = append(rates, FaultRate{f, r})
	}
	return rates, nil
}

// validateFaults is Config.Validate's part for faults.
func (c Config) validateFaults() error {
	switch {
	case len(c.FaultRates) > 0 && len(c.FaultCycle) > 0:
		return fmt.Errorf("%w: fault rates and a fault cycle exclude each other", ErrConfig)
	case c.FaultAfter < 0:
		return fmt.Errorf("%w: fault-after must not be negative, got %d", ErrConfig, c.FaultAfter)
	case c.OversizeBytes < 0:
		return fmt.Errorf("%w: oversize bytes must not be negative, got %d", ErrConfig, c.OversizeBytes)
	}
	var seen [numFaults]bool
	sum := 0.0
	for _, r := range c.FaultRates {
		switch {
		case r.Fault == FaultNone || r.Fault >= numFaults:
			return fmt.Errorf("%w: no rate can be given for fault %v", ErrConfig, r.Fault)
		case seen[r.Fault]:
			return fmt.Errorf("%w: fault %v given twice", ErrConfig, r.Fault)
		case math.IsNaN(r.Rate) || r.Rate < 0 || r.Rate > 1:
			return fmt.Errorf("%w: fault %v: rate must be in [0, 1], got %v", ErrConfig, r.Fault, r.Rate)
		}
		seen[r.Fault] = true
		sum += r.Rate
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("%w: fault rates add up to %v, more than 1", ErrConfig, sum)
	}
	for _, f := range c.FaultCycle {
		if f >= numFaults {
			return fmt.Errorf("%w: unknown fault %v", ErrConfig, f)
		}
		seen[f] = true
	}
	if seen[FaultSlowHeaders] && c.SlowHeaders <= 0 {
		return fmt.Errorf("%w: fault slow-headers needs a slow-headers delay above 0", ErrConfig)
	}
	return nil
}

// faultLine describes the faults for the line Run prints after the startup
// line, or returns "" when there are none.
func (c Config) faultLine() string {
	var what []string
	for _, f := range c.FaultCycle {
		what = append(what, f.String())
	}
	kind := "cycle"
	if len(c.FaultRates) > 0 {
		kind = "rates"
		for _, r := range c.FaultRates {
			what = append(what, r.Fault.String()+"="+strconv.FormatFloat(r.Rate, 'g', -1, 64))
		}
	}
	if len(what) == 0 {
		return ""
	}
	return fmt.Sprintf("llmsim: injecting faults: %s %s (fault-after=%d slow-headers=%v oversize=%dB)",
		kind, strings.Join(what, ","), c.FaultAfter, c.SlowHeaders, c.OversizeBytes)
}

// faultSalt separates the fault draws' generator from the output's.
const faultSalt = 0x6661756c74 // "fault"

// pickFault decides the fault of the request with arrival number seq
// (counted from 1): the cycle's entry (seq-1) mod len, or a draw against the
// rates. With u uniform in [0, 1), the first fault whose cumulative rate
// exceeds u is picked, none if no one does, so each fault's probability is
// its rate. The draw has its own generator seeded by Seed and seq: turning
// faults on changes no request's output, and a run's faults repeat with its
// seed and arrival order.
func (s *Server) pickFault(seq uint64) Fault {
	c := &s.cfg
	switch {
	case len(c.FaultCycle) > 0:
		return c.FaultCycle[(seq-1)%uint64(len(c.FaultCycle))]
	case len(c.FaultRates) == 0:
		return FaultNone
	}
	r := newRNG(c.Seed^faultSalt, seq)
	u := r.float()
	for _, fr := range c.FaultRates {
		if u < fr.Rate {
			return fr.Fault
		}
		u -= fr.Rate
	}
	return FaultNone
}

// midStream says whether f strikes in place of token FaultAfter of a stream.
func (f Fault) midStream() bool {
	switch f {
	case FaultReset, FaultStreamError, FaultMalformed, FaultStall, FaultOversized:
		return true
	}
	return false
}

// endsAnswer says whether f ends the answer where it strikes; the others
// spoil one token and let the stream go on.
func (f Fault) endsAnswer() bool {
	return f == FaultReset || f == FaultStreamError || f == FaultStall
}

// httpFault is the answer of an HTTP fault.
type httpFault struct {
	apiError
	flat bool // older vLLM's {"object":"error",...} rather than {"error":{...}}
}

// httpFaults maps each HTTP fault to its answer. Messages name the fault, so
// that a failure in a client's report can be traced to llmsim.
var httpFaults = func() map[Fault]httpFault {
	answers := map[Fault]httpFault{}
	for _, a := range []struct {
		nested, flat Fault
		code         int
		typ, msg     string
	}{
		{FaultHTTP400, FaultHTTP400Flat, http.StatusBadRequest, "BadRequestError", "Bad request"},
		{FaultHTTP429, FaultHTTP429Flat, http.StatusTooManyRequests, "TooManyRequestsError", "Too many requests, retry after 1 s"},
		{FaultHTTP500, FaultHTTP500Flat, http.StatusInternalServerError, "InternalServerError", "Internal server error"},
		{FaultHTTP503, FaultHTTP503Flat, http.StatusServiceUnavailable, "ServiceUnavailableError", "The server is overloaded"},
	} {
		answers[a.nested] = httpFault{apiError{a.code, a.typ, faultMessage(a.msg, a.nested)}, false}
		answers[a.flat] = httpFault{apiError{a.code, a.typ, faultMessage(a.msg, a.flat)}, true}
	}
	return answers
}()

// faultMessage is an error message that says which fault it came from.
func faultMessage(msg string, f Fault) string {
	return msg + " (llmsim fault " + f.String() + ")"
}

// generationFailed is what vLLM answers when generation fails: its
// GenerationError, an error event in a stream or a 500 otherwise.
var generationFailed = apiError{http.StatusInternalServerError, "InternalServerError",
	faultMessage("Internal server error", FaultStreamError)}

// writeHTTPFault answers an HTTP fault at once, without taking a slot, as a
// rate limiter or an overloaded front end does.
func writeHTTPFault(w http.ResponseWriter, hf httpFault) {
	if hf.code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if !hf.flat {
		writeError(w, &hf.apiError)
		return
	}
	msg, _ := json.Marshal(hf.msg)
	writeJSON(w, hf.code, fmt.Appendf(nil, `{"object":"error","message":%s,"type":%q,"param":null,"code":%d}`, msg, hf.typ, hf.code))
}

// appendErrorEvent is the event vLLM's stream generators send when
// generation fails after the 200: the error in an SSE event, then [DONE].
func appendErrorEvent(b []byte, e *apiError) []byte {
	msg, _ := json.Marshal(e.msg)
	b = fmt.Appendf(b, `data: {"error":{"message":%s,"type":%q,"param":null,"code":%d}}`+"\n\n", msg, e.typ, e.code)
	return append(b, doneEvent...)
}

// endAnswer acts out a fault that ends the answer in place of the next
// token (for a stall without streaming, in place of the body) and reports
// the request cut. The caller's deferred release frees the slot when this
// returns: at once, or for a stall when the client leaves.
func (s *Server) endAnswer(w http.ResponseWriter, rc *http.ResponseController, p *plan, sc *scratch, done <-chan struct{}) outcome {
	switch p.fault {
	case FaultStreamError:
		if p.ep == responses {
			sc.buf = appendRespErrorEvent(sc.buf[:0], p, &generationFailed)
		} else {
			sc.buf = appendErrorEvent(sc.buf[:0], &generationFailed)
		}
		if _, err := w.Write(sc.buf); err == nil {
			rc.Flush()
		}
	case FaultReset:
		hangUp(rc, true)
	case FaultStall:
		if p.stream {
			rc.Flush() // with no delays, the tokens so far are still buffered
		}
		<-done
	}
	return cut
}

// hangUp sends what was written, then closes the connection under the
// response: with rst, SO_LINGER 0 makes the close send a TCP RST instead of
// a FIN, as a crashed server or a dropped load-balancer connection does.
func hangUp(rc *http.ResponseController, rst bool) {
	rc.Flush() // Hijack discards what is still buffered
	conn, _, err := rc.Hijack()
	if err != nil {
		// Not HTTP/1 (or a writer that cannot hijack): aborting the
		// handler is the nearest thing the server offers.
		panic(http.ErrAbortHandler)
	}
	// A TCP connection, or llmsim's own over one (arrival_linux.go).
	if tc, ok := conn.(interface{ SetLinger(sec int) error }); ok && rst {
		tc.SetLinger(0)
	}
	conn.Close()
}

// padPiece is the oversized fault's padding, written a piece at a time:
// words, so that a client that accepts the size reads ordinary text.
var padPiece = bytes.Repeat([]byte(" pad"), 16<<10)

// pad writes head, then n bytes of padding in pieces, and reports whether
// all of it went out: it stops as soon as the client leaves, so the fault
// costs the server nothing once the client has given up.
func pad(w http.ResponseWriter, head []byte, n int64, done <-chan struct{}) bool {
	if _, err := w.Write(head); err != nil {
		return false
	}
	for n > 0 {
		select {
		case <-done:
			return false
		default:
		}
		piece := padPiece[:min(n, int64(len(padPiece)))]
		if _, err := w.Write(piece); err != nil {
			return false
		}
		n -= int64(len(piece))
	}
	return true
}

// writeFaultBody answers a non-streaming request whose fault strikes where
// the body would be sent, with the nearest equivalent of its streaming
// form; ok is false when p's fault does not touch the body.
func (s *Server) writeFaultBody(w http.ResponseWriter, rc *http.ResponseController, p *plan, sc *scratch, done <-chan struct{}) (out outcome, ok bool) {
	h := w.Header()
	switch p.fault {
	case FaultStreamError:
		writeError(w, &generationFailed) // vLLM's non-streaming GenerationError
		return cut, true
	case FaultOversized:
		b := s.appendBodyHead(sc.buf[:0], p)
		split := len(b)
		b = s.appendBodyTail(b, p)
		sc.buf = b
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.FormatInt(int64(len(b))+s.cfg.OversizeBytes, 10))
		if !pad(w, b[:split], s.cfg.OversizeBytes, done) {
			return aborted, true
		}
		if _, err := w.Write(b[split:]); err != nil {
			return aborted, true
		}
		return finished, true
	case FaultReset, FaultNoDone, FaultMalformed:
	default:
		return 0, false
	}
	sc.buf = s.appendBody(sc.buf[:0], p)
	half := sc.buf[:len(sc.buf)/2]
	h.Set("Content-Type", "application/json")
	if p.fault == FaultMalformed {
		// A 200 whose body is complete by its length but not JSON.
		h.Set("Content-Length", strconv.Itoa(len(half)))
		w.Write(half)
		return cut, true
	}
	// Half the promised body, then a reset or a clean close.
	h.Set("Content-Length", strconv.Itoa(len(sc.buf)))
	if _, err := w.Write(half); err != nil {
		return aborted, true
	}
	hangUp(rc, p.fault == FaultReset)
	return cut, true
}
