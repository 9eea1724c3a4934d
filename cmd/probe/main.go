// Command probe tells whether an OpenAI-compatible server is ready to be
// benchmarked, with a distinct exit code per outcome (see the README).
package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/openai"
	"servebench/internal/probe"
)

func main() {
	app := &cli.App{
		Name:  "probe",
		Usage: "is the server up, healthy, serving the model, answering a completion?",
		UsageText: "probe [--url URL] [--model M] [--wait 10m] [--smoke] [--json]\n\n" +
			"Exit codes: 0 ready, 1 runtime error, 2 usage error, 3 unreachable, 4 not ready or unhealthy,\n" +
			"5 model not served, 6 API key rejected, 7 smoke completion failed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Value: "http://localhost:8000", Usage: "server base URL (a trailing /v1 is accepted)", EnvVars: []string{"SERVEBENCH_URL"}},
			&cli.StringFlag{Name: "model", Usage: "check that this model is served (default: any)"},
			&cli.StringFlag{Name: "api-key", EnvVars: []string{"OPENAI_API_KEY"}, Usage: "bearer token"},
			&cli.StringFlag{Name: "api-key-file", Usage: "read the bearer token from the first line of `FILE`"},
			&cli.StringFlag{Name: "ca-cert", Usage: "trust this PEM `FILE`'s certificates for https:// URLs"},
			&cli.BoolFlag{Name: "insecure", Usage: "do not verify the server's TLS certificate"},
			&cli.DurationFlag{Name: "wait", Usage: "keep trying while unreachable or not ready, up to this long (e.g. 10m)"},
			&cli.DurationFlag{Name: "interval", Value: time.Second, Usage: "time between tries with --wait"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "per HTTP check"},
			&cli.BoolFlag{Name: "smoke", Usage: "also send a real 1-token completion"},
			&cli.StringFlag{Name: "endpoint", Usage: "completions or chat, for --smoke (default: from --url, else completions)"},
			&cli.DurationFlag{Name: "smoke-timeout", Value: 60 * time.Second, Usage: "for the smoke completion"},
			&cli.BoolFlag{Name: "json", Usage: "write the report as JSON on stdout"},
		},
		Action: run,
	}
	os.Exit(cmdline.Run(app, os.Args, os.Stderr))
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdline.Usagef("unexpected arguments %q", c.Args().Slice())
	}
	t, err := openai.ParseTarget(c.String("url"))
	if err != nil {
		return cmdline.Usage(err)
	}
	endpoint := c.String("endpoint")
	if endpoint == "" {
		endpoint = t.Endpoint
	}
	if endpoint == "" {
		endpoint = openai.EndpointCompletions
	}
	if endpoint != openai.EndpointCompletions && endpoint != openai.EndpointChat {
		return cmdline.Usagef("--endpoint %q: want completions or chat", endpoint)
	}
	key, err := openai.APIKey(c.String("api-key"), c.String("api-key-file"))
	if err != nil {
		return cmdline.Usage(err)
	}
	tlsCfg, err := openai.TLSConfig(c.String("ca-cert"), c.Bool("insecure"))
	if err != nil {
		return cmdline.Usage(err)
	}
	cfg := probe.Config{
		Target: t, Model: c.String("model"), APIKey: key, Endpoint: endpoint, TLS: tlsCfg,
		Smoke: c.Bool("smoke"), Timeout: c.Duration("timeout"), SmokeTimeout: c.Duration("smoke-timeout"),
		Wait: c.Duration("wait"), Interval: c.Duration("interval"),
	}
	return probe.Main(cfg, c.Bool("json"), cmdline.UseColor(os.Stderr), os.Stdout, os.Stderr)
}
