// Command tinymodel writes a tiny random-weight llama model as a GGUF file, so
// that a real inference engine (Ollama) can be tested where no model can be
// downloaded. The model talks nonsense, fast: 2 layers, embedding 64, 4
// heads, feed-forward 128, all F32, a 384-token byte-level BPE vocabulary;
// about half a megabyte.
//
// It never generates an end-of-generation or other control token, so every
// request runs to its max_tokens, as vLLM's ignore_eos would make it, and
// token counts can be checked exactly. The trick: dimension 0 of the
// residual stream is a positive constant (every embedding has it, and no
// layer writes to it), and the output rows of the forbidden tokens are a
// large negative weight on that dimension and nothing else, so their logits
// are far below every other token's whatever the input.
//
//	go run ./tinymodel -o tiny.gguf
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/ollama/ollama/fs/ggml"
)

// The model's shape.
const (
	numLayers     = 2
	embedding     = 64
	numHeads      = 4
	feedForward   = 128
	vocabSize     = 384
	contextLength = 2048
)

// constDim0 is the value of residual dimension 0, and forbiddenWeight the
// output weight of forbidden tokens on it: their logit is about
// forbiddenWeight * constDim0 / rms(residual), hundreds below the others.
const (
	constDim0       = 2.0
	forbiddenWeight = -100.0
)

// corpus is what the merges are learnt from: plain English, so that prompts
// tokenize into fewer tokens than bytes, as with a real model.
const corpus = `The server answers requests for text completions. Each request
sends a prompt and asks for a number of tokens; the server streams them back as
they are generated, one chunk per token, and reports how many tokens the prompt
and the completion used. A benchmark measures the time to the first token, the
time between tokens, and the latency of the whole request, then the throughput
of the server when many requests are in flight at the same time. The results
are written as one line of JSON per request, and the statistics are computed
from those lines: the mean, the median, the standard deviation and the
percentiles of every metric. When the server is slow to answer, the requests
wait in a queue, and the waiting time shows in the time to the first token.
When a request fails, the record says why: the connection was refused, the
time ran out, the server returned an error, or the stream ended too early.
Tokens are counted by the server's own tokenizer, which the benchmark trusts
more than its own count of the chunks it received. This model is tiny and its
weights are random: what it writes means nothing, but it is written by a real
engine, with real batching, real scheduling and a real tokenizer, and that is
what these tests are about.`

func main() {
	out := flag.String("o", "tiny.gguf", "output file")
	seed := flag.Uint64("seed", 1, "seed of the random weights")
	eosWeight := flag.Float64("eos-weight", 0, "let the model stop: the EOS token's output weight on residual dimension 0 "+
		"(0: never stops; 1 stops after a few tokens), to see how a client copes with early stops")
	flag.Parse()
	if err := write(*out, *seed, float32(*eosWeight)); err != nil {
		fmt.Fprintln(os.Stderr, "tinymodel:", err)
		os.Exit(1)
	}
}

func write(path string, seed uint64, eosWeight float32) error {
	v := newVocab(corpus, vocabSize)
	if len(v.tokens) != vocabSize {
		return fmt.Errorf("vocabulary has %d tokens, want %d: the corpus is too small", len(v.tokens), vocabSize)
	}
	kv := ggml.KV{
		"general.architecture": "llama",
		"general.name":         "servebench-tiny",
		"general.file_type":    uint32(0), // all F32

		"llama.context_length":                   uint32(contextLength),
		"llama.embedding_length":                 uint32(embedding),
		"llama.block_count":                      uint32(numLayers),
		"llama.feed_forward_length":              uint32(feedForward),
		"llama.attention.head_count":             uint32(numHeads),
		"llama.attention.head_count_kv":          uint32(numHeads),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.rope.dimension_count":             uint32(embedding / numHeads),
		"llama.rope.freq_base":                   float32(10000),
		"llama.vocab_size":                       uint32(vocabSize),

		"tokenizer.ggml.model":            "gpt2",
		"tokenizer.ggml.pre":              "default",
		"tokenizer.ggml.tokens":           v.tokens,
		"tokenizer.ggml.token_type":       v.types,
		"tokenizer.ggml.merges":           v.merges,
		"tokenizer.ggml.bos_token_id":     v.bos,
		"tokenizer.ggml.eos_token_id":     v.eos,
		"tokenizer.ggml.add_bos_token":    true,
		"tokenizer.ggml.add_eos_token":    false,
		"tokenizer.ggml.padding_token_id": v.eos,
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := ggml.WriteGGUF(f, kv, tensors(v, seed, eosWeight)); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// tensors builds the weights. Shapes are GGUF's: the first number is the
// length of a row (the input side of a matrix), the second the number of rows.
func tensors(v vocab, seed uint64, eosWeight float32) []*ggml.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x5e7ebe7c))
	normal := func(n int, std float64) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
		return w
	}
	ones := func(n int) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = 1
		}
		return w
	}
	// zeroRow0 keeps a layer from writing to residual dimension 0.
	zeroRow0 := func(w []float32, rowLen int) []float32 {
		clear(w[:rowLen])
		return w
	}

	embd := normal(embedding*vocabSize, 0.5)
	out := normal(embedding*vocabSize, 0.25)
	for tok := range vocabSize {
		row := out[tok*embedding : (tok+1)*embedding]
		embd[tok*embedding] = constDim0
		switch {
		case tok == int(v.eos) && eosWeight != 0:
			clear(row)
			row[0] = eosWeight
		case v.allowed[tok]:
			row[0] = 0
		default:
			clear(row)
			row[0] = forbiddenWeight
		}
	}

	ts := []*ggml.Tensor{
		tensor("token_embd.weight", embd, embedding, vocabSize),
		tensor("output_norm.weight", ones(embedding), embedding),
		tensor("output.weight", out, embedding, vocabSize),
	}
	attnStd := 1 / math.Sqrt(embedding)
	for i := range numLayers {
		name := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", i, s) }
		ts = append(ts,
			tensor(name("attn_norm"), ones(embedding), embedding),
			tensor(name("attn_q"), normal(embedding*embedding, attnStd), embedding, embedding),
			tensor(name("attn_k"), normal(embedding*embedding, attnStd), embedding, embedding),
			tensor(name("attn_v"), normal(embedding*embedding, attnStd), embedding, embedding),
			tensor(name("attn_output"), zeroRow0(normal(embedding*embedding, attnStd), embedding), embedding, embedding),
			tensor(name("ffn_norm"), ones(embedding), embedding),
			tensor(name("ffn_gate"), normal(embedding*feedForward, attnStd), embedding, feedForward),
			tensor(name("ffn_up"), normal(embedding*feedForward, attnStd), embedding, feedForward),
			tensor(name("ffn_down"), zeroRow0(normal(feedForward*embedding, 1/math.Sqrt(feedForward)), feedForward), feedForward, embedding),
		)
	}
	return ts
}

// tensor wraps F32 data (row-major, rows of shape[0] values) as a GGUF tensor.
func tensor(name string, data []float32, shape ...uint64) *ggml.Tensor {
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, data) // a bytes.Buffer does not fail
	return &ggml.Tensor{Name: name, Kind: 0, Shape: shape, WriterTo: bytes.NewReader(buf.Bytes())}
}
