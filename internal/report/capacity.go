package report

import (
	"bytes"
	"fmt"
	"strings"

	"servebench/internal/summary"
)

// writeCapacities writes each capacity search's answer, with the verdict
// of every load it probed: "run R (label): capacity 4 users (85% goodput
// for ttft<=100ms); 4-5 bracket; 5 loads" then "  5 users: 57/72 good
// (0.792): unclear".
func writeCapacities(buf *bytes.Buffer, rep *summary.Report) {
	for i := range rep.Capacities {
		c := &rep.Capacities[i]
		name := "run " + c.RunID
		if c.Label != "" {
			name += " (" + c.Label + ")"
		}
		fmt.Fprintf(buf, "%s: %s\n", name, c)
		for _, l := range c.Loads {
			clustered := ""
			if l.DesignEffect > 1 {
				clustered = fmt.Sprintf(", clustered: as %.0f independent", float64(l.N)/l.DesignEffect)
			}
			fmt.Fprintf(buf, "  %g %s: %d/%d good (%.3f%s): %s\n", l.Load, c.Unit(), l.Good, l.N, l.Ratio, clustered, l.Verdict)
		}
	}
}

// htmlCapacities is the HTML page's section for the capacity searches: the
// answer, then a row per load probed.
func htmlCapacities(b *strings.Builder, rep *summary.Report) {
	if rep == nil || len(rep.Capacities) == 0 {
		return
	}
	b.WriteString("<section id=\"capacity\"><h2>Capacity search</h2>\n")
	for i := range rep.Capacities {
		c := &rep.Capacities[i]
		fmt.Fprintf(b, "<p>run %s: <strong>%s</strong></p>\n<table><tr><th>load (%s)</th><th>good</th><th>measured</th><th>goodput ratio</th><th>verdict</th></tr>\n",
			esc(c.RunID), esc(c.String()), esc(c.Unit()))
		for _, l := range c.Loads {
			fmt.Fprintf(b, "<tr><td class=\"n\">%g</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%.3f</td><td>%s</td></tr>\n",
				l.Load, l.Good, l.N, l.Ratio, l.Verdict)
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</section>\n")
}
