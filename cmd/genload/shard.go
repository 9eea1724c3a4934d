package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/load"
)

// startBaseEnv is the shared value a relative --start-at (+30s) counts
// from, when set: an RFC 3339 time every shard is given alike.
const startBaseEnv = "SERVEBENCH_START_BASE"

// maxStartLate is how far in the past --start-at may be: a shard that
// starts some minutes late (an image pulled slowly) still runs, and says
// so; a start hours ago is a stale value, not a late shard.
const maxStartLate = 10 * time.Minute

// shardFlags split one run across several genload processes (docs/genload.md,
// "Several processes").
func shardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "shard", Usage: "send shard K (0-based) of the N into which the run's schedule is split (`K/N`); every shard gets the same flags and --seed"},
		&cli.StringFlag{Name: "start-at", Usage: "start the run's clock at `TIME`: RFC 3339, or +30s after $" + startBaseEnv + " (else after the next whole minute), so that shards start together"},
	}
}

// shardConfig reads --shard and --start-at into cfg, before Validate.
func shardConfig(c *cli.Context, cfg *load.Config, stderr io.Writer) error {
	if c.IsSet("shard") {
		s, err := load.ParseShard(c.String("shard"))
		if err != nil {
			return cmdline.Usage(worded(err, cfg))
		}
		cfg.Shard = s
	}
	if c.IsSet("start-at") {
		at, err := load.ResolveStartAt(c.String("start-at"), os.Getenv(startBaseEnv), time.Now())
		if err != nil {
			return cmdline.Usage(worded(err, cfg))
		}
		if late := time.Since(at); late > maxStartLate {
			return cmdline.Usagef("--start-at %s was %v ago: a stale value (a manifest's placeholder?); give a time ahead, the same to every shard", at.Format(time.RFC3339), late.Round(time.Second))
		}
		cfg.StartAt = at
	} else if cfg.Shard.On() && !cfg.Quiet {
		fmt.Fprintf(stderr, "genload: warning: shard %s without --start-at: its clock starts when this process does, so the merged schedule is only as aligned as the launches\n", cfg.Shard)
	}
	return nil
}
