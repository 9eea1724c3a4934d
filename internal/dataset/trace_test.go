package dataset

import (
	"strings"
	"testing"
	"time"
)

func TestReadTraceMooncake(t *testing.T) {
	in := `{"timestamp": 27482, "input_length": 1000, "output_length": 5, "hash_ids": [46, 47]}
{"timestamp": 27482, "input_length": 600, "output_length": 2, "hash_ids": [46, 99]}

{"timestamp": 30000.5, "input_length": 100, "output_length": 1}
`
	tr, err := readTrace(strings.NewReader(in), "t.jsonl", "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != TraceMooncake || len(tr.Entries) != 3 || tr.Entries[1].Offset != 0 ||
		tr.Entries[2].Offset != 2518500*time.Microsecond || tr.Entries[0].InputTokens != 1000 || tr.Entries[0].OutputTokens != 5 {
		t.Fatalf("%+v", tr)
	}
	src := NewTraceSource(tr, 3)
	a, b, c := src.Next(), src.Next(), src.Next()
	wa, wb := strings.Fields(a.Prompt), strings.Fields(b.Prompt)
	if len(wa) != 1000 || len(wb) != 600 || len(strings.Fields(c.Prompt)) != 100 || a.MaxTokens != 5 || a.PromptWords != 1000 {
		t.Fatalf("lengths %d %d, max_tokens %d", len(wa), len(wb), a.MaxTokens)
	}
	if strings.Join(wa[:512], " ") != strings.Join(wb[:512], " ") {
		t.Error("equal hash ids, different blocks")
	}
	if strings.Join(wa[512:600], " ") == strings.Join(wb[512:600], " ") {
		t.Error("different hash ids, the same block")
	}
	again := NewTraceSource(tr, 3).Next()
	other := NewTraceSource(tr, 4).Next()
	if again.Prompt != a.Prompt || other.Prompt == a.Prompt {
		t.Error("a seed should give the same blocks, another seed others")
	}
}

func TestReadTraceAzure(t *testing.T) {
	in := "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n"
	tr, err := readTrace(strings.NewReader(in), "AzureLLMInferenceTrace_conv.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != TraceAzure || len(tr.Entries) != 2 || tr.Entries[1].Offset != 4314579*time.Microsecond || tr.Entries[1].InputTokens != 396 {
		t.Fatalf("%+v", tr.Entries)
	}
	if it := NewTraceSource(tr, 0).Next(); len(strings.Fields(it.Prompt)) != 374 || it.MaxTokens != 44 {
		t.Errorf("%d words, max_tokens %d", len(strings.Fields(it.Prompt)), it.MaxTokens)
	}
}

func TestReadTraceJSONL(t *testing.T) {
	in := `{"offset_ms": 0, "prompt": "hello there", "output_tokens": 4}
{"offset_ms": 10, "messages": [{"role": "user", "content": "hi"}], "output_tokens": 2}
{"offset_ms": 20, "input_tokens": 30, "output_tokens": 3}`
	tr, err := readTrace(strings.NewReader(in), "t.jsonl", "")
	if err != nil {
		t.Fatal(err)
	}
	src := NewTraceSource(tr, 0)
	if a, b, c := src.Next(), src.Next(), src.Next(); a.Prompt != "hello there" || b.Messages[0].Content != "hi" || len(strings.Fields(c.Prompt)) != 30 || c.MaxTokens != 3 {
		t.Errorf("%+v %+v %+v", a, b, c)
	}
}

func TestReadTraceBad(t *testing.T) {
	for _, tc := range []struct{ in, format, want string }{
		{`{"timestamp":5,"input_length":3,"output_length":1}` + "\n" + `{"timestamp":4,"input_length":3,"output_length":1}`, "", "t.jsonl:2: the time 4 ms is before the line above's 5 ms"},
		{`{"timestamp":5,"input_length":3}`, "", "t.jsonl:1: no output_length"},
		{`{"timestamp":5,"input_length":0,"output_length":1}`, "", "t.jsonl:1: input_length 0"},
		{`{"timestamp":5,"input_length":10,"output_length":1,"hash_ids":[1,2]}`, "", "2 hash_ids of 512 tokens for input_length 10"},
		{`{"timestamp":5,"input_lenght":10,"output_length":1}`, "", `unknown field "input_lenght"`},
		{`{"offset_ms":5,"output_tokens":1}`, "", "t.jsonl:1: no input_tokens"},
		{`{"offset_ms":5,"output_tokens":1,"hash_ids":[1]}`, "", "a mooncake key in a jsonl trace"},
		{`{"foo":1}`, "", "cannot tell its format"},
		{"", "mooncake", "has no requests"},
		{`{"timestamp":0,"input_length":3,"output_length":1}` + "\n" + `{"timestamp":4e12,"input_length":3,"output_length":1}`, "", "over 720h0m0s"},
		{"TIMESTAMP,ContextTokens\n", "azure", "no GeneratedTokens column"},
		{"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,x\n", "azure", "t.jsonl:2: GeneratedTokens \"x\""},
		{"TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,1\n", "azure", `t.jsonl:2: TIMESTAMP "yesterday"`},
		{"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\n2023-11-16 18:15:45,1,1\n", "azure", "t.jsonl:3: TIMESTAMP 2023-11-16 18:15:45 is before"},
		{"x", "nope", `"nope": want mooncake, azure or jsonl`},
	} {
		_, err := readTrace(strings.NewReader(tc.in), "t.jsonl", tc.format)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzReadTrace: any input gives a trace in time order with usable
// lengths and prompts of those lengths, or an error; never a panic.
func FuzzReadTrace(f *testing.F) {
	f.Add([]byte(`{"timestamp":1,"input_length":600,"output_length":2,"hash_ids":[1,2]}`), "mooncake")
	f.Add([]byte(`{"offset_ms":0,"prompt":"a b","output_tokens":1}`), "jsonl")
	f.Add([]byte("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,3,4\n"), "azure")
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		tr, err := readTrace(strings.NewReader(string(data)), "f", format)
		if err != nil {
			return
		}
		src := NewTraceSource(tr, 1)
		for _, e := range tr.Entries {
			if e.InputTokens > 5000 {
				return // building it would only be slow
			}
		}
		for i, e := range tr.Entries {
			if (i > 0 && e.Offset < tr.Entries[i-1].Offset) || e.Offset < 0 || e.OutputTokens < 1 {
				t.Fatalf("entry %d: %+v", i, e)
			}
			it := src.Next()
			if e.Prompt == "" && e.Messages == nil && len(strings.Fields(it.Prompt)) != e.InputTokens {
				t.Fatalf("entry %d: %d words for %d tokens", i, len(strings.Fields(it.Prompt)), e.InputTokens)
			}
		}
	})
}
