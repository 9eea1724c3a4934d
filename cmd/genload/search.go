package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/load"
	"servebench/internal/record"
	"servebench/internal/summary"
)

// searchFlags are the flags of a capacity search (docs/genload.md#capacity-search).
var searchFlags = []cli.Flag{
	&cli.StringFlag{Name: "search", Usage: "capacity search: find the highest rate or concurrency whose goodput ratio under --slo is at least --min-goodput-ratio"},
	&cli.StringFlag{Name: "slo", Usage: "search: the objectives, as summarize's --slo: ttft=500,tpot=50 (ms, or 500ms, 2s), keys ttft, ttfo, tpot, e2e, sched_e2e"},
	&cli.Float64Flag{Name: "min-goodput-ratio", Value: 0.95, Usage: "search: the share of good requests a load point needs to pass (0 < R < 1)"},
	&cli.Float64Flag{Name: "search-min", Usage: "search: the lowest load tried", DefaultText: "rate 0.5/S from one serial probe request of service time S; concurrency 1"},
	&cli.Float64Flag{Name: "search-max", Usage: "search: the highest load tried", DefaultText: "rate 1000/S; concurrency 1024"},
	&cli.StringFlag{Name: "search-precision", Value: "5%", Usage: "search: stop when the bracket between the highest pass and the lowest fail is this narrow (relative)"},
	&cli.IntFlag{Name: "search-runs", Value: load.DefaultSearchRuns, Usage: "search: runs of one load point, pooled, while its verdict is unclear"},
}

// searchFieldFlags name the load.Search fields as flags, for fieldFlags.
var searchFieldFlags = map[string]string{
	"Search": "--search", "SearchSLO": "--slo", "MinGoodput": "--min-goodput-ratio", "SearchMin": "--search-min",
	"SearchMax": "--search-max", "SearchPrecision": "--search-precision", "SearchRuns": "--search-runs",
}

func init() {
	for k, v := range searchFieldFlags {
		fieldFlags[k] = v
	}
}

// searchConfig reads the search flags into cfg.Search (nil without
// --search). The SLO is summarize's: the same parser and the same test
// of a good request (summary.SLO.Met), so that summarize --slo agrees.
func searchConfig(c *cli.Context, cfg *load.Config) error {
	if !c.IsSet("search") {
		for _, f := range []string{"slo", "min-goodput-ratio", "search-min", "search-max", "search-precision", "search-runs"} {
			if c.IsSet(f) {
				return cmdline.Usagef("--%s is a setting of the capacity search: give --search rate or --search concurrency too", f)
			}
		}
		return nil
	}
	for _, f := range []string{"concurrency", "request-rate"} {
		if c.IsSet(f) {
			return cmdline.Usagef("--search chooses the load itself: leave out --%s (--search-min and --search-max bound it)", f)
		}
	}
	if !c.IsSet("slo") {
		return cmdline.Usagef("--search needs --slo, the objectives a good request meets, e.g. --slo ttft=500,tpot=50")
	}
	slo, err := summary.ParseSLO(c.String("slo"))
	if err != nil {
		return cmdline.Usagef("--slo %v", err)
	}
	if slo.IsZero() {
		return cmdline.Usagef("--slo %q sets no objective", c.String("slo"))
	}
	prec, err := parseShare(c.String("search-precision"))
	if err != nil {
		return cmdline.Usagef("--search-precision %q: %v", c.String("search-precision"), err)
	}
	dim := c.String("search")
	switch dim {
	case record.SearchRate, record.SearchConcurrency:
	default:
		return cmdline.Usagef("--search %q: want rate or concurrency", dim)
	}
	cfg.Search = &load.Search{
		Dim: dim, SLO: slo.String(), Good: slo.Met, MinGoodput: c.Float64("min-goodput-ratio"),
		Min: c.Float64("search-min"), Max: c.Float64("search-max"), Precision: prec, MaxRuns: c.Int("search-runs"),
		QueueLimit: max(slo.TTFT, slo.TTFO, slo.E2E, slo.SchedE2E),
	}
	if c.IsSet("search-runs") && c.Int("search-runs") < 1 {
		return cmdline.Usagef("--search-runs %d: want at least 1", c.Int("search-runs"))
	}
	return nil
}

// parseShare reads a share written as a percentage (5%, 2.5%) or as a
// fraction (0.05).
func parseShare(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a percentage such as 5%% or a fraction such as 0.05")
	}
	if pct {
		v /= 100
	}
	if !(v > 0 && v < 1) {
		return 0, fmt.Errorf("want above 0%% and below 100%%")
	}
	return v, nil
}

// reportSearch prints a search's answer on stderr (even with --quiet: it
// is the run's result).
func reportSearch(stderr io.Writer, res *load.SearchResult) {
	if res != nil {
		fmt.Fprintf(stderr, "genload: %s\n", res)
	}
}
