package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/load"
	"servebench/internal/openai"
	"servebench/internal/setting"
)

// fieldFlags names the settings of load.Config and dataset.Config as
// genload's flags, for the libraries' setting.Errors.
var fieldFlags = map[string]string{
	"Prompts": "--prompt", "PromptFile": "--prompt-file", "ShareGPTFile": "--sharegpt",
	"InputTokens": "--input-tokens", "InputTokensRange": "--input-tokens-range",
	"OutputTokens": "--output-tokens", "OutputTokensRange": "--output-tokens-range",
	"SharedPrefixTokens": "--shared-prefix-tokens",
	"URL":                "--url", "Endpoint": "--endpoint", "BatchSize": "--batch-size", "Model": "--model", "Requests": "--requests", "Duration": "--duration",
	"Warmup": "--warmup", "MaxTokens": "--max-tokens", "FirstTokenTimeout": "--first-token-timeout", "Grace": "--grace",
	"Concurrencies": "--concurrency", "Rates": "--request-rate", "MaxConcurrency": "--max-concurrency",
	"Arrival": "--arrival", "Burstiness": "--burstiness", "RampUp": "--ramp-up",
	"Models": "--model", "ModelMix": "--model-mix",
	"URLs": "--url", "URLMix": "--url-mix", "Shard": "--shard", "StartAt": "--start-at", "RunID": "--run-id", "Seed": "--seed",
	"Tokenize":         "--tokenize",
	"ConversationFile": "--conversations", "Turns": "--turns", "ThinkTime": "--think-time",
	"KeepReasoning": "--keep-reasoning", "SessionHeader": "--session-header",
	"PrefixGroups": "--prefix-groups", "PrefixMix": "--prefix-mix",
	"TraceFile": "--trace", "TraceFormat": "--trace-format", "TimeScale": "--time-scale",
	"MaxErrorRate": "--max-error-rate", "ErrorWindow": "--error-window",
	"ReadCoalesce": "--read-coalesce",
}

// models reads --model: one id, or a comma-separated list to mix.
func models(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		switch {
		case m == "":
			return nil, cmdline.Usagef("--model %q: an empty name in the list", s)
		case slices.Contains(out, m):
			return nil, cmdline.Usagef("--model %q names %s twice (weigh it with --model-mix instead)", s, m)
		}
		out = append(out, m)
	}
	return out, nil
}

// urls reads --url: one base URL, or several replicas (repeated, or a
// comma-separated list).
func urls(list []string) (string, []string, error) {
	var out []string
	for _, u := range list {
		if u = strings.TrimSpace(u); u == "" {
			return "", nil, cmdline.Usagef("--url %q: an empty URL in the list", strings.Join(list, ","))
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return "", nil, cmdline.Usagef("--url: give the server's URL")
	}
	return out[0], out, nil
}

// parseList reads a comma-separated list of load points ("1,2,4,8") given
// to flag, with parse applied to each element.
func parseList[T any](s, flag string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a valid value in %q", flag, f, s)
		}
		out = append(out, v)
	}
	return out, nil
}

func flagName(field string) (string, bool) {
	f, ok := fieldFlags[field]
	return f, ok
}

// worded says a library's error about a setting in the words of genload's
// command line: the flag for a Config field, the flag that named a file
// that cannot be read.
func worded(err error, cfg *load.Config) error {
	var se *setting.Error
	if errors.As(err, &se) {
		return errors.New(se.Named(flagName))
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch pe.Path {
		case cfg.Dataset.PromptFile:
			return fmt.Errorf("--prompt-file: %w", err)
		case cfg.Dataset.ShareGPTFile:
			return fmt.Errorf("--sharegpt: %w", err)
		case cfg.Conversations.File:
			return fmt.Errorf("--conversations: %w", err)
		case cfg.TraceFile:
			return fmt.Errorf("--trace: %w", err)
		}
	}
	return err
}

// extraBody is what every request body gets besides genload's own fields:
// --extra-body, then the sampling flags given (they win), nil when none.
func extraBody(c *cli.Context) (map[string]any, error) {
	extra := map[string]any{}
	if v := c.String("extra-body"); v != "" {
		data := []byte(v)
		if file, ok := strings.CutPrefix(v, "@"); ok {
			var err error
			if data, err = os.ReadFile(file); err != nil {
				return nil, cmdline.Usagef("--extra-body: %w", err)
			}
		}
		obj, err := openai.ParseObject(data)
		if err != nil {
			return nil, cmdline.Usagef("--extra-body: %v (give a JSON object, such as '{\"temperature\":0}', or @FILE)", err)
		}
		for _, k := range openai.OwnFields {
			if _, ok := obj[k]; ok {
				return nil, cmdline.Usagef("--extra-body sets %q, which genload sets and records itself: use its flag (--model, --prompt..., --max-tokens, --ignore-eos, --stream)", k)
			}
		}
		extra = obj
	}
	for flag, key := range map[string]string{"temperature": "temperature", "top-p": "top_p", "top-k": "top_k", "sampling-seed": "seed"} {
		if c.IsSet(flag) {
			extra[key] = c.Value(flag)
		}
	}
	if len(extra) == 0 {
		return nil, nil
	}
	return extra, nil
}

// framingHeaders are the headers genload's HTTP clients write themselves:
// a --header cannot replace them without breaking the request.
var framingHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Te", "Trailer", "Upgrade"}

// headers reads --header 'Name: value' (repeatable). A value with CR, LF
// or another control character would split the request: a usage error,
// never sent.
func headers(specs []string) (http.Header, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, spec := range specs {
		name, value, ok := strings.Cut(spec, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok || name == "":
			return nil, cmdline.Usagef("--header %q: want 'Name: value'", spec)
		case !validHeaderName(name):
			return nil, cmdline.Usagef("--header %q: %q is not a header name", spec, name)
		case !validHeaderValue(value):
			return nil, cmdline.Usagef("--header %s: the value has a control character (CR or LF would split the request): not sent", name)
		case slices.Contains(framingHeaders, http.CanonicalHeaderKey(name)):
			return nil, cmdline.Usagef("--header %s: genload's HTTP client sets it itself", name)
		}
		h.Add(name, value)
	}
	return h, nil
}

// validHeaderName: a token of RFC 9110's tchar, as net/http checks it.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue: no control character but a tab, as net/http checks it
// (obs-text, bytes 0x80 and up, is allowed).
func validHeaderValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
