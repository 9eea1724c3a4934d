// Command genload sends load to an OpenAI-compatible server and writes one
// JSON line per request attempt to stdout. See the README for the flags and
// the record fields (docs/genload.md, docs/record.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/dataset"
	"servebench/internal/load"
	"servebench/internal/openai"
	"servebench/internal/record"
	"servebench/internal/setting"
)

// flushInterval is how long a record may wait to be written together with
// others: under load, one write call per interval rather than one per
// record (docs/perf.md); unnoticeable to tail -f and to a pipe.
const flushInterval = 2 * time.Millisecond

func main() { cmdline.Main(run) }

// run is the whole genload program. The first SIGINT or SIGTERM (ctx)
// stops sending and lets requests in flight finish for --grace; a second
// one (cmdline.Abort) cancels them at once. Both ways every attempt made
// has a complete line on stdout before run returns.
func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) cmdline.ExitCode {
	app := &cli.App{
		Name:  "genload",
		Usage: "send load to an OpenAI-compatible server; one JSON line per request on stdout",
		UsageText: "genload [flags] > runs.jsonl\n\n" + cmdline.ExitHelp(cmdline.ExitOK, cmdline.ExitFailure, cmdline.ExitUsage, cmdline.ExitNoModel, cmdline.ExitFailedReqs, cmdline.ExitStopRule, cmdline.ExitSIGINT, cmdline.ExitSIGTERM) +
			"\nFailed requests are data: they are written as records and change the exit code only with --min-success-ratio.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "url", Value: cli.NewStringSlice("http://localhost:8000"), Usage: "server base URL; a trailing /v1 or a full endpoint path is accepted; several (repeated, or a,b) are replicas sent to by --url-mix", EnvVars: []string{"SERVEBENCH_URL"}},
			&cli.StringFlag{Name: "url-mix", Usage: "with several --url: round-robin (default: by request index), least-inflight, or random (seeded)"},
			&cli.StringFlag{Name: "model", Usage: "model id (default: the first one /v1/models lists), or a list a,b,c mixed by --model-mix; checked against /v1/models before sending"},
			&cli.StringFlag{Name: "model-mix", Usage: "with several models: round-robin (default), random (seeded), or weights such as a=3,b=1 (exact shares)"},
			&cli.BoolFlag{Name: "no-model-check", Usage: "send to --model even when /v1/models does not list it (a gateway's unlisted alias)"},
			&cli.StringFlag{Name: "endpoint", Usage: "completions, chat, responses or embeddings (default: from --url, else completions)"},
			&cli.IntFlag{Name: "batch-size", Value: 1, Usage: "embeddings: N consecutive prompts as the input of each request"},
			&cli.StringFlag{Name: "prompt", Usage: "the prompt sent with every request"},
			&cli.StringFlag{Name: "prompt-file", Usage: "prompts used in turn: one per line, plain text or JSON {\"prompt\":..} / {\"messages\":[..]} with optional \"max_tokens\""},
			&cli.StringFlag{Name: "sharegpt", Usage: "ShareGPT JSON `FILE`: first human turn as prompt, first reply's length as max_tokens (filtered as vLLM does)"},
			&cli.IntFlag{Name: "input-tokens", Usage: "synthetic prompts of about N tokens (words), different for each request"},
			&cli.Float64Flag{Name: "input-tokens-range", Usage: "spread synthetic prompt lengths uniformly over N(1-R)..N(1+R)"},
			&cli.IntFlag{Name: "output-tokens", Usage: "per-request max_tokens (overrides --max-tokens and ShareGPT lengths)"},
			&cli.Float64Flag{Name: "output-tokens-range", Usage: "spread --output-tokens uniformly over N(1-R)..N(1+R)"},
			&cli.IntFlag{Name: "shared-prefix-tokens", Usage: "the same N-token prefix before every prompt (prefix-cache studies)"},
			&cli.StringFlag{Name: "tokenize", Value: "auto", Usage: "fit synthetic prompts to exactly --input-tokens with the server's POST /tokenize: auto (when it answers), on (fail when it cannot), off (N words)"},
			&cli.BoolFlag{Name: "reset-prefix-cache", Usage: "POST /reset_prefix_cache before each load point, for a cold cache (vLLM: VLLM_SERVER_DEV_MODE=1)"},
			&cli.StringFlag{Name: "conversations", Usage: "multi-turn sessions from `FILE`: JSON lines {\"turns\":[\"first message\",...]} (optional \"system\", \"max_tokens\") or ShareGPT with all its turns; --requests counts sessions"},
			&cli.IntFlag{Name: "turns", Usage: "synthetic multi-turn sessions of N turns, each a new --input-tokens message; --requests counts sessions"},
			&cli.StringFlag{Name: "think-time", Usage: "conversations: pause between an answer and the next turn: 2s, uniform:1s-3s or exp:2s (mean), seeded"},
			&cli.BoolFlag{Name: "keep-reasoning", Usage: "conversations: send answers' reasoning back in the history (reasoning_content), not only their content"},
			&cli.StringFlag{Name: "session-header", Usage: "conversations: send each request's session id in this header (for routers' session affinity)"},
			&cli.StringFlag{Name: "trace", Usage: "replay the requests of trace `FILE` at their times (the whole trace unless --requests or --duration): mooncake, azure or jsonl"},
			&cli.StringFlag{Name: "trace-format", Usage: "mooncake (JSON lines with hash_ids), azure (CSV) or jsonl (offset_ms, lengths, prompt); default: from the file"},
			&cli.Float64Flag{Name: "time-scale", Usage: "--trace: multiply the trace's times by `F` (0.5 replays twice as fast)", DefaultText: "1"},
			&cli.IntFlag{Name: "prefix-groups", Usage: "with --shared-prefix-tokens: N distinct shared prefixes, each request taking one (--prefix-mix)"},
			&cli.StringFlag{Name: "prefix-mix", Usage: "--prefix-groups: uniform (default) or zipf:S (group k weighs 1/k^S, e.g. zipf:1.1), seeded"},
			&cli.IntFlag{Name: "max-tokens", Value: 128, Usage: "max_tokens of each request (0: not sent)"},
			&cli.BoolFlag{Name: "ignore-eos", Usage: "ask the server to generate exactly max-tokens (vLLM's ignore_eos)"},
			&cli.BoolFlag{Name: "stream", Value: true, Usage: "stream the responses (--stream=false for whole responses; embeddings are never streamed)"},
			&cli.StringSliceFlag{Name: "header", Usage: "'Name: value' sent with every request (repeatable); an X-Request-Id here replaces genload's per-request one"},
			&cli.StringFlag{Name: "extra-body", Usage: "JSON object (or @FILE) deep-merged into every request body, e.g. '{\"chat_template_kwargs\":{\"enable_thinking\":false}}'"},
			&cli.Float64Flag{Name: "temperature", Usage: "the requests' temperature (not sent unless given)"},
			&cli.Float64Flag{Name: "top-p", Usage: "the requests' top_p (not sent unless given)"},
			&cli.IntFlag{Name: "top-k", Usage: "the requests' top_k, vLLM's extension (not sent unless given)"},
			&cli.Int64Flag{Name: "sampling-seed", Usage: "the requests' seed, for reproducible sampling (not sent unless given; --seed is genload's own)"},
			&cli.IntFlag{Name: "requests", Aliases: []string{"n"}, Value: 10, Usage: "measured requests per load point (conversations: sessions; --trace: its first N, default all)"},
			&cli.DurationFlag{Name: "duration", Usage: "measure for this long per load point instead of --requests (both: whichever ends first; conversations: no new session or turn after it)"},
			&cli.StringFlag{Name: "concurrency", Aliases: []string{"c"}, Value: "1", Usage: "closed loop: requests in flight (1 = serial); a list 1,2,4,8 sweeps"},
			&cli.StringFlag{Name: "request-rate", Aliases: []string{"r"}, Usage: "open loop: requests per second on a schedule; a list 1,2,4 sweeps"},
			&cli.IntFlag{Name: "max-concurrency", Usage: "open loop: cap on requests in flight (0 = none); late requests wait and it shows in queue_ms"},
			&cli.StringFlag{Name: "arrival", Value: load.ArrivalPoisson, Usage: "open loop: poisson, constant or gamma"},
			&cli.Float64Flag{Name: "burstiness", Value: 1, Usage: "gamma arrivals: shape (1 = Poisson, <1 burstier)"},
			&cli.DurationFlag{Name: "ramp-up", Usage: "open loop: raise the rate linearly from 0 over this time; closed loop: start the workers spread evenly over it"},
			&cli.BoolFlag{Name: "same-prompts", Usage: "no per-run salt: runs of one --seed send the same bytes, and a later run may hit what an earlier one left in the prefix cache (a deliberate warm cache)"},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of arrival times and prompts: the same seed gives the same schedule"},
			&cli.IntFlag{Name: "warmup", Usage: "requests sent first at each load point, marked phase=warmup"},
			&cli.DurationFlag{Name: "timeout", Value: load.DefaultTimeout, Usage: "per request, from send to the last byte"},
			&cli.DurationFlag{Name: "connect-timeout", Value: load.DefaultConnectTimeout, Usage: "for dialing a connection (TCP, then TLS)"},
			&cli.DurationFlag{Name: "first-token-timeout", Usage: "streaming: from send to the first content chunk (0: only --timeout)"},
			&cli.DurationFlag{Name: "grace", Value: load.DefaultGrace, Usage: "after Ctrl-C, how long requests in flight may finish"},
			&cli.Int64Flag{Name: "max-response-bytes", Value: load.DefaultMaxResponseBytes, Usage: "a longer response fails as a protocol error"},
			&cli.StringFlag{Name: "label", Usage: "free label written into every record (e.g. latency)"},
			&cli.StringFlag{Name: "run-id", Usage: "run id written into every record (default: time-based)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress and no final line on stderr"},
			&cli.BoolFlag{Name: "progress", Usage: "progress on stderr even when it is not a terminal: a plain line every --progress-every (cron logs)"},
			&cli.DurationFlag{Name: "progress-every", Value: 10 * time.Second, Usage: "with --progress off a terminal: time between progress lines"},
			&cli.Float64Flag{Name: "min-success-ratio", Usage: "exit 13 when a load point's share of successful measured requests is below `R` (0 < R <= 1), e.g. 0.99", DefaultText: "off"},
			&cli.StringFlag{Name: "reads", Hidden: true, Value: load.ReadsAuto, Usage: "auto (the loop for runs of 256 or more requests at once), loop (streamed answers read on one OS thread's epoll loop where it can: Linux, http://) or goroutine (each request's goroutine reads its connection): docs/perf.md"},
			&cli.DurationFlag{Name: "read-coalesce", Hidden: true, Value: load.DefaultReadCoalesce, Usage: "the read loop, when busy, naps up to `D` after each wake-up to read more sockets per wait (0: never; under 1ms): docs/perf.md"},
			&cli.StringFlag{Name: "chunk-times", Hidden: true, Value: "kernel", Usage: "kernel (the kernel's receive times where it gives them) or read (when genload reads each chunk): for measuring the difference (bench/floor)"},
			&cli.Float64Flag{Name: "max-error-rate", Usage: "stop rule: end the run (exit 14) when more than `R` (0 <= R < 1) of the last --error-window attempts failed", DefaultText: "off"},
			&cli.IntFlag{Name: "error-window", Value: 20, Usage: "stop rule: the attempts --max-error-rate is judged over"},
			&cli.StringFlag{Name: "http-client", Hidden: true, Value: "auto", Usage: "auto (h1 for direct targets, net/http through a proxy) or net/http: for measuring what each costs (bench/perf)"},
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile of genload itself to `FILE` (for performance work)"},
		},
		Action: func(c *cli.Context) error {
			cfg, err := config(c, stderr)
			if err != nil {
				return err
			}
			least, err := minSuccessRatio(c)
			if err != nil {
				return err
			}
			sm, err := newServerMetrics(c, cfg, stderr)
			if err != nil {
				return err
			}
			if path := c.String("cpuprofile"); path != "" {
				stopProfile, err := profile(path)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			return genload(ctx, cfg, least, sm, stdout, stderr)
		},
	}
	app.Flags = append(app.Flags, shardFlags()...)
	app.Flags = append(app.Flags, searchFlags...)
	app.Flags = append(app.Flags, cmdline.ConnFlags()...)
	app.Flags = append(app.Flags, serverMetricsFlags()...)
	return cmdline.Run(app, args, stdout, stderr)
}

