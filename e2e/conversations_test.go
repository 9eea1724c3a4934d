package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"servebench/internal/record"
)

// answerRecorder is a reverse proxy between genload and llmsim that keeps
// every answer's text as llmsim sent it, by X-Request-Id: the ground truth
// of what a conversation must send back, read apart from genload's code.
type answerRecorder struct {
	mu      sync.Mutex
	answers map[string]string
}

func recordAnswers(t *testing.T, target string) (string, *answerRecorder) {
	t.Helper()
	rec := &answerRecorder{answers: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, _ := http.NewRequest(r.Method, target+r.URL.Path, bytes.NewReader(body))
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		var all bytes.Buffer
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			w.Write(buf[:n])
			all.Write(buf[:n])
			w.(http.Flusher).Flush()
			if err != nil {
				break
			}
		}
		rec.mu.Lock()
		rec.answers[r.Header.Get("X-Request-Id")] = streamText(all.Bytes())
		rec.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

// streamText is the answer's text in an SSE stream: every chunk's text or
// delta content, in order.
func streamText(stream []byte) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(stream))
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Text  string `json:"text"`
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &chunk) == nil {
			for _, c := range chunk.Choices {
				b.WriteString(c.Text + c.Delta.Content)
			}
		}
	}
	return b.String()
}

