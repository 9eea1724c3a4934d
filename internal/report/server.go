package report

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/fatih/color"

	"servebench/internal/stats"
	"servebench/internal/summary"
)

// writeServer writes the group's server-metrics section: what the server
// published during the window, beside the client's view where both
// measure the same thing (the difference is the network and the client).
// Values the samples do not tell are left out; no section without samples.
func writeServer(buf *bytes.Buffer, g *summary.Group, line func(*color.Color, string, string)) {
	sv := g.ServerMetrics
	if sv == nil {
		return
	}
	fmt.Fprintln(buf, banner("Server metrics", '-'))
	line(nil, "Samples in the window:", strconv.Itoa(sv.Samples))
	pair := func(name string, mean, maxV float64) {
		if !math.IsNaN(mean) {
			line(nil, name, num2(mean)+" / "+num2(maxV))
		}
	}
	one := func(name string, v float64, client string) {
		if math.IsNaN(v) {
			return
		}
		if client != "" {
			line(nil, name, num2(v)+" (client: "+client+")")
			return
		}
		line(nil, name, num2(v))
	}
	clientMean := func(s *stats.Summary) string {
		if s == nil {
			return ""
		}
		return num2(s.Mean)
	}
	pair("Running requests (mean / max):", sv.RunningMean, sv.RunningMax)
	pair("Waiting requests (mean / max):", sv.WaitingMean, sv.WaitingMax)
	pair("KV cache usage (mean / max):", sv.KVCacheUsageMean, sv.KVCacheUsageMax)
	one("Prefix cache hit rate:", sv.PrefixCacheHitRate, "")
	if !math.IsNaN(sv.Preemptions) {
		line(nil, "Preemptions:", strconv.FormatFloat(sv.Preemptions, 'f', -1, 64))
	}
	one("Generation throughput (tok/s):", sv.GenTokPerS, num2(g.OutputTokPerS))
	one("Spec-decode acceptance rate:", sv.SpecAcceptance, "")
	one("Mean TTFT (ms):", sv.TTFTMeanMs, clientMean(g.Metrics[summary.TTFT]))
	one("Mean queue time (ms):", sv.QueueMeanMs, "")
	one("Mean ITL (ms):", sv.ITLMeanMs, clientMean(g.Metrics[summary.ITL]))
	one("Mean E2E latency (ms):", sv.E2EMeanMs, clientMean(g.Metrics[summary.Latency]))
}
