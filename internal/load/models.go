package load

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/setting"
)

// Model mixes: how a run that names several models (LoRA adapters, or
// several models behind one server) gives each request its model.
const (
	MixRoundRobin = "round-robin" // a, b, c, a, b, c, ...: exact shares
	MixRandom     = "random"      // uniform, seeded by --seed
)

// modelPicker chooses each request's model, in dispatch order, so that the
// same seed gives the same requests the same models. Weighted mixes
// ("a=3,b=1") use smooth weighted round-robin (nginx's): the shares are
// exact at every multiple of the weights' sum and never further than one
// request off in between, with no sampling noise to blur an A/B.
type modelPicker struct {
	models  []string
	weights []int // nil: round-robin or random
	current []int // smooth weighted round-robin's running scores
	random  *rand.Rand
	next    int
}

// newModelPicker reads a mix for models: "", round-robin, random, or
// NAME=WEIGHT,... naming each model at most once (unnamed ones weigh 0).
// models may be empty when the mix names them.
func newModelPicker(models []string, mix string, seed uint64) (*modelPicker, []string, error) {
	p := &modelPicker{models: models}
	switch mix {
	case "", MixRoundRobin:
	case MixRandom:
		p.random = rand.New(rand.NewPCG(seed, 0x6d6f_6465_6c73))
	default:
		if err := p.parseWeights(mix); err != nil {
			return nil, nil, err
		}
	}
	if len(p.models) == 0 {
		return nil, nil, setting.Errorf("{ModelMix} %q names no model: give {Model} a,b or weights such as a=3,b=1", mix)
	}
	return p, p.models, nil
}

// maxWeight bounds one model's weight, so that the sum cannot overflow.
const maxWeight = 1_000_000

func (p *modelPicker) parseWeights(mix string) error {
	weights := map[string]int{}
	var named []string
	for _, item := range strings.Split(mix, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(item), "=")
		n, err := strconv.Atoi(w)
		switch {
		case !ok || name == "" || err != nil || n < 0 || n > maxWeight:
			return setting.Errorf("{ModelMix} %q: want round-robin, random or MODEL=WEIGHT,... with whole weights up to 1000000, such as a=3,b=1", mix)
		case len(p.models) > 0 && !slices.Contains(p.models, name):
			return setting.Errorf("{ModelMix} names %q, which {Model} does not (%s)", name, strings.Join(p.models, ","))
		case slices.Contains(named, name):
			return setting.Errorf("{ModelMix} names %q twice", name)
		}
		weights[name] = n
		named = append(named, name)
	}
	if len(p.models) == 0 {
		p.models = named
	}
	total := 0
	p.weights = make([]int, len(p.models))
	for i, m := range p.models {
		p.weights[i] = weights[m]
		total += p.weights[i]
	}
	if total == 0 {
		return setting.Errorf("{ModelMix} %q: the weights add up to 0", mix)
	}
	p.current = make([]int, len(p.models))
	return nil
}

// pick is the next request's model.
func (p *modelPicker) pick() string {
	switch {
	case len(p.models) == 1:
		return p.models[0]
	case p.random != nil:
		return p.models[p.random.IntN(len(p.models))]
	case p.weights != nil:
		return p.models[p.smooth()]
	}
	m := p.models[p.next%len(p.models)]
	p.next++
	return m
}

// smooth is one step of smooth weighted round-robin: every model gains its
// weight, the highest is chosen and loses the total.
func (p *modelPicker) smooth() int {
	best, total := 0, 0
	for i, w := range p.weights {
		p.current[i] += w
		total += w
		if p.current[i] > p.current[best] {
			best = i
		}
	}
	p.current[best] -= total
	return best
}