// config checks the command line and turns it into a load.Config.
func config(c *cli.Context, stderr io.Writer) (*load.Config, error) {
	if c.NArg() > 0 {
		return nil, cmdline.Usagef("unexpected arguments %q", c.Args().Slice())
	}
	cfg := &load.Config{
		URLMix: c.String("url-mix"), Endpoint: c.String("endpoint"), BatchSize: c.Int("batch-size"), CheckModel: !c.Bool("no-model-check"), ModelMix: c.String("model-mix"),
		MaxTokens: c.Int("max-tokens"), IgnoreEOS: c.Bool("ignore-eos"), Stream: c.Bool("stream"),
		Requests: c.Int("requests"), Duration: c.Duration("duration"), Warmup: c.Int("warmup"),
		MaxConcurrency: c.Int("max-concurrency"), Arrival: c.String("arrival"), Burstiness: c.Float64("burstiness"),
		RampUp: c.Duration("ramp-up"), Seed: c.Uint64("seed"),
		Timeout: c.Duration("timeout"), ConnectTimeout: c.Duration("connect-timeout"),
		FirstTokenTimeout: c.Duration("first-token-timeout"), Grace: c.Duration("grace"), MaxResponseBytes: c.Int64("max-response-bytes"),
		Label: c.String("label"), RunID: c.String("run-id"), Quiet: c.Bool("quiet"),
		Progress: cmdline.IsTerminal(stderr) || c.Bool("progress"), ProgressLines: !cmdline.IsTerminal(stderr),
		ProgressEvery: c.Duration("progress-every"), Color: cmdline.UseColor(stderr),
	}
	var err error
	if cfg.URL, cfg.URLs, err = urls(c.StringSlice("url")); err != nil {
		return nil, err
	}
	if cfg.Models, err = models(c.String("model")); err != nil {
		return nil, err
	}
	if len(cfg.Models) == 1 {
		cfg.Model, cfg.Models = cfg.Models[0], nil
	}
	conn, err := cmdline.ConnFrom(c)
	if err != nil {
		return nil, err
	}
	cfg.APIKey, cfg.TLS = conn.APIKey, conn.TLS
	if cfg.ExtraBody, err = extraBody(c); err != nil {
		return nil, err
	}
	if cfg.Headers, err = headers(c.StringSlice("header")); err != nil {
		return nil, err
	}
	switch c.String("http-client") {
	case "auto":
	case "net/http":
		cfg.NetHTTP = true
	default:
		return nil, cmdline.Usagef("--http-client %q: want auto or net/http", c.String("http-client"))
	}
	switch c.String("chunk-times") {
	case "kernel":
	case "read":
		cfg.ReadTimes = true
	default:
		return nil, cmdline.Usagef("--chunk-times %q: want kernel or read", c.String("chunk-times"))
	}
	cfg.ReadCoalesce = c.Duration("read-coalesce")
	switch cfg.Reads = c.String("reads"); cfg.Reads {
	case load.ReadsAuto, load.ReadsLoop, load.ReadsGoroutine:
	default:
		return nil, cmdline.Usagef("--reads %q: want auto, loop or goroutine", cfg.Reads)
	}
	if c.IsSet("duration") && !c.IsSet("requests") {
		cfg.Requests = 0 // the duration alone ends each load point
	}
	cfg.TraceFile, cfg.TraceFormat, cfg.TimeScale = c.String("trace"), c.String("trace-format"), c.Float64("time-scale")
	if cfg.TraceFile != "" {
		if !c.IsSet("requests") {
			cfg.Requests = 0 // the whole trace
		}
		if c.IsSet("concurrency") || c.IsSet("request-rate") {
			return nil, cmdline.Usagef("--trace sends at the trace's times: not with --concurrency or --request-rate (cap requests in flight with --max-concurrency)")
		}
		if c.IsSet("time-scale") && cfg.TimeScale <= 0 {
			return nil, cmdline.Usagef("--time-scale %v: want a positive factor (0.5 replays twice as fast)", cfg.TimeScale)
		}
	} else if err := loadPoints(c, cfg); err != nil {
		return nil, err
	}
	cfg.Tokenize, cfg.ResetPrefixCache = c.String("tokenize"), c.Bool("reset-prefix-cache")
	if c.IsSet("max-error-rate") {
		cfg.StopRule = load.StopRule{MaxErrorRate: c.Float64("max-error-rate"), Window: c.Int("error-window")}
	} else if c.IsSet("error-window") {
		return nil, cmdline.Usagef("--error-window is the window of --max-error-rate: give that too")
	}
	if err := searchConfig(c, cfg); err != nil {
		return nil, err
	}
	cfg.Dataset = dataset.Config{
		PromptFile: c.String("prompt-file"), ShareGPTFile: c.String("sharegpt"),
		InputTokens: c.Int("input-tokens"), InputTokensRange: c.Float64("input-tokens-range"),
		OutputTokens: c.Int("output-tokens"), OutputTokensRange: c.Float64("output-tokens-range"),
		SharedPrefixTokens: c.Int("shared-prefix-tokens"),
		PrefixGroups:       c.Int("prefix-groups"), PrefixMix: c.String("prefix-mix"),
	}
	if c.IsSet("prompt") {
		cfg.Dataset.Prompts = []string{c.String("prompt")}
	}
	if err := shardConfig(c, cfg, stderr); err != nil {
		return nil, err
	}
	cfg.Conversations = dataset.ConversationConfig{File: c.String("conversations"), Turns: c.Int("turns")}
	cfg.ThinkTime, cfg.KeepReasoning = c.String("think-time"), c.Bool("keep-reasoning")
	cfg.SamePrompts = c.Bool("same-prompts")
	if h := c.String("session-header"); h != "" {
		if slices.Contains(framingHeaders, http.CanonicalHeaderKey(h)) {
			return nil, cmdline.Usagef("--session-header %s: genload's HTTP client sets it itself", h)
		}
		cfg.SessionHeader = h
	}
	if err := cfg.Validate(); err != nil {
		return nil, cmdline.Usage(worded(err, cfg))
	}
	if note := cfg.TraceNote(); note != "" {
		fmt.Fprintln(stderr, "genload: "+worded(setting.Errorf("%s", note), cfg).Error())
	}
	return cfg, nil
}

