package sim

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for Run's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var startupLine = regexp.MustCompile(`^llmsim: serving (\S+) on (http://[^ ]*) \(ttft=(\S+) itl=(\S+) max-num-seqs=(\d+) max-model-len=(\d+)\)\n`)

func TestRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Models = []string{"m1", "m2"}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	result := make(chan error, 1)
	go func() { result <- Run(ctx, cfg, &stderr) }()
	var m []string
	for deadline := time.Now().Add(2 * time.Second); m == nil && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		m = startupLine.FindStringSubmatch(stderr.String())
	}
	if m == nil {
		t.Fatalf("no startup line in %q", stderr.String())
	}
	if m[1] != "m1,m2" || m[3] != "20ms" || m[4] != "5ms" || m[5] != "256" || m[6] != "4096" {
		t.Errorf("startup line %q", m[0])
	}
	resp, err := http.Get(m[2] + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-result:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"negative ttft", func(c *Config) { c.TTFT = -1 }},
		{"eos-prob above 1", func(c *Config) { c.EOSProb = 1.5 }},
		{"zero max-num-seqs", func(c *Config) { c.MaxNumSeqs = 0 }},
		{"empty model", func(c *Config) { c.Models = []string{""} }},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.edit(&cfg)
		if err := Run(context.Background(), cfg, &syncBuffer{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Run = %v, want ErrConfig", tt.name, err)
		}
	}
}
