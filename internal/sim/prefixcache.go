package sim

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"strconv"
	"sync"
	"time"
)

// Defaults of the prefix cache.
const (
	// DefaultBlockTokens is vLLM's default --block-size on GPUs.
	DefaultBlockTokens = 16
	// DefaultCacheBlocks is llmsim's cache size: 262,144 tokens, of the
	// order of what an 8B model's KV cache holds on one 80 GB GPU (at
	// 128 KiB a token in 16 bits, about 32 GiB).
	DefaultCacheBlocks = 16384
)

// promptAcc tokenizes a request's prompt: it counts the tokens and, when
// the server caches prefixes, folds them into the chained hashes of the
// prompt's full blocks, as vLLM's block hashes chain (a block's hash covers
// its tokens and, through its parent's hash, everything before it). It
// keeps no token, so a long prompt costs a hash per block, not a slice.
type promptAcc struct {
	pieces bool // the pieces tokenizer, else words
	block  int  // tokens per block; 0: hash nothing
	n      int
	h      uint64   // running hash of the current block, from its parent's
	blocks []uint64 // hashes of the full blocks so far
	keep   bool     // collect the ids, for /tokenize
	ids    []uint32
}

// newPromptAcc is the accumulator for one request on s.
func (s *Server) newPromptAcc() *promptAcc {
	a := &promptAcc{pieces: s.cfg.Tokenizer == TokenizerPieces}
	if s.cache != nil {
		a.block = s.cfg.BlockTokens
	}
	a.h = hashSeed
	return a
}

const hashSeed = 0x9e3779b97f4a7c15

// id adds one token.
func (a *promptAcc) id(id uint32) {
	a.n++
	if a.keep {
		a.ids = append(a.ids, id)
	}
	if a.block == 0 {
		return
	}
	a.h = bits.RotateLeft64((a.h^uint64(id))*0xbf58476d1ce4e5b9, 29)
	if a.n%a.block == 0 {
		h := a.h
		h ^= h >> 31
		h *= 0x94d049bb133111eb
		h ^= h >> 29
		a.blocks = append(a.blocks, h)
		a.h = h
	}
}

// text adds the tokens of text.
func (a *promptAcc) text(text string) {
	if a.pieces {
		pieceTokens(text, a.id)
	} else {
		wordTokens(text, a.id)
	}
}

// prompt adds a completions prompt: a string, a list of one string, a list
// of token ids, or a list of one list of token ids.
func (a *promptAcc) prompt(raw json.RawMessage) *apiError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return badRequest("Field required: prompt.")
	}
	switch raw[0] {
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return badRequest("invalid prompt: %v", err)
		}
		a.text(text)
	case '[':
		var parts []json.RawMessage
		if err := json.Unmarshal(raw, &parts); err != nil {
			return badRequest("invalid prompt: %v", err)
		}
		if len(parts) == 0 {
			return badRequest("The prompt cannot be empty.")
		}
		first := bytes.TrimSpace(parts[0])
		if len(first) > 0 && (first[0] == '-' || first[0] >= '0' && first[0] <= '9') {
			for _, part := range parts { // token ids
				v, err := strconv.ParseInt(string(bytes.TrimSpace(part)), 10, 64)
				if err != nil {
					return badRequest("invalid prompt: token ids must be integers, got %s", part)
				}
				a.id(uint32(v) ^ uint32(v>>32))
			}
			break
		}
		if len(parts) != 1 {
			return badRequest("llmsim accepts one prompt per request, got %d.", len(parts))
		}
		return a.prompt(first)
	default:
		return badRequest("prompt must be a string, a list of strings or a list of token ids.")
	}
	if a.n == 0 {
		return badRequest("The decoder prompt cannot be empty.")
	}
	return nil
}

