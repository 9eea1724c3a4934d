// Command llmsim is a vLLM-compatible OpenAI server with known latencies,
// batching limits and fault injection: servebench's default target. See
// package servebench/internal/sim for the timing model and the startup line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/sim"
)

func main() { cmdline.Main(run) }

// run is the whole llmsim program: it serves until ctx is cancelled (the
// first SIGINT or SIGTERM).
func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) cmdline.ExitCode {
	d := sim.DefaultConfig()
	app := &cli.App{
		Name:  "llmsim",
		Usage: "simulate a vLLM OpenAI-compatible server with exact latencies",
		UsageText: "llmsim [options]\n\n" +
			"Serves GET /health /v1/models /version /metrics and POST /v1/completions\n" +
			"/v1/chat/completions /v1/responses /v1/embeddings /tokenize /detokenize\n" +
			"/reset_prefix_cache like vLLM. Once listening it prints to stderr:\n" +
			"  llmsim: serving MODEL on http://HOST:PORT (ttft=.. itl=.. max-num-seqs=N max-model-len=N)\n\n" +
			"Fault injection: --fault KIND=RATE (repeatable) gives each request KIND with\n" +
			"probability RATE, seeded by --seed; --fault-cycle KIND,KIND,... makes the i-th\n" +
			"request (in arrival order, from 0) act out KIND number i mod the list's length.\n" +
			"One fault at most per request: rates add up to at most 1, and the two flags\n" +
			"exclude each other. Kinds (docs/faults.md says what each does):\n  " +
			strings.Join(sim.FaultNames(), ", ") + "\n\n" +
			cmdline.ExitHelp(cmdline.ExitOK, cmdline.ExitFailure, cmdline.ExitUsage),
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: d.Addr, Usage: "listen address; port 0 picks a free port (see the startup line)"},
			&cli.StringSliceFlag{Name: "model", Usage: "model to serve, repeatable or comma-separated", DefaultText: sim.DefaultModel},
			&cli.StringSliceFlag{Name: "served-model-name", Usage: "names clients use for the model, as in vLLM"},
			&cli.DurationFlag{Name: "ttft", Value: d.TTFT, Usage: "time from admission to the first token"},
			&cli.DurationFlag{Name: "itl", Value: d.ITL, Usage: "time between tokens"},
			&cli.DurationFlag{Name: "itl-per-seq", Usage: "extra time per token for each other running sequence"},
			&cli.IntFlag{Name: "max-num-seqs", Value: d.MaxNumSeqs, Usage: "sequences generating at once; more wait in a FIFO queue"},
			&cli.IntFlag{Name: "max-model-len", Value: d.MaxModelLen, Usage: "limit on prompt tokens + max_tokens"},
			&cli.DurationFlag{Name: "startup-delay", Usage: "answer 503 for this long after starting"},
			&cli.Int64Flag{Name: "seed", Usage: "seed for output lengths and words"},
			&cli.Float64Flag{Name: "eos-prob", Value: d.EOSProb, Usage: "probability that each token after the first ends the output (without ignore_eos)"},
			&cli.DurationFlag{Name: "stall", Usage: "pause all token output once for this long (0: never)"},
			&cli.DurationFlag{Name: "stall-after", Usage: "start the stall this long after starting"},
			&cli.StringSliceFlag{Name: "fault", Usage: "give each request fault KIND with probability RATE (`KIND=RATE`), repeatable or comma-separated"},
			&cli.StringSliceFlag{Name: "fault-cycle", Usage: "comma-separated `KINDS`: request i acts out kind i mod their number (none: no fault)"},
			&cli.IntFlag{Name: "fault-after", Value: d.FaultAfter, Usage: "tokens a stream sends before a mid-stream fault (reset, stream-error, malformed, stall, oversized)"},
			&cli.DurationFlag{Name: "slow-headers", Value: d.SlowHeaders, Usage: "how late the slow-headers fault sends the status line"},
			&cli.Int64Flag{Name: "oversize-mib", Value: d.OversizeBytes >> 20, Usage: "padding of the oversized fault, in MiB"},
			&cli.IntFlag{Name: "reasoning-tokens", Usage: "chat and responses: reason for `N` tokens (within max_tokens) before the answer, as a reasoning model"},
			&cli.StringFlag{Name: "reasoning-tokens-range", Usage: "chat and responses: reason for a seeded uniform number of tokens in `LO-HI` (instead of --reasoning-tokens)"},
			&cli.StringFlag{Name: "reasoning-field", Value: sim.ReasoningField, Usage: "where reasoning goes: reasoning, reasoning_content, or both (the same text in both keys)"},
			&cli.Float64Flag{Name: "tool-call-rate", Usage: "chat and responses requests that offer tools: answer with a call of the first tool with probability `R` (seeded)"},
			&cli.IntFlag{Name: "block-tokens", Value: d.BlockTokens, Usage: "prefix cache: tokens per block, hashed with everything before them (vLLM's --block-size)"},
			&cli.IntFlag{Name: "cache-blocks", Value: d.CacheBlocks, Usage: "prefix cache: blocks kept, least recently used evicted first (0: no prefix cache)"},
			&cli.DurationFlag{Name: "prefill-per-token", Usage: "added to the TTFT for each prompt token not served from the prefix cache"},
			&cli.StringFlag{Name: "tokenizer", Value: d.Tokenizer, Usage: "how prompt tokens are counted: words (one per word, no chat template) or pieces (letters in pieces of 4, punctuation apart, a chat template)"},
			&cli.IntFlag{Name: "embedding-dim", Value: sim.DefaultEmbeddingDim, Usage: "length of the vectors POST /v1/embeddings answers with"},
			&cli.StringFlag{Name: "log-requests", Usage: "append one JSON line per generation request (headers, Authorization redacted, and body) to `FILE`"},
			&cli.BoolFlag{Name: "quiet", Usage: "print only the startup line and errors"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cmdline.Usagef("unexpected argument %q", c.Args().First())
			}
			rates, err := sim.ParseFaultRates(c.StringSlice("fault"))
			if err != nil {
				return cmdline.Usagef("--fault: %w", err)
			}
			cycle, err := sim.ParseFaultCycle(c.StringSlice("fault-cycle"))
			if err != nil {
				return cmdline.Usagef("--fault-cycle: %w", err)
			}
			oversizeMiB := c.Int64("oversize-mib")
			if oversizeMiB < 1 || oversizeMiB > 1<<20 {
				return cmdline.Usagef("--oversize-mib must be in 1..%d, got %d", 1<<20, oversizeMiB)
			}
			reasoning, reasoningMax := c.Int("reasoning-tokens"), 0
			if spec := c.String("reasoning-tokens-range"); spec != "" {
				if c.IsSet("reasoning-tokens") {
					return cmdline.Usagef("--reasoning-tokens and --reasoning-tokens-range exclude each other")
				}
				if reasoning, reasoningMax, err = parseRange(spec); err != nil {
					return cmdline.Usagef("--reasoning-tokens-range: %w", err)
				}
			}
			cfg := sim.Config{
				Addr: c.String("addr"), Models: c.StringSlice("model"), ServedModelNames: c.StringSlice("served-model-name"),
				EmbeddingDim: c.Int("embedding-dim"),
				TTFT:         c.Duration("ttft"), ITL: c.Duration("itl"), ITLPerSeq: c.Duration("itl-per-seq"),
				MaxNumSeqs: c.Int("max-num-seqs"), MaxModelLen: c.Int("max-model-len"), StartupDelay: c.Duration("startup-delay"),
				Seed: c.Int64("seed"), EOSProb: c.Float64("eos-prob"),
				Stall: c.Duration("stall"), StallAfter: c.Duration("stall-after"), Quiet: c.Bool("quiet"),
				FaultRates: rates, FaultCycle: cycle, FaultAfter: c.Int("fault-after"),
				SlowHeaders: c.Duration("slow-headers"), OversizeBytes: oversizeMiB << 20,
				ReasoningTokens: reasoning, ReasoningTokensMax: reasoningMax, ReasoningField: c.String("reasoning-field"),
				ToolCallRate: c.Float64("tool-call-rate"),
				BlockTokens:  c.Int("block-tokens"), CacheBlocks: c.Int("cache-blocks"),
				PrefillPerToken: c.Duration("prefill-per-token"), Tokenizer: c.String("tokenizer"),
			}
			if path := c.String("log-requests"); path != "" {
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
				if err != nil {
					return fmt.Errorf("--log-requests: %w", err)
				}
				defer f.Close()
				cfg.RequestLog = f
			}
			if err := sim.Run(ctx, cfg, stderr); errors.Is(err, sim.ErrConfig) {
				return cmdline.Usage(err)
			} else if err != nil {
				return err
			}
			return nil
		},
	}
	return cmdline.Run(app, args, stdout, stderr)
}

// parseRange reads LO-HI, two non-negative integers with LO <= HI.
func parseRange(spec string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(spec, "-")
	if ok {
		lo, err = strconv.Atoi(a)
		if err == nil {
			hi, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("%q: want LO-HI, such as 8-64", spec)
	}
	return lo, hi, nil
}
