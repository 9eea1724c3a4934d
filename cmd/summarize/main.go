// Command summarize reads servebench records (JSON lines) and reports
// statistics per run and load point: text, CSV or JSON on stdout, and
// optionally appended CSV rows and log blocks.
package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

const description = `Reads records from the files (or stdin when none, or "-"), groups them by
run_id, label, concurrency and rate, and summarizes the measure phase of each.
Flags go before the file names.

EXIT CODES: 0 success; 1 runtime failure (unreadable input, no records, an
output that cannot be written, a --csv file with other columns); 2 usage error;
3 bad input lines with --strict (nothing is written then).`

func main() {
	var cfg summary.Config
	app := &cli.App{
		Name: "summarize", Usage: "statistics of genload records", UsageText: "summarize [flags] [FILE...]",
		Description: description,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "stdout format: text, csv or json", Destination: &cfg.Format},
			&cli.StringFlag{Name: "percentiles", Value: stats.DefaultPercentiles, Usage: "percentiles to report, e.g. 50,90,99.9", Destination: &cfg.Percentiles},
			&cli.StringFlag{Name: "csv", Usage: "also append one row per group to `FILE` (header only when new)", Destination: &cfg.CSVFile},
			&cli.StringFlag{Name: "log", Usage: "also append a timestamped text report to `FILE`", Destination: &cfg.LogFile},
			&cli.BoolFlag{Name: "strict", Usage: "fail with exit code 3 on any bad input line", Destination: &cfg.Strict},
		},
		Action: func(c *cli.Context) error {
			cfg.Files = c.Args().Slice()
			return summary.Main(os.Stdout, os.Stderr, os.Stdin, cfg)
		},
	}
	os.Exit(cmdline.Run(app, os.Args, os.Stderr))
}
