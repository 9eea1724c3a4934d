package dataset

import (
	"unicode"
	"unicode/utf8"
)

// words are the vocabulary of synthetic prompts. Each is a common lowercase
// English word that is one token when it follows a space in every tokenizer
// checked: GPT-2 (r50k), cl100k_base, o200k_base, Llama 2, Llama 3 and
// Mistral 7B (checked with the npm packages js-tiktoken, llama-tokenizer-js,
// llama3-tokenizer-js and mistral-tokenizer-js). Words joined by single spaces
// therefore come out as one token per word, so "N words" stands in for "N
// tokens" without shipping a tokenizer. Measured on 40 prompts of 64 to 1,524
// words: tokens = words on every one of those tokenizers, or words + 1 when
// the first word, which has no space before it, splits ("asked", "cannot").
// Chat templates and BOS add their own tokens on the server, whose
// usage block gives the true count.
//
// Names, fragments of contractions ("don", "didn") and words that split in
// one of the vocabularies ("united", "york") were left out. Any change to
// this list, even an added word, changes every synthetic prompt for a given
// seed; TestGolden says so.
var words = [...]string{
	"the", "of", "and", "to", "in", "is", "it", "that", "for", "on", "was",
	"with", "he", "as", "at", "by", "this", "had", "not", "are", "but", "from",
	"or", "have", "an", "they", "which", "one", "you", "were", "her", "all",
	"she", "there", "would", "their", "we", "him", "been", "has", "when", "who",
	"will", "more", "no", "if", "out", "so", "said", "what", "up", "its",
	"about", "into", "than", "them", "can", "only", "other", "new", "some",
	"could", "time", "these", "two", "may", "then", "do", "first", "any", "my",
	"now", "such", "like", "our", "over", "man", "me", "even", "most", "made",
	"after", "also", "did", "many", "before", "must", "through", "back",
	"years", "where", "much", "your", "way", "well", "down", "should",
	"because", "each", "just", "those", "people", "how", "too", "little",
	"state", "good", "very", "make", "world", "still", "own", "see", "men",
	"work", "long", "get", "here", "between", "both", "life", "being", "under",
	"never", "day", "same", "another", "know", "while", "last", "might", "us",
	"great", "old", "year", "off", "come", "since", "against", "go", "came",
	"right", "used", "take", "three", "states", "himself", "few", "house",
	"use", "during", "without", "again", "place", "around", "however", "home",
	"small", "found", "thought", "went", "say", "part", "once", "general",
	"high", "upon", "school", "every", "does", "got", "left", "number",
	"course", "war", "until", "always", "away", "something", "fact", "though",
	"water", "less", "public", "put", "think", "almost", "hand", "enough",
	"far", "took", "head", "yet", "government", "system", "better", "set",
	"told", "nothing", "night", "end", "why", "called", "eyes", "find", "going",
	"look", "asked", "later", "point", "knew", "city", "next", "program",
	"business", "give", "group", "toward", "young", "days", "let", "room",
	"president", "side", "social", "given", "present", "several", "order",
	"national", "possible", "rather", "second", "face", "per", "among", "form",
	"important", "often", "things", "looked", "early", "white", "case",
	"become", "large", "big", "need", "four", "within", "felt", "along",
	"children", "saw", "best", "church", "ever", "least", "power",
	"development", "light", "thing", "seemed", "family", "interest", "want",
	"members", "mind", "country", "area", "others", "done", "turned",
	"although", "open", "service", "certain", "kind", "problem", "began",
	"different", "door", "thus", "help", "sense", "means", "whole", "matter",
	"perhaps", "itself", "times", "law", "human", "line", "above", "name",
	"example", "action", "company", "hands", "local", "show", "whether", "five",
	"history", "gave", "today", "either", "act", "feet", "across", "taken",
	"past", "quite", "anything", "seen", "having", "death", "week",
	"experience", "body", "word", "half", "really", "field", "am", "car",
	"words", "already", "themselves", "information", "tell", "together",
	"college", "shall", "money", "period", "held", "keep", "sure", "free",
	"real", "seems", "behind", "cannot", "political", "air", "question",
	"making", "office", "brought", "whose", "special", "major", "heard",
	"problems", "ago", "became", "federal", "moment", "study", "available",
	"known", "result", "street", "economic", "boy", "position", "reason",
	"change", "south", "board", "individual", "job", "society", "areas", "west",
	"close", "turn", "love", "community", "true", "court", "force", "full",
	"seem", "policy", "red", "black", "blue", "green", "food", "music", "book",
	"story", "river", "tree", "road", "town", "game", "market", "paper",
	"table", "eye", "friend", "girl", "morning", "sun", "fire", "land", "sea",
	"plan", "art", "class", "rate", "level", "value", "film", "month", "sound",
	"idea", "front", "data", "voice", "color", "report", "price", "stone",
	"window", "bed", "hair", "wall", "cost", "heart", "summer", "winter",
	"spring", "ground", "nature", "space", "mother", "father", "king", "island",
	"letter", "garden", "bird", "horse", "dog", "star", "animal", "north",
	"east", "ship", "lake", "hill", "glass", "rain", "snow", "wind", "song",
	"note", "dream",
}

// countWords approximates a text's tokens without a tokenizer: one per run
// of non-space characters, except that each Chinese, Japanese or Korean
// character counts alone, since those scripts put no spaces between words
// and take about a token a character. It does not allocate.
func countWords(s string) int {
	n, inWord := 0, false
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if asciiSpace(r) {
				inWord = false
			} else if !inWord {
				n, inWord = n+1, true
			}
		case unicode.IsSpace(r):
			inWord = false
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
			n, inWord = n+1, false
		case !inWord:
			n, inWord = n+1, true
		}
	}
	return n
}

func asciiSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}