// loggedRequest is a line of llmsim's --log-requests.
type loggedRequest struct {
	Headers map[string][]string `json:"headers"`
	Body    struct {
		Prompt   string `json:"prompt"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	} `json:"body"`
}

func readRequestLog(t *testing.T, path string) map[string]loggedRequest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]loggedRequest{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l loggedRequest
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("request log: %v: %s", err, line)
		}
		out[l.Headers["x-request-id"][0]] = l
	}
	return out
}

// bySession groups records by session, each in turn order.
func bySession(t *testing.T, recs []record.Record) map[string][]record.Record {
	t.Helper()
	s := map[string][]record.Record{}
	for _, r := range recs {
		if r.SessionID == "" || r.Turn < 1 {
			t.Fatalf("a conversation record without its session: %+v", r)
		}
		s[r.SessionID] = append(s[r.SessionID], r)
	}
	for _, turns := range s {
		slices.SortFunc(turns, func(a, b record.Record) int { return a.Turn - b.Turn })
	}
	return s
}

// TestConversationHistory: a 3-turn synthetic conversation, on chat and on
// completions. Every turn's request (as llmsim logged it) holds the earlier
// turns and, after each, the answer exactly as llmsim sent it (as a proxy
// recorded it); turn k's record says turn k, the messages sent, the
// session (also in the --session-header), and prompt_tokens grows turn by
// turn; the next turn is sent no sooner than --think-time after the answer.
func TestConversationHistory(t *testing.T) {
	for _, endpoint := range []string{"chat", "completions"} {
		t.Run(endpoint, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "requests.jsonl")
			sim := startSim(t, "--ttft", "5ms", "--itl", "1ms", "--log-requests", log)
			url, answers := recordAnswers(t, sim)
			out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --endpoint "+endpoint+
				" --turns 3 --input-tokens 12 --output-tokens 6 -n 3 -c 2 --think-time 30ms --session-header X-Session-Id --seed 5 -q")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			reqs := readRequestLog(t, log)
			sessions := bySession(t, readRecords(t, strings.NewReader(out)))
			if len(sessions) != 3 || len(reqs) != 9 {
				t.Fatalf("%d sessions, %d requests logged; want 3 and 9", len(sessions), len(reqs))
			}
			for id, turns := range sessions {
				if len(turns) != 3 {
					t.Fatalf("session %s: %d turns", id, len(turns))
				}
				for k, r := range turns {
					l := reqs[r.RequestID]
					if !r.OK || r.Turn != k+1 || r.HistoryMessages != 2*k+1 || l.Headers["x-session-id"][0] != id {
						t.Fatalf("turn %d: record %+v, session header %v", k+1, r, l.Headers["x-session-id"])
					}
					if k == 0 {
						continue
					}
					prev, prevReq := turns[k-1], reqs[turns[k-1].RequestID]
					answer := answers.answers[prev.RequestID]
					if answer == "" {
						t.Fatalf("no answer recorded for %s", prev.RequestID)
					}
					if endpoint == "chat" {
						msgs := l.Body.Messages
						if len(msgs) != 2*k+1 || !slices.Equal(msgs[:2*k-1], prevReq.Body.Messages) ||
							msgs[2*k-1].Role != "assistant" || msgs[2*k-1].Content != answer || msgs[2*k].Role != "user" {
							t.Fatalf("turn %d sent %+v\nafter %+v\nanswered %q", k+1, msgs, prevReq.Body.Messages, answer)
						}
					} else if want := prevReq.Body.Prompt + answer + "\n\nUser: "; !strings.HasPrefix(l.Body.Prompt, want) || !strings.HasSuffix(l.Body.Prompt, "\n\nAssistant:") {
						t.Fatalf("turn %d sent %q\nwant it to start with %q", k+1, l.Body.Prompt, want)
					}
					if r.PromptTokens <= prev.PromptTokens+prev.OutputTokens {
						t.Errorf("turn %d: prompt_tokens %d, want more than turn %d's %d + its answer's %d", k+1, r.PromptTokens, k, prev.PromptTokens, prev.OutputTokens)
					}
					if gap := r.SentAt.Sub(prev.EndAt()); gap < 30*time.Millisecond {
						t.Errorf("turn %d sent %v after turn %d's answer, within the 30ms think time", k+1, gap, k)
					}
				}
			}
		})
	}
}

// maxOverlap is the largest number of sessions in flight at once, from
// each one's first send to its last end.
func maxOverlap(sessions map[string][]record.Record) int {
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, turns := range sessions {
		edges = append(edges, edge{turns[0].SentAt, 1}, edge{turns[len(turns)-1].EndAt(), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.d - b.d // an end before a start at the same instant
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.d
		most = max(most, n)
	}
	return most
}

// TestConversationLoops: closed loop, each of -c 2 users runs one session
// after another (never more than 2 in flight, all 5 sessions whole); open
// loop, sessions start at the schedule's times (the offsets a plain run of
// the same seed and rate is scheduled at) with --max-concurrency 2 in
// flight at most.
func TestConversationLoops(t *testing.T) {
	sim := startSim(t, "--ttft", "10ms", "--itl", "2ms")
	flags := " --endpoint chat --turns 3 --input-tokens 8 --output-tokens 4 --ignore-eos -n 5 --seed 9 -q"
	out, stderr, code := sh(t, time.Minute, "genload --url "+sim+" -c 2 --think-time uniform:5ms-15ms"+flags)
	if code != 0 {
		t.Fatalf("closed loop: exit %d: %s", code, stderr)
	}
	closed := bySession(t, readRecords(t, strings.NewReader(out)))
	if len(closed) != 5 || maxOverlap(closed) > 2 {
		t.Fatalf("closed loop: %d sessions, %d at once; want 5, at most 2", len(closed), maxOverlap(closed))
	}
	for id, turns := range closed {
		if len(turns) != 3 {
			t.Errorf("closed loop: session %s has %d turns", id, len(turns))
		}
	}

	out, stderr, code = sh(t, time.Minute, "genload --url "+sim+" --request-rate 20 --max-concurrency 2 --think-time 5ms"+flags)
	if code != 0 {
		t.Fatalf("open loop: exit %d: %s", code, stderr)
	}
	open := bySession(t, readRecords(t, strings.NewReader(out)))
	plainOut, stderr, code := sh(t, time.Minute, "genload --url "+sim+" --request-rate 20 --input-tokens 8 --max-tokens 4 -n 5 --seed 9 -q")
	if code != 0 {
		t.Fatalf("plain open loop: exit %d: %s", code, stderr)
	}
	plain := readRecords(t, strings.NewReader(plainOut))
	var starts []time.Time
	for _, turns := range open {
		if len(turns) != 3 {
			t.Errorf("open loop: session %s has %d turns", turns[0].SessionID, len(turns))
		}
		starts = append(starts, turns[0].ScheduledAt)
	}
	slices.SortFunc(starts, time.Time.Compare)
	slices.SortFunc(plain, func(a, b record.Record) int { return a.Seq - b.Seq })
	for i := range starts {
		got, want := starts[i].Sub(starts[0]), plain[i].ScheduledAt.Sub(plain[0].ScheduledAt)
		if d := got - want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("session %d scheduled at +%v, the schedule says +%v", i+1, got, want)
		}
	}
	if n := maxOverlap(open); n > 2 {
		t.Errorf("open loop: %d sessions in flight at once, over --max-concurrency 2", n)
	}
}

// TestConversationEnds: --duration stops new turns (every turn was sent
// within the time, and no session ran whole); a failed turn ends its
// session, is recorded, and the run goes on.
func TestConversationEnds(t *testing.T) {
	sim := startSim(t, "--ttft", "5ms", "--itl", "1ms")
	out, stderr, code := sh(t, time.Minute, "genload --url "+sim+" --endpoint chat --turns 6 --input-tokens 8 --max-tokens 4 -c 2 --duration 400ms --think-time 150ms -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	first := recs[0].SentAt
	for _, r := range recs {
		if r.SentAt.Before(first) {
			first = r.SentAt
		}
	}
	for id, turns := range bySession(t, recs) {
		if len(turns) == 6 {
			t.Errorf("session %s ran all 6 turns, past --duration", id)
		}
		for _, r := range turns {
			if r.SentAt.Sub(first) > 400*time.Millisecond+100*time.Millisecond {
				t.Errorf("turn %d of %s sent %v after the start, past --duration 400ms", r.Turn, id, r.SentAt.Sub(first))
			}
		}
	}

	sim = startSim(t, "--ttft", "2ms", "--itl", "1ms", "--fault-cycle", "none,http500,none,none,none")
	out, stderr, code = sh(t, time.Minute, "genload --url "+sim+" --endpoint chat --turns 3 --input-tokens 8 --max-tokens 4 -n 2 -c 1 -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sessions := bySession(t, readRecords(t, strings.NewReader(out)))
	var shapes []string
	for _, turns := range sessions {
		var s string
		for _, r := range turns {
			if r.OK {
				s += "ok "
			} else {
				s += r.ErrorKind + " "
			}
		}
		shapes = append(shapes, strings.TrimSpace(s))
	}
	slices.Sort(shapes)
	if want := []string{"ok http", "ok ok ok"}; !slices.Equal(shapes, want) {
		t.Errorf("sessions %q, want %q: a failed turn ends its session, the next one runs", shapes, want)
	}
}

// TestConversationByTurn: summarize --by turn over a conversation run: a
// group per turn, each with every session once, and prompt tokens growing
// by turn; a bad field is a usage error.
func TestConversationByTurn(t *testing.T) {
	sim := startSim(t, "--ttft", "5ms", "--itl", "1ms")
	out, stderr, code := sh(t, time.Minute, "genload --url "+sim+" --endpoint chat --turns 3 --input-tokens 16 --output-tokens 4 --ignore-eos -n 4 -c 2 -q | summarize --by turn --format json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Groups []struct {
			By               string  `json:"by"`
			Requests         int     `json:"requests"`
			Sessions         int     `json:"sessions"`
			Turns            int     `json:"turns"`
			MeanPromptTokens float64 `json:"mean_prompt_tokens"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rep.Groups) != 3 {
		t.Fatalf("%d groups: %s", len(rep.Groups), out)
	}
	for i, g := range rep.Groups {
		if g.By != "turn="+string(rune('1'+i)) || g.Requests != 4 || g.Sessions != 4 || g.Turns != 4 {
			t.Errorf("group %d: %+v", i, g)
		}
		if i > 0 && g.MeanPromptTokens <= rep.Groups[i-1].MeanPromptTokens {
			t.Errorf("turn %d: mean prompt tokens %v, not above turn %d's %v", i+1, g.MeanPromptTokens, i, rep.Groups[i-1].MeanPromptTokens)
		}
	}
	if _, stderr, code := sh(t, time.Minute, "summarize --by turns /dev/null"); code != 2 || !strings.Contains(stderr, `no record field "turns"`) {
		t.Errorf("bad --by: exit %d, %s", code, stderr)
	}
}