// minSuccessRatio reads --min-success-ratio; 0 means no gate.
func minSuccessRatio(c *cli.Context) (float64, error) {
	if !c.IsSet("min-success-ratio") {
		return 0, nil
	}
	r := c.Float64("min-success-ratio")
	if !(r > 0 && r <= 1) {
		return 0, cmdline.Usagef("--min-success-ratio %v: want a share of requests above 0 and at most 1, such as 0.99", r)
	}
	return r, nil
}

// successGate names each load point whose measured requests succeeded less
// often than least (0: no gate) and fails with ExitFailedReqs if any did.
func successGate(stderr io.Writer, points []load.PointResult, least float64) error {
	if least == 0 {
		return nil
	}
	below := 0
	for _, p := range points {
		if r := p.SuccessRatio(); p.Attempts == 0 || r < least {
			fmt.Fprintf(stderr, "genload: %s: %d of %d measured requests succeeded (%.3f), below --min-success-ratio %v\n",
				p.Point, p.Attempts-p.Failed, p.Attempts, r, least)
			below++
		}
	}
	if below == 0 {
		return nil
	}
	return &cmdline.CodeError{Code: cmdline.ExitFailedReqs, Err: fmt.Errorf("%d of %d load points below --min-success-ratio %v", below, len(points), least)}
}

