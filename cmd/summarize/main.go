// Command summarize reads servebench records (JSON lines) and reports
// statistics per run and load point: text, CSV or JSON on stdout, and
// optionally appended CSV rows, log blocks and plots, with goodput against
// per-request objectives and a gate on it. Given a baseline it compares two
// sets of runs instead and can fail on a regression.
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/stats"
)

const description = `Reads records from the files (or stdin when none, or "-"), groups them by
run_id, label, concurrency and rate, and summarizes the measure phase of each.
Flags may come before or after the file names (summarize results/*.jsonl
--format csv); after "--" everything is a file name.

COMPARING: summarize --baseline OLD.jsonl [NEW.jsonl...] (stdin when no file),
or benchstat-style old=OLD.jsonl new=NEW.jsonl (a name may repeat to give a
side several files). Runs are matched by label, concurrency and rate, and each
metric is compared: medians and p99 of TTFT, TTFO (when a model reasoned),
TPOT, ITL and latency, req/s,
output tok/s and the error rate, with a Mann-Whitney U test as benchstat does.
"~" means no significant difference. With at least 6 runs a side the unit is
the run; with fewer the test is per request, which is weaker (requests of one
run are not independent): a warning on stderr says so. p-values are
Holm-adjusted within each table. --fail-on 'ttft_p99_ms>+10%,req_per_s<-5%'
exits 10 when a significant change crosses a limit (a limit without % is
absolute, in the metric's unit); metrics are named as the CSV columns, plus
error_rate (failed/requests).

GOODPUT: --slo 'ttft=300ms,tpot=50ms,e2e=5s' (any of ttft, ttfo for the
first answer token, tpot, e2e, and sched_e2e for queue + latency; Go durations, or bare numbers in ms) judges
each measured request as vLLM's --goodput does: good when it succeeded and
met every objective (limits included). A value a request lacks does not meet
its objective (TTFT of a non-streamed request), except a one-token output's
TPOT, which vLLM counts as 0. Each group gets goodput_req_per_s (good
requests per second of duration_s) and slo_met_ratio (good / requests,
failures not met); the columns are always there, empty without --slo.
--min-goodput-ratio 0.9 exits 9 when a group's slo_met_ratio is below 0.9,
naming each such group on stderr. Open-loop groups whose sends fell more
than 5% short of their rate, and outputs shorter than max_tokens under
ignore_eos, are warned about on stderr too.`

// exitCodes are the codes summarize returns, from the one table.
var exitCodes = []cmdline.ExitCode{cmdline.ExitOK, cmdline.ExitFailure, cmdline.ExitUsage,
	cmdline.ExitBadInput, cmdline.ExitGoodput, cmdline.ExitRegression}

func main() { cmdline.Main(run, cmdline.DefaultSignals) }

// now is the clock of the log blocks' timestamps; tests fix it.
var now = time.Now

// run is the whole summarize program: the flags into a config, then
// summarize.
func run(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) cmdline.ExitCode {
	var cfg config
	app := &cli.App{
		Name: "summarize", Usage: "statistics and comparisons of genload records", UsageText: "summarize [flags] [FILE...]\n   summarize --baseline OLD.jsonl [flags] [NEW.jsonl...]\n   summarize [flags] old=OLD.jsonl new=NEW.jsonl",
		Description:               description + "\n\n" + cmdline.ExitHelp(exitCodes...),
		DisableSliceFlagSeparator: true, // file names may hold commas
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "stdout format: text, csv or json", Destination: &cfg.Format},
			&cli.StringFlag{Name: "percentiles", Value: stats.DefaultPercentiles, Usage: "percentiles to report, e.g. 50,90,99.9", Destination: &cfg.Percentiles},
			&cli.StringFlag{Name: "csv", Usage: "also append one row per group to `FILE` (header only when new)", Destination: &cfg.CSVFile},
			&cli.StringFlag{Name: "log", Usage: "also append a timestamped text report to `FILE`", Destination: &cfg.LogFile},
			&cli.StringFlag{Name: "plot", Usage: "also draw latency CDFs, an ITL histogram and sweep curves into `FILE` (.png or .svg)", Destination: &cfg.Plot},
			&cli.StringFlag{Name: "html", Usage: "also write a self-contained HTML report (tables, warnings, charts, failures) to `FILE`", Destination: &cfg.HTML},
			&cli.StringSliceFlag{Name: "baseline", Usage: "compare the runs in `FILE` (repeatable) with the files given (or stdin)"},
			&cli.StringFlag{Name: "fail-on", Usage: fmt.Sprintf("with a comparison, exit %d when a significant change crosses one of the `LIMITS`, e.g. 'ttft_p99_ms>+10%%,req_per_s<-5%%'", cmdline.ExitRegression), Destination: &cfg.FailOn},
			&cli.Float64Flag{Name: "alpha", Value: 0.05, Usage: "significance level of comparisons"},
			&cli.StringFlag{Name: "slo", Usage: "judge goodput by per-request `OBJECTIVES`, e.g. 'ttft=300ms,tpot=50ms,e2e=5s' (also ttfo, sched_e2e; bare numbers are ms)", Destination: &cfg.SLO},
			&cli.Float64Flag{Name: "min-goodput-ratio", Usage: fmt.Sprintf("with --slo, exit %d when a group's share of requests meeting it is below `R` (0 < R <= 1), e.g. 0.9", cmdline.ExitGoodput), DefaultText: "no gate"},
			&cli.StringFlag{Name: "by", Usage: "split each run's load points by record `FIELDS`, e.g. turn (TTFT per conversation turn) or model,url", Destination: &cfg.By},
			&cli.BoolFlag{Name: "brief", Usage: "text: only the table of load points (the --log file keeps the full blocks)", Destination: &cfg.Brief},
			&cli.DurationFlag{Name: "slice", Usage: "also cut each group into time slices of `LENGTH` (e.g. 10s): requests finished, tok/s, TTFT/ITL/latency, errors and server gauges per slice", Destination: &cfg.Slice},
			&cli.BoolFlag{Name: "strict", Usage: fmt.Sprintf("fail with exit code %d on any bad input line, or when genload read tokens late (client read lag p99 over 1 ms)", cmdline.ExitBadInput), Destination: &cfg.Strict},
		},
		Action: func(c *cli.Context) error {
			cfg.Files = c.Args().Slice()
			cfg.Baseline = c.StringSlice("baseline")
			if c.IsSet("alpha") {
				cfg.Alpha = c.Float64("alpha")
			}
			if c.IsSet("min-goodput-ratio") {
				least := c.Float64("min-goodput-ratio")
				cfg.MinGoodputRatio = &least
			}
			return summarize(stdout, stderr, stdin, cfg)
		},
	}
	return cmdline.Run(app, cmdline.FlagsFirst(args, app.Flags), stdout, stderr)
}

// summarize is the program once its flags are read. It checks the command
// line before any input is read (a usage error writes nothing), then
// summarizes the runs of the input, or with --baseline or NAME=FILE
// arguments compares two sides of runs. The error carries the exit code
// for cmdline.Code: a cmdline.UsageError (2), a cmdline.CodeError with
// ExitBadInput, ExitGoodput or ExitRegression, or any other error (1).
func summarize(stdout, stderr io.Writer, stdin io.Reader, cfg config) error {
	p, err := newPlan(cfg)
	if err != nil {
		return err
	}
	if p.sides != nil {
		return compareSides(stdout, stderr, stdin, cfg, p)
	}
	return summarizeRuns(stdout, stderr, stdin, cfg, p)
}
