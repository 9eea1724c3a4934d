package plot

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"servebench/internal/summary"
)

// lognormal returns n latencies around median ms with a long right tail.
func lognormal(r *rand.Rand, n int, median, spread float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = median * math.Exp(spread*r.NormFloat64())
	}
	return xs
}

func testFigure() *Figure {
	r := rand.New(rand.NewPCG(1, 2))
	fig := &Figure{Title: "servebench: test figure"}
	for i, name := range []string{"latency c=1", "throughput c=8"} {
		m := float64(1 + 3*i)
		fig.Series = append(fig.Series, Series{
			Name: name, TTFT: lognormal(r, 200, 50*m, 0.2), Latency: lognormal(r, 200, 400*m, 0.1), ITLs: lognormal(r, 5000, 10*m, 0.3),
		})
	}
	var c Curve
	c.Name = "sweep"
	for i, conc := range []int{1, 2, 4, 8, 16} {
		k := float64(i + 1)
		c.Points = append(c.Points, Point{Point: summary.Point{Concurrency: conc}, OutputTokPerS: 100 * float64(conc) / k,
			TTFTP50: 50 * k, TTFTP99: 80 * k * k, TPOTP50: 10 * k, TPOTP99: 14 * k})
	}
	fig.Curves = []Curve{c}
	return fig
}

func TestPNG(t *testing.T) {
	tests := []struct {
		name string
		fig  *Figure
		rows int
	}{
		{"five panels in three rows", testFigure(), 3},
		{"no sweep: three panels in two rows", &Figure{Title: "t", Series: testFigure().Series}, 2},
		{"not streamed: latency only", &Figure{Series: []Series{{Name: "x", Latency: []float64{3, 1, 2}}}}, 1},
	}
	if raceEnabled {
		tests = tests[:1]
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Render(&buf, ".png", tt.fig); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", tt.name, err)
		}
		wantH := tt.rows * PanelHeight
		if tt.fig.Title != "" {
			wantH += 40
		}
		if b := img.Bounds(); b.Dx() != columns*PanelWidth || b.Dy() != wantH {
			t.Errorf("%s: %dx%d, want %dx%d", tt.name, b.Dx(), b.Dy(), columns*PanelWidth, wantH)
		}
		if !hasColour(img, palette[0]) {
			t.Errorf("%s: no line in the first series' colour", tt.name)
		}
	}
}

// hasColour reports whether some pixel of img is exactly c.
func hasColour(img image.Image, c color.Color) bool {
	want := color.NRGBAModel.Convert(c).(color.NRGBA)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == want {
				return true
			}
		}
	}
	return false
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.png", "b.SVG"} {
		path := filepath.Join(dir, name)
		if err := Write(path, testFigure()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, _ := os.ReadFile(path)
		if strings.HasSuffix(name, "SVG") {
			for _, want := range []string{"<svg", "Time to first token: CDF", "TTFT (ms)", "output throughput (tok/s)", "sweep p99"} {
				if !strings.Contains(string(data), want) {
					t.Errorf("SVG lacks %q", want)
				}
			}
		} else if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Unknown format or nothing to draw: an error, and no file.
	bad := filepath.Join(dir, "c.gif")
	if err := Write(bad, testFigure()); err == nil || !strings.Contains(err.Error(), ".png or .svg") {
		t.Errorf("gif: %v", err)
	}
	empty := filepath.Join(dir, "d.png")
	if err := Write(empty, &Figure{Series: []Series{{Name: "failed"}}}); !errors.Is(err, ErrNothingToDraw) {
		t.Errorf("empty: %v", err)
	}
	for _, p := range []string{bad, empty} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s written on error", p)
		}
	}
}

func TestPointLabel(t *testing.T) {
	if got := pointLabel(Point{Point: summary.Point{Concurrency: 4}}); got != "c=4" {
		t.Error(got)
	}
	if got := pointLabel(Point{Point: summary.Point{Concurrency: 4, Rate: 2.5}}); got != "2.5 req/s" {
		t.Error(got)
	}
}

func TestLegendName(t *testing.T) {
	for in, want := range map[string]string{
		"c=1 (n=32)": "c=1 (n=32)",
		"20261127T121942Z-6d2fe2-throughput c=8 (n=4000)": "20261127T12194…ut c=8 (n=4000)",
	} {
		if got := legendName(in); got != want || len([]rune(got)) > maxLegend {
			t.Errorf("legendName(%q) = %q, want %q", in, got, want)
		}
	}
}
