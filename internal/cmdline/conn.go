package cmdline

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"servebench/internal/openai"
)

// Conn is how a tool reaches the server besides its URL: the bearer token
// and the TLS settings of https:// targets.
type Conn struct {
	APIKey string
	TLS    *tls.Config // nil: Go's defaults
}

// ConnFlags are the flags Conn reads, the same in genload and probe.
func ConnFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "api-key", EnvVars: []string{"OPENAI_API_KEY"}, Usage: "bearer token (never written to records or logs)"},
		&cli.StringFlag{Name: "api-key-file", Usage: "read the bearer token from the first line of `FILE` (keeps it out of ps)"},
		&cli.StringFlag{Name: "ca-cert", Usage: "trust this PEM `FILE`'s certificates for https:// URLs"},
		&cli.BoolFlag{Name: "insecure", Usage: "do not verify the server's TLS certificate"},
	}
}

// ConnFrom reads ConnFlags; its errors are usage errors naming the flag.
func ConnFrom(c *cli.Context) (Conn, error) {
	key, err := openai.APIKey(c.String("api-key"), c.String("api-key-file"))
	switch {
	case errors.Is(err, openai.ErrTwoKeys):
		return Conn{}, Usagef("give --api-key or --api-key-file, not both")
	case errors.Is(err, openai.ErrKeyControl) && c.String("api-key-file") == "":
		return Conn{}, Usagef("--api-key (or OPENAI_API_KEY): %w", err)
	case err != nil:
		return Conn{}, Usagef("--api-key-file: %w", err)
	}
	tlsCfg, err := openai.TLSConfig(c.String("ca-cert"), c.Bool("insecure"))
	if err != nil {
		return Conn{}, Usage(fmt.Errorf("--ca-cert: %w", err))
	}
	return Conn{APIKey: key, TLS: tlsCfg}, nil
}
