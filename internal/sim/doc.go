// Package sim is the engine of llmsim, a vLLM-compatible OpenAI server whose
// latencies are known in advance. It is servebench's default target and the
// ground truth of its tests, so its timing is exact by construction rather
// than by luck.
//
// # Timing model
//
// A generation request is accepted (parsed, validated, given an arrival
// number), then waits in a FIFO queue for one of MaxNumSeqs slots, as vLLM's
// scheduler makes requests beyond --max-num-seqs wait. Its admission time t0
// is its arrival (when the handler starts, before the body is read, so that
// parsing costs no TTFT) if a slot is free, else the instant a slot is
// handed to it. Token i (0-based) is then due at
//
//	due(0) = t0 + TTFT + ITLPerSeq*(running-1)
//	due(i) = due(i-1) + ITL + ITLPerSeq*(running-1)
//
// where running is the number of admitted sequences (this one included) when
// the step starts. With ITLPerSeq = 0 this is exactly t0 + TTFT + i*ITL. The
// deadlines are absolute instants computed from t0, never sums of measured
// sleeps, so lateness in one token does not move the next: there is no drift
// over long outputs. Queueing time adds to the client's TTFT naturally,
// because t0 comes after the queue. The slot is freed when the last token is
// due, and handed directly to the oldest waiter, whose t0 is that instant.
//
// Streaming responses send their headers when the request is accepted, then
// one SSE event per token, written at its due time (chat's role
// chunk leaves with the first token; the usage chunk and [DONE] with the
// last). With no delays at all, nothing is flushed before the end: every
// event is due at once anyway. Non-streaming responses are sent when the
// last token is due: t0 + TTFT + (n-1)*ITL.
//
// A stall (Stall, StallAfter) freezes the whole engine once: engine time
// stops at start+StallAfter for Stall, so every token due after that instant
// comes Stall later, and a request admitted during the stall starts when it
// ends.
//
// # Faults
//
// Each accepted request (one that passed validation and got an arrival
// number) may act out one Fault, so that clients' error handling is tested
// against causes known in advance. FaultCycle gives request i (its arrival
// number minus one) the fault FaultCycle[i mod len]; FaultRates instead draw
// each request's fault with the given probabilities from a generator of its
// own, seeded by Seed and the arrival number, so that faults repeat with the
// seed and turning them on changes no request's output. Mid-stream faults
// strike in place of token k = min(FaultAfter, n-1), at its due time, after
// k tokens went out on schedule:
//
//	http400 ... http503   the status at once, no slot taken, vLLM's
//	                      {"error":{...}} body (-flat: the older
//	                      {"object":"error",...}); 429 has Retry-After: 1
//	reset                 TCP RST (SO_LINGER 0) instead of token k
//	stream-error          vLLM's error event, then [DONE], instead of token k
//	malformed             token k's chunk cut short inside its text; the
//	                      stream then goes on to [DONE]
//	no-done               the whole stream without [DONE], then FIN
//	stall                 nothing more after token k-1; the slot is held
//	                      until the client leaves
//	slow-headers          accepted SlowHeaders late: status line, admission
//	                      and every token move by SlowHeaders
//	oversized             token k's text padded with OversizeBytes, written
//	                      in pieces until done or the client leaves
//
// Without streaming the faults strike when the body is due, in their nearest
// form: reset sends half the body then RST; stream-error is vLLM's 500;
// malformed is a 200 whose body, complete by its Content-Length, is half the
// JSON; no-done sends half the promised body then FIN; stall never answers,
// holding its slot until the client leaves; oversized pads the content. A faulted request that does not end as a
// normal answer counts in neither vllm:request_success_total nor
// llmsim_requests_aborted_total; llmsim_faults_injected_total counts every
// fault by kind.
//
// # Sleeping precisely
//
// Go's timers sleep in whole milliseconds when the process is idle (the
// runtime's epoll_wait timeout is in ms), which makes a lone timer 0-1 ms
// late, about 0.6 ms at the median. That is most of the error budget, so on
// Linux a request sleeps on an ordinary timer until 2 ms before its deadline
// and then registers with one shared waker driven by a timerfd, which the
// runtime's poller reports with about 0.1 ms of lateness. The waker is
// bypassed when hundreds of requests are already registered (at that load it
// would be the bottleneck); without a timerfd, plain timers are used.
//
// # Pacing
//
// A timed stream over HTTP/1.1 (on a server that sets ConnContext, as Run
// does) is not woken per token: its handler hands it to the waker, which
// keeps it in its heap by its next token's due time and, when that comes,
// writes the token as one HTTP chunk with one send(2) straight to the
// socket, then requeues it (pacer.go). The handler gets it back at the
// end, for a fault, when the client leaves, or when the socket is full (it
// then finishes that write and sends the rest itself, so that a slow client
// never holds up the others). That saves each token a timer, channel
// operations, two goroutine wake-ups and net/http's flush: llmsim's own
// share of a token is about 1 µs beside the kernel's send (about 8 µs on
// loopback), and tokens leave on time up to about 100,000 a second on one
// core (docs/llmsim.md, "Does the truth hold?").
//
// # Output
//
// Prompt tokens are counted by Config.Tokenizer: by default the
// whitespace-separated words of the prompt (for chat, of every message's
// text content), or the pieces tokenizer's tokens with its chat template
// (tokenizer.go); token-id prompts count one per id. With a prefix cache
// (prefixcache.go) the first token's step also takes PrefillPerToken for
// each prompt token not served from the cache. Output
// tokens are words of a fixed vocabulary, each token's text being " word".
// Without ignore_eos, each token after the first ends the sequence with
// probability EOSProb (finish_reason "stop"); otherwise the output is exactly
// max_tokens long (finish_reason "length"). Lengths and words come from a
// generator seeded by Seed and the request's arrival number, so a run is
// reproducible given the seed and the order in which requests arrive.
package sim
