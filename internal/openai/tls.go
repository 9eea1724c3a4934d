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
			return nil, err // *fs.PathError: names the file
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// ErrTwoKeys: a key was given both as a value and as a file.
var ErrTwoKeys = errors.New("two API keys given")

// APIKey picks the key: the given value (which may come from
// OPENAI_API_KEY), or the first line of keyFile, which keeps the key out of
// the process list and the shell history. Giving both is ErrTwoKeys,
// unless the value is only the environment's.
func APIKey(value, keyFile string) (string, error) {
	if keyFile == "" {
		return checkKey(strings.TrimSpace(value))
	}
	if value != "" && os.Getenv("OPENAI_API_KEY") != value {
		return "", ErrTwoKeys
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return "", err // *fs.PathError: names the file
	}
	key, _, _ := strings.Cut(string(data), "\n")
	key = strings.TrimSpace(key)
	if key == "" {
		return "", fmt.Errorf("%s is empty", keyFile)
	}
	return checkKey(key)
}

// ErrKeyControl is a key with a control character inside: written into a
// request head, a CR or LF would end the header (and inject the rest as
// headers of its own).
var ErrKeyControl = errors.New("the API key has a control character in it (a line break pasted with it?)")

// checkKey refuses a key with control characters, once trimmed.
func checkKey(key string) (string, error) {
	for _, c := range []byte(key) {
		if c < 0x20 || c == 0x7f {
			return "", ErrKeyControl
		}
	}
	return key, nil
}
