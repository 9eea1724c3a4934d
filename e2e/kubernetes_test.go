package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// TestKubernetesJobLocally runs the pods of deploy/kubernetes/genload-job.yaml
// as local processes, as far as a machine without a cluster can: each pod's
// args with $(VAR) expanded from its env as the kubelet expands them (the
// completion index 0..N-1 in JOB_COMPLETION_INDEX), stdout and stderr in one
// stream as kubectl logs gives them, then the documented
// grep '^{' | summarize. Changed for the test: the server (llmsim), the
// start (2 s ahead), the rate and duration (short). What it does not run:
// the image, the scheduler, the Job controller, kubectl.
func TestKubernetesJobLocally(t *testing.T) {
	data, err := os.ReadFile("../deploy/kubernetes/genload-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(data, &job); err != nil {
		t.Fatal(err)
	}
	url := startSim(t, "--ttft", "5ms", "--itl", "0.2ms")
	n := int(*job.Spec.Completions)
	c := job.Spec.Template.Spec.Containers[0]
	override := map[string]string{
		"SERVEBENCH_URL": url,
		"START_AT":       time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano),
		"RATE":           "30",
		"DURATION":       "2s",
	}
	var (
		mu   sync.Mutex
		logs bytes.Buffer // every pod's output, as kubectl logs -l job-name=genload gives it
		wg   sync.WaitGroup
	)
	for k := range n {
		env := map[string]string{}
		for _, e := range c.Env {
			switch {
			case e.Name == "JOB_COMPLETION_INDEX":
				env[e.Name] = fmt.Sprint(k)
			case override[e.Name] != "":
				env[e.Name] = override[e.Name]
			case e.ValueFrom == nil:
				env[e.Name] = e.Value
			}
		}
		var args []string
		for _, a := range c.Args {
			args = append(args, regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(a, func(ref string) string {
				if v, ok := env[ref[2:len(ref)-1]]; ok {
					return v
				}
				return ref
			}))
		}
		cmd := exec.Command(bin("genload"), args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOSTNAME=genload-" + fmt.Sprint(k)}
		for name, v := range env {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmd.Run()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("pod %d (%q): %v\n%s", k, args, err, out.String())
			}
			logs.Write(out.Bytes())
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if !strings.Contains(logs.String(), "genload: shard 0/") {
		t.Errorf("the pods' logs lack the shards' stderr lines, which the doc's grep removes:\n%s", logs.String())
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/logs.txt", logs.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := sh(t, 30*time.Second, fmt.Sprintf("grep '^{' %s/logs.txt > %s/records.jsonl", dir, dir))
	if code != 0 {
		t.Fatalf("grep: %d %s %s", code, out, errOut)
	}
	gs := summaryGroups(t, dir+"/records.jsonl")
	if len(gs) != 1 {
		t.Fatalf("summarize made %d groups of the Job's records, want one", len(gs))
	}
	g := gs[0]
	// 30 req/s for 2 s: the whole Poisson schedule, some 60 requests, none failed.
	if req := g["requests"].(float64); req < 30 || req > 100 || g["failed"].(float64) != 0 || g["label"] != "fleet" {
		t.Errorf("group: %v requests, %v failed, label %v", g["requests"], g["failed"], g["label"])
	}
	if ws, _ := g["warnings"].([]any); len(ws) > 0 {
		for _, w := range ws {
			if strings.Contains(fmt.Sprint(w), "shard") {
				t.Errorf("warning: %v", w)
			}
		}
	}
	_, errOut, _ = sh(t, 30*time.Second, fmt.Sprintf("summarize %s/records.jsonl > /dev/null", dir))
	if strings.Contains(errOut, "bad line") || strings.Contains(errOut, "not a record") {
		t.Errorf("summarize read non-record lines: %s", errOut)
	}
}
