package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/fatih/color"

	"servebench/internal/cmdline"
)

// Main probes and writes one human line to stderr and, with asJSON, the
// report as JSON on stdout. The returned error carries the outcome's exit
// code (nil when ready). Ctrl-C ends a --wait early with the last verdict.
func Main(cfg Config, asJSON, colored bool, stdout, stderr io.Writer) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	rep := Run(ctx, &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg.TLS}}, cfg)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	word := color.New(color.FgGreen, color.Bold)
	if rep.outcome != Ready {
		word = color.New(color.FgRed, color.Bold)
	}
	if colored {
		word.EnableColor()
	} else {
		word.DisableColor()
	}
	fmt.Fprintf(stderr, "probe: %s: %s\n", word.Sprint(rep.Status), rep.Message)
	if rep.outcome == Ready {
		return nil
	}
	return &cmdline.CodeError{Code: int(rep.outcome)}
}
