package sim

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The values of Config.Tokenizer.
const (
	// TokenizerWords counts whitespace-separated words, one token each,
	// with no chat template: llmsim's historical count, and what synthetic
	// prompts of common English words come to on Llama, Mistral and
	// OpenAI's tokenizers. Its ids are hashes: /detokenize cannot invert
	// them.
	TokenizerWords = "words"
	// TokenizerPieces cuts text into pieces that are not words (see
	// pieceTokens), with a chat template of fixed overhead: a server on
	// which the word approximation misses, as it does on Qwen, DeepSeek or
	// Kimi tokenizers, so that a client must ask /tokenize to send exact
	// lengths.
	TokenizerPieces = "pieces"
)

// The pieces tokenizer's ids:
//
//	0-255                      one byte (whitespace other than a single
//	                           space before a piece, control bytes and
//	                           every byte of non-ASCII text)
//	256-319                    one ASCII punctuation character, 256 + 2p + s
//	320 .. pieceEnd-1          1-4 ASCII letters or digits, 320 + 2c + s
//	pieceEnd ..                the chat template's special tokens
//
// where s is 1 when a single space comes before the character or piece
// (so " the" is one token), p the punctuation's index in punctuation,
// and c the piece in base 63, its characters' digits being 1-62
// (0-9, A-Z, a-z). Runs of letters and digits are cut every 4
// characters: "tokenizer" is "toke" "nize" "r", " which" is " whic" "h".
const (
	punctBase   = 256
	pieceBase   = punctBase + 2*32 // 32 = len(punctuation)
	pieceRadix  = 63
	pieceEnd    = pieceBase + 2*pieceRadix*pieceRadix*pieceRadix*pieceRadix
	maxPieceLen = 4
)

// punctuation is every printable ASCII character that is neither a letter
// nor a digit nor a space.
const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// The chat template's special tokens (pieces tokenizer). A message is
// <|start|>, its role's token, its content, <|end|>: 3 tokens besides
// the content; the generation prompt that chat completions always add (and
// /tokenize unless add_generation_prompt is false) is <|start|><|assistant|>,
// 2 more. Roles other than these are <|other|>.
const (
	tokStart = pieceEnd + iota
	tokEnd
	tokSystem
	tokUser
	tokAssistant
	tokTool
	tokDeveloper
	tokOther
	vocabEnd
)

var specialText = [...]string{"<|start|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|developer|>", "<|other|>"}

// Per-message and generation-prompt overheads of the pieces tokenizer's
// chat template, in tokens.
const (
	MessageOverheadTokens   = 3
	GenerationPromptTokens  = 2
	contentSeparatorTokenID = '\n' // between the text parts of one message
)

// roleToken is the special token of a message role.
func roleToken(role string) uint32 {
	switch role {
	case "system":
		return tokSystem
	case "user":
		return tokUser
	case "assistant":
		return tokAssistant
	case "tool":
		return tokTool
	case "developer":
		return tokDeveloper
	}
	return tokOther
}

// digitOf is an ASCII letter's or digit's base-63 digit (1-62), or 0.
var digitOf = func() (d [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		d[c] = uint8(c-'0') + 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		d[c] = uint8(c-'A') + 11
	}
	for c := 'a'; c <= 'z'; c++ {
		d[c] = uint8(c-'a') + 37
	}
	return d
}()

// punctOf is a punctuation character's index in punctuation plus 1, or 0.
var punctOf = func() (p [256]uint8) {
	for i := range len(punctuation) {
		p[punctuation[i]] = uint8(i) + 1
	}
	return p
}()

const digitChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// pieceTokens calls f with the ids of text's tokens under the pieces
// tokenizer, in order, without allocating. decodePieces inverts it:
// decodePieces(ids) == text for every string, valid UTF-8 or not.
func pieceTokens(text string, f func(id uint32)) {
	for i := 0; i < len(text); {
		c := text[i]
		var sp uint32
		if c == ' ' && i+1 < len(text) && (digitOf[text[i+1]] != 0 || punctOf[text[i+1]] != 0) {
			sp, i = 1, i+1
			c = text[i]
		}
		switch {
		case digitOf[c] != 0:
			code := uint32(0)
			for n := 0; n < maxPieceLen && i < len(text) && digitOf[text[i]] != 0; n++ {
				code = code*pieceRadix + uint32(digitOf[text[i]])
				i++
			}
			f(pieceBase + 2*code + sp)
		case punctOf[c] != 0:
			f(punctBase + 2*uint32(punctOf[c]-1) + sp)
			i++
		default:
			f(uint32(c))
			i++
		}
	}
}

// appendPieceText appends the text of pieces-tokenizer id, or reports
// that no token has that id.
func appendPieceText(b []byte, id int64) ([]byte, bool) {
	switch {
	case id < 0 || id >= vocabEnd:
		return b, false
	case id < punctBase:
		return append(b, byte(id)), true
	case id < pieceBase:
		id -= punctBase
		if id&1 == 1 {
			b = append(b, ' ')
		}
		return append(b, punctuation[id/2]), true
	case id < pieceEnd:
		id -= pieceBase
		if id&1 == 1 {
			b = append(b, ' ')
		}
		var digits [maxPieceLen]byte
		n := 0
		for code := id / 2; code > 0; code /= pieceRadix {
			d := code % pieceRadix
			if d == 0 || n == maxPieceLen {
				return b, false // no piece has a 0 digit
			}
			digits[n] = digitChars[d-1]
			n++
		}
		if n == 0 {
			return b, false
		}
		for k := n - 1; k >= 0; k-- {
			b = append(b, digits[k])
		}
		return b, true
	}
	return append(b, specialText[id-pieceEnd]...), true
}

// decodePieces is the text of ids, or an error naming the first id that
// is no token.
func decodePieces(ids []int64) (string, error) {
	var b []byte
	for _, id := range ids {
		var ok bool
		if b, ok = appendPieceText(b, id); !ok {
			return "", errNoToken(id)
		}
	}
	return string(b), nil
}

type errNoToken int64

func (e errNoToken) Error() string {
	return "token id " + strconv.FormatInt(int64(e), 10) + " is out of vocabulary"
}

// wordTokens calls f with the ids of text's tokens under the words
// tokenizer: each maximal run of non-space characters is one token, its
// id a 31-bit FNV-1a hash of its bytes. It counts exactly as countWords.
func wordTokens(text string, f func(id uint32)) {
	start := -1
	for i := 0; i < len(text); {
		c := text[i]
		var space bool
		size := 1
		if c < utf8.RuneSelf {
			space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			space = unicode.IsSpace(r)
		}
		switch {
		case space && start >= 0:
			f(wordID(text[start:i]))
			start = -1
		case !space && start < 0:
			start = i
		}
		i += size
	}
	if start >= 0 {
		f(wordID(text[start:]))
	}
}

func wordID(w string) uint32 {
	h := uint32(2166136261)
	for i := range len(w) {
		h ^= uint32(w[i])
		h *= 16777619
	}
	return h & 0x7fffffff
}
