// Command probe tells whether an OpenAI-compatible server is ready to be
// benchmarked, with a distinct exit code per outcome (docs/probe.md).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/openai"
	"servebench/internal/probe"
)

// advice words each of probe's advices with the flags that follow it.
var advice = map[probe.Advice]string{
	probe.GiveKey:      "set it with --api-key, --api-key-file or OPENAI_API_KEY",
	probe.Wait:         "try --wait 10m",
	probe.WaitOrLonger: "try --wait, or a longer --timeout",
	probe.TrustCert:    "trust its CA with --ca-cert FILE, or skip the check with --insecure",
}

// exitCodes gives each outcome its code of the one table.
var exitCodes = map[probe.Outcome]cmdline.ExitCode{
	probe.Ready:       cmdline.ExitOK,
	probe.Unreachable: cmdline.ExitUnreachable,
	probe.NotReady:    cmdline.ExitNotReady,
	probe.NoModel:     cmdline.ExitNoModel,
	probe.AuthFailed:  cmdline.ExitAuth,
	probe.SmokeFailed: cmdline.ExitSmoke,
}

func main() { cmdline.Main(run) }

// run is the whole probe program. Ctrl-C ends a --wait early with the last
// verdict.
func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) cmdline.ExitCode {
	app := &cli.App{
		Name:  "probe",
		Usage: "is the server up, healthy, serving the model, answering a completion?",
		UsageText: "probe [--url URL] [--model M] [--wait 10m] [--smoke] [--json]\n\n" +
			cmdline.ExitHelp(cmdline.ExitOK, cmdline.ExitFailure, cmdline.ExitUsage, cmdline.ExitUnreachable,
				cmdline.ExitNotReady, cmdline.ExitNoModel, cmdline.ExitAuth, cmdline.ExitSmoke),
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "url", Value: "http://localhost:8000", Usage: "server base URL (a trailing /v1 is accepted)", EnvVars: []string{"SERVEBENCH_URL"}},
			&cli.StringFlag{Name: "model", Usage: "check that this model is served (default: any)"},
			&cli.DurationFlag{Name: "wait", Usage: "keep trying while unreachable or not ready, up to this long (e.g. 10m)"},
			&cli.DurationFlag{Name: "interval", Value: time.Second, Usage: "time between tries with --wait"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "per HTTP check"},
			&cli.BoolFlag{Name: "smoke", Usage: "also send a real 1-token completion"},
			&cli.StringFlag{Name: "endpoint", Usage: "completions, chat, responses or embeddings, for --smoke (default: from --url, else completions)"},
			&cli.DurationFlag{Name: "smoke-timeout", Value: 60 * time.Second, Usage: "for the smoke completion"},
			&cli.BoolFlag{Name: "json", Usage: "write the report as JSON on stdout"},
		}, cmdline.ConnFlags()...),
		Action: func(c *cli.Context) error {
			cfg, err := config(c)
			if err != nil {
				return err
			}
			return report(ctx, cfg, c.Bool("json"), cmdline.UseColor(stderr), stdout, stderr)
		},
	}
	return cmdline.Run(app, args, stdout, stderr)
}

// config checks the command line.
func config(c *cli.Context) (probe.Config, error) {
	if c.NArg() > 0 {
		return probe.Config{}, cmdline.Usagef("unexpected arguments %q", c.Args().Slice())
	}
	t, err := openai.ParseTarget(c.String("url"))
	if err != nil {
		return probe.Config{}, cmdline.Usagef("--url: %w", err)
	}
	endpoint := c.String("endpoint")
	if endpoint == "" {
		endpoint = t.Endpoint
	}
	if endpoint == "" {
		endpoint = openai.EndpointCompletions
	}
	if !openai.KnownEndpoint(endpoint) {
		return probe.Config{}, cmdline.Usagef("--endpoint %q: want %s", endpoint, openai.Endpoints)
	}
	conn, err := cmdline.ConnFrom(c)
	if err != nil {
		return probe.Config{}, err
	}
	return probe.Config{
		Target: t, Model: c.String("model"), APIKey: conn.APIKey, Endpoint: endpoint, TLS: conn.TLS,
		Smoke: c.Bool("smoke"), Timeout: c.Duration("timeout"), SmokeTimeout: c.Duration("smoke-timeout"),
		Wait: c.Duration("wait"), Interval: c.Duration("interval"),
	}, nil
}

// report probes and writes one human line to stderr and, with asJSON, the
// report as JSON on stdout. The error carries the outcome's exit code.
func report(ctx context.Context, cfg probe.Config, asJSON, colored bool, stdout, stderr io.Writer) error {
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg.TLS},
		CheckRedirect: openai.NoRedirects}
	cfg.Waiting = waiting(stderr, cmdline.IsTerminal(stderr), time.Now)
	rep := probe.Run(ctx, hc, cfg)
	if next, ok := advice[rep.Advice]; ok {
		rep.Message += "; " + next
	}
	code := exitCodes[rep.Outcome()]
	rep.ExitCode = int(code)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	word := color.New(color.FgGreen, color.Bold)
	if rep.Outcome() != probe.Ready {
		word = color.New(color.FgRed, color.Bold)
	}
	if colored {
		word.EnableColor()
	} else {
		word.DisableColor()
	}
	if cmdline.IsTerminal(stderr) && cfg.Wait > 0 {
		fmt.Fprint(stderr, "\r\x1b[K") // the last waiting line gives way to the verdict
	}
	fmt.Fprintf(stderr, "probe: %s: %s\n", word.Sprint(rep.Status), rep.Message)
	if code == cmdline.ExitOK {
		return nil
	}
	return &cmdline.CodeError{Code: code}
}

// waitingEvery is how often a wait is reported when stderr is not a
// terminal (a cron log): often enough to see progress, rarely enough to
// keep a 10-minute wait to ten lines.
const waitingEvery = time.Minute

// waiting reports a --wait as it goes: on a terminal one line redrawn at
// every try, elsewhere a line at the first try and then once a minute.
func waiting(stderr io.Writer, terminal bool, now func() time.Time) func(*probe.Report, time.Duration) {
	var last time.Time
	return func(rep *probe.Report, left time.Duration) {
		t := now()
		if !terminal && !last.IsZero() && t.Sub(last) < waitingEvery {
			return
		}
		last = t
		line := fmt.Sprintf("probe: waiting for %s: %s (%s), %s left", rep.URL, rep.Status, rep.Message, left.Round(time.Second))
		if terminal {
			fmt.Fprint(stderr, "\r\x1b[K"+line)
			return
		}
		fmt.Fprintln(stderr, line)
	}
}