// messages adds a chat prompt: every message's text content and, with the
// pieces tokenizer, the chat template around it (see tokStart).
func (a *promptAcc) messages(msgs []chatMessage, generationPrompt bool) *apiError {
	if len(msgs) == 0 {
		return badRequest("Field required: messages (a non-empty list).")
	}
	for i, m := range msgs {
		if a.pieces {
			a.id(tokStart)
			a.id(roleToken(m.Role))
		}
		c := bytes.TrimSpace(m.Content)
		switch {
		case len(c) == 0 || string(c) == "null":
		case c[0] == '"':
			var text string
			if err := json.Unmarshal(c, &text); err != nil {
				return badRequest("messages[%d].content: %v", i, err)
			}
			a.text(text)
		case c[0] == '[':
			var parts []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if err := json.Unmarshal(c, &parts); err != nil {
				return badRequest("messages[%d].content: %v", i, err)
			}
			for k, p := range parts {
				if a.pieces && k > 0 {
					a.id(contentSeparatorTokenID)
				}
				a.text(p.Text)
			}
		default:
			return badRequest("messages[%d].content must be a string or a list of parts.", i)
		}
		if a.pieces {
			a.id(tokEnd)
		}
	}
	if a.pieces && generationPrompt {
		a.id(tokStart)
		a.id(tokAssistant)
	}
	return nil
}

// prefixCache is an LRU set of block hashes: the blocks whose KV the
// simulated engine holds. It is keyed by content alone (hash chains), so
// requests that share a prefix share its blocks whatever their model name
// or endpoint, as in one vLLM engine.
type prefixCache struct {
	mu    sync.Mutex
	cap   int
	nodes map[uint64]*cacheNode
	head  cacheNode // sentinel: head.next is the most recently used
}

type cacheNode struct {
	hash       uint64
	prev, next *cacheNode
}

func newPrefixCache(blocks int) *prefixCache {
	c := &prefixCache{cap: blocks, nodes: make(map[uint64]*cacheNode)}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// admit looks up a prompt's blocks and caches them, returning how many of
// the leading ones were cached already. At most maxHit blocks count as
// hits: vLLM never serves the last prompt token from the cache (it must
// compute it to sample the first output token), so a prompt of n tokens
// can hit at most floor((n-1)/block) blocks. Every block is then the most
// recently used, the first ones most of all, so that eviction (least
// recently used first) drops a prompt's tail before its head, as vLLM's
// free queue does.
func (c *prefixCache) admit(blocks []uint64, maxHit int) (hits int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range blocks {
		if hits >= maxHit || c.nodes[h] == nil {
			break
		}
		hits++
	}
	for i := len(blocks) - 1; i >= 0; i-- {
		c.touch(blocks[i])
	}
	return hits
}

// touch makes h the most recently used block, caching it (and evicting
// the least recently used one) if it was not.
func (c *prefixCache) touch(h uint64) {
	n := c.nodes[h]
	if n != nil {
		n.prev.next, n.next.prev = n.next, n.prev
	} else {
		if len(c.nodes) >= c.cap {
			old := c.head.prev
			old.prev.next, c.head.prev = &c.head, old.prev
			delete(c.nodes, old.hash)
			n = old // reused
			n.hash = h
		} else {
			n = &cacheNode{hash: h}
		}
		c.nodes[h] = n
	}
	n.prev, n.next = &c.head, c.head.next
	c.head.next.prev = n
	c.head.next = n
}

// reset empties the cache, as vLLM's POST /reset_prefix_cache does.
func (c *prefixCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.nodes)
	c.head.prev, c.head.next = &c.head, &c.head
}

// len is the number of cached blocks.
func (c *prefixCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// admitPrompt is the hook at admission: the prompt's cached tokens, its
// prefill time, and the /metrics counters.
func (s *Server) admitPrompt(p *plan) {
	if s.cache != nil {
		b := s.cfg.BlockTokens
		p.cached = b * s.cache.admit(p.blocks, max(p.promptTokens-1, 0)/b)
		s.stats.cacheQueries.Add(uint64(p.promptTokens))
		s.stats.cacheHits.Add(uint64(p.cached))
	}
	p.prefill = time.Duration(p.promptTokens-p.cached) * s.cfg.PrefillPerToken
}