// TestConversationKeepReasoning: against a reasoning model the history
// carries only the answers' content, unless --keep-reasoning, which sends
// their reasoning back as reasoning_content; streamed or not.
func TestConversationKeepReasoning(t *testing.T) {
	for _, flags := range []string{"", " --keep-reasoning", " --stream=false", " --stream=false --keep-reasoning"} {
		log := filepath.Join(t.TempDir(), "requests.jsonl")
		sim := startSim(t, "--ttft", "2ms", "--itl", "1ms", "--reasoning-tokens", "3", "--log-requests", log)
		_, stderr, code := sh(t, time.Minute, "genload --url "+sim+" --endpoint chat --turns 2 --input-tokens 4 --max-tokens 6 --ignore-eos -n 1 -q"+flags+" > /dev/null")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", flags, code, stderr)
		}
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var second struct {
			Body struct {
				Messages []map[string]string `json:"messages"`
			} `json:"body"`
		}
		if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &second) != nil || len(second.Body.Messages) != 3 {
			t.Fatalf("%s: %d requests: %s", flags, len(lines), data)
		}
		answer := second.Body.Messages[1]
		words := len(strings.Fields(answer["content"]))
		reasoning, kept := answer["reasoning_content"]
		if words != 3 || kept != strings.Contains(flags, "keep") || (kept && len(strings.Fields(reasoning)) != 3) {
			t.Errorf("%s: the answer sent back: %q", flags, answer)
		}
	}
}