// genload runs the load and writes the final line on stderr; least is
// the --min-success-ratio gate (0: none); sm the --server-metrics
// collector (nil: none), sampling from before the first request to after
// the last.
func genload(ctx context.Context, cfg *load.Config, least float64, sm *serverMetrics, stdout, stderr io.Writer) error {
	stderr = cmdline.Locked(stderr) // the progress line, a signal's message and the run write to it
	abort := cmdline.Abort(ctx)
	defer context.AfterFunc(ctx, func() {
		fmt.Fprintf(stderr, "\ngenload: %v: no new requests; waiting up to %v for those in flight (again to cancel them)\n", cmdline.Signal(ctx), cfg.Grace)
	})()
	defer context.AfterFunc(abort, func() {
		if cmdline.Signal(ctx) != nil {
			fmt.Fprintln(stderr, "genload: canceling requests in flight")
		}
	})()
	out := record.NewWriter(stdout)
	out.SetFlushInterval(flushInterval)
	checkOpenFiles(stderr, cfg)
	if sm != nil {
		sm.start(context.WithoutCancel(ctx), cfg)
	}
	res, err := load.Run(ctx, abort, cfg, out, stderr)
	if sm != nil {
		sm.stop(stderr)
	}
	err = worded(err, cfg)
	if !cfg.Quiet && res.Model != "" {
		fmt.Fprintf(stderr, "genload: run %s (%s): %d requests, %d failed, %.2fs\n",
			res.RunID, res.Model, res.Sent, res.Failed, res.Elapsed.Seconds())
	}
	if errors.Is(err, load.ErrCannotTokenize) {
		return cmdline.Usage(fmt.Errorf("--tokenize on: %w: nothing sent (--tokenize off sends N words)", err))
	}
	if errors.Is(err, load.ErrNoResetPrefixCache) && res.Sent == 0 {
		return cmdline.Usage(fmt.Errorf("--reset-prefix-cache: %w: nothing sent", err))
	}
	reportSearch(stderr, res.Search)
	var notServed *openai.ModelNotServedError
	if errors.As(err, &notServed) {
		return &cmdline.CodeError{Code: cmdline.ExitNoModel, Err: fmt.Errorf("%w: nothing sent (probe --model %s says the same; --no-model-check sends anyway)", err, notServed.Model)}
	}
	if errors.Is(err, load.ErrInterrupted) {
		if in, ok := context.Cause(ctx).(*cmdline.Interrupted); ok {
			return in
		}
	}
	var stopped *load.StopRuleError
	if errors.As(err, &stopped) {
		return &cmdline.CodeError{Code: cmdline.ExitStopRule, Err: err}
	}
	if err != nil {
		return err
	}
	return successGate(stderr, res.Points, least)
}

// profile writes a CPU profile of genload itself to path until stop.
func profile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// loadPoints reads --concurrency and --request-rate, either of which may be
// a list to sweep.
func loadPoints(c *cli.Context, cfg *load.Config) error {
	if c.IsSet("request-rate") {
		rates, err := parseList(c.String("request-rate"), "request-rate", func(s string) (float64, error) {
			return strconv.ParseFloat(s, 64)
		})
		if err != nil {
			return cmdline.Usage(err)
		}
		cfg.Rates = rates
		if !c.IsSet("concurrency") {
			return nil
		}
	}
	conc, err := parseList(c.String("concurrency"), "concurrency", strconv.Atoi)
	if err != nil {
		return cmdline.Usage(err)
	}
	cfg.Concurrencies = conc
	return nil
}
