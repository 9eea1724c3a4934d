// Command genload sends load to an OpenAI-compatible server and writes one
// JSON line per request attempt to stdout. See the README for the flags and
// the record fields.
package main

import (
	"os"
	"runtime/pprof"
	"strconv"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/dataset"
	"servebench/internal/load"
	"servebench/internal/openai"
)

func main() {
	app := &cli.App{
		Name:      "genload",
		Usage:     "send load to an OpenAI-compatible server; one JSON line per request on stdout",
		UsageText: "genload [flags] > runs.jsonl\n\nExit codes: 0 done (failed requests are data), 1 runtime error, 2 usage error,\n130/143 interrupted by SIGINT/SIGTERM (every attempt made is still written).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Value: "http://localhost:8000", Usage: "server base URL; a trailing /v1 or a full endpoint path is accepted", EnvVars: []string{"SERVEBENCH_URL"}},
			&cli.StringFlag{Name: "model", Usage: "model id (default: the first one /v1/models lists)"},
			&cli.StringFlag{Name: "endpoint", Usage: "completions or chat (default: from --url, else completions)"},
			&cli.StringFlag{Name: "prompt", Usage: "the prompt sent with every request"},
			&cli.StringFlag{Name: "prompt-file", Usage: "prompts used in turn: one per line, plain text or JSON {\"prompt\":..} / {\"messages\":[..]} with optional \"max_tokens\""},
			&cli.StringFlag{Name: "sharegpt", Usage: "ShareGPT JSON `FILE`: first human turn as prompt, first reply's length as max_tokens (filtered as vLLM does)"},
			&cli.IntFlag{Name: "input-tokens", Usage: "synthetic prompts of about N tokens (words), different for each request"},
			&cli.Float64Flag{Name: "input-tokens-range", Usage: "spread synthetic prompt lengths uniformly over N(1-R)..N(1+R)"},
			&cli.IntFlag{Name: "output-tokens", Usage: "per-request max_tokens (overrides --max-tokens and ShareGPT lengths)"},
			&cli.Float64Flag{Name: "output-tokens-range", Usage: "spread --output-tokens uniformly over N(1-R)..N(1+R)"},
			&cli.IntFlag{Name: "shared-prefix-tokens", Usage: "the same N-token prefix before every prompt (prefix-cache studies)"},
			&cli.IntFlag{Name: "max-tokens", Value: 128, Usage: "max_tokens of each request (0: not sent)"},
			&cli.BoolFlag{Name: "ignore-eos", Usage: "ask the server to generate exactly max-tokens (vLLM's ignore_eos)"},
			&cli.BoolFlag{Name: "stream", Value: true, Usage: "stream the responses (--stream=false for whole responses)"},
			&cli.IntFlag{Name: "requests", Aliases: []string{"n"}, Value: 10, Usage: "measured requests per load point"},
			&cli.DurationFlag{Name: "duration", Usage: "measure for this long per load point instead of --requests (both: whichever ends first)"},
			&cli.StringFlag{Name: "concurrency", Aliases: []string{"c"}, Value: "1", Usage: "closed loop: requests in flight (1 = serial); a list 1,2,4,8 sweeps"},
			&cli.StringFlag{Name: "request-rate", Aliases: []string{"r"}, Usage: "open loop: requests per second on a schedule; a list 1,2,4 sweeps"},
			&cli.IntFlag{Name: "max-concurrency", Usage: "open loop: cap on requests in flight (0 = none); late requests wait and it shows in queue_ms"},
			&cli.StringFlag{Name: "arrival", Value: load.ArrivalPoisson, Usage: "open loop: poisson, constant or gamma"},
			&cli.Float64Flag{Name: "burstiness", Value: 1, Usage: "gamma arrivals: shape (1 = Poisson, <1 burstier)"},
			&cli.DurationFlag{Name: "ramp-up", Usage: "open loop: raise the rate linearly from 0 over this time"},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of arrival times and prompts: the same seed gives the same schedule"},
			&cli.IntFlag{Name: "warmup", Usage: "requests sent first at each load point, marked phase=warmup"},
			&cli.DurationFlag{Name: "timeout", Value: load.DefaultTimeout, Usage: "per request, from send to the last byte"},
			&cli.DurationFlag{Name: "connect-timeout", Value: load.DefaultConnectTimeout, Usage: "for dialing a connection (TCP, then TLS)"},
			&cli.DurationFlag{Name: "first-token-timeout", Usage: "streaming: from send to the first content chunk (0: only --timeout)"},
			&cli.DurationFlag{Name: "grace", Value: load.DefaultGrace, Usage: "after Ctrl-C, how long requests in flight may finish"},
			&cli.Int64Flag{Name: "max-response-bytes", Value: load.DefaultMaxResponseBytes, Usage: "a longer response fails as a protocol error"},
			&cli.StringFlag{Name: "label", Usage: "free label written into every record (e.g. latency)"},
			&cli.StringFlag{Name: "run-id", Usage: "run id written into every record (default: time-based)"},
			&cli.StringFlag{Name: "api-key", EnvVars: []string{"OPENAI_API_KEY"}, Usage: "bearer token (never written to records or logs)"},
			&cli.StringFlag{Name: "api-key-file", Usage: "read the bearer token from the first line of `FILE` (keeps it out of ps)"},
			&cli.StringFlag{Name: "ca-cert", Usage: "trust this PEM `FILE`'s certificates for https:// URLs"},
			&cli.BoolFlag{Name: "insecure", Usage: "do not verify the server's TLS certificate"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress and no final line on stderr"},
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile of genload itself to `FILE` (for performance work)"},
		},
		Action: run,
	}
	os.Exit(cmdline.Run(app, os.Args, os.Stderr))
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdline.Usagef("unexpected arguments %q", c.Args().Slice())
	}
	cfg := &load.Config{
		URL: c.String("url"), Model: c.String("model"), Endpoint: c.String("endpoint"), APIKey: c.String("api-key"),
		MaxTokens: c.Int("max-tokens"), IgnoreEOS: c.Bool("ignore-eos"), Stream: c.Bool("stream"),
		Requests: c.Int("requests"), Duration: c.Duration("duration"), Warmup: c.Int("warmup"),
		MaxConcurrency: c.Int("max-concurrency"), Arrival: c.String("arrival"), Burstiness: c.Float64("burstiness"),
		RampUp: c.Duration("ramp-up"), Seed: c.Uint64("seed"),
		Timeout: c.Duration("timeout"), ConnectTimeout: c.Duration("connect-timeout"),
		FirstTokenTimeout: c.Duration("first-token-timeout"), Grace: c.Duration("grace"), MaxResponseBytes: c.Int64("max-response-bytes"),
		Label: c.String("label"), RunID: c.String("run-id"), Quiet: c.Bool("quiet"),
		Progress: isatty.IsTerminal(os.Stderr.Fd()),
	}
	var err error
	if cfg.APIKey, err = openai.APIKey(cfg.APIKey, c.String("api-key-file")); err != nil {
		return cmdline.Usage(err)
	}
	if cfg.TLS, err = openai.TLSConfig(c.String("ca-cert"), c.Bool("insecure")); err != nil {
		return cmdline.Usage(err)
	}
	if c.IsSet("duration") && !c.IsSet("requests") {
		cfg.Requests = 0 // the duration alone ends each load point
	}
	if err := loadPoints(c, cfg); err != nil {
		return err
	}
	cfg.Dataset = dataset.Config{
		PromptFile: c.String("prompt-file"), ShareGPTFile: c.String("sharegpt"),
		InputTokens: c.Int("input-tokens"), InputTokensRange: c.Float64("input-tokens-range"),
		OutputTokens: c.Int("output-tokens"), OutputTokensRange: c.Float64("output-tokens-range"),
		SharedPrefixTokens: c.Int("shared-prefix-tokens"),
	}
	if c.IsSet("prompt") {
		cfg.Dataset.Prompts = []string{c.String("prompt")}
	}
	if err := cfg.Validate(); err != nil {
		return cmdline.Usage(err)
	}
	if path := c.String("cpuprofile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return load.Main(cfg, os.Stdout, os.Stderr)
}

// loadPoints reads --concurrency and --request-rate, either of which may be
// a list to sweep.
func loadPoints(c *cli.Context, cfg *load.Config) error {
	if c.IsSet("request-rate") {
		rates, err := load.ParseList(c.String("request-rate"), "request-rate", func(s string) (float64, error) {
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
	conc, err := load.ParseList(c.String("concurrency"), "concurrency", strconv.Atoi)
	if err != nil {
		return cmdline.Usage(err)
	}
	cfg.Concurrencies = conc
	return nil
}
