package openai

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TLSConfig returns the client TLS settings for https:// URLs: the system's
// roots plus caFile's certificates (PEM) when given, or no verification at
// all when insecure is set explicitly. nil means Go's defaults.
func TLSConfig(caFile string, insecure bool) (*tls.Config, error) {
	if caFile == "" && !insecure {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // only on --insecure
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// APIKey picks the key: the flag's value (which may come from
// OPENAI_API_KEY), or the first line of keyFile, which keeps the key out of
// the process list and the shell history. Giving both is an error.
func APIKey(flagValue, keyFile string) (string, error) {
	if keyFile == "" {
		return flagValue, nil
	}
	if flagValue != "" && os.Getenv("OPENAI_API_KEY") != flagValue {
		return "", errors.New("give --api-key or --api-key-file, not both")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return "", fmt.Errorf("--api-key-file: %w", err)
	}
	key, _, _ := strings.Cut(string(data), "\n")
	key = strings.TrimSpace(key)
	if key == "" {
		return "", fmt.Errorf("--api-key-file %s is empty", keyFile)
	}
	return key, nil
}
