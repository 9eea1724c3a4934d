// Package kubernetes holds the Kubernetes Job that runs genload's shards
// (genload-job.yaml) and the image recipe (Dockerfile); this test checks
// the manifest as far as a machine without a cluster can.
package kubernetes

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"servebench/internal/load"
)

// readJob decodes the manifest strictly into the API's own Job type: a
// misspelt or misplaced field is an error here, as kubectl apply's
// server-side validation would make it one.
func readJob(t *testing.T) *batchv1.Job {
	t.Helper()
	data, err := os.ReadFile("genload-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(data, &job); err != nil {
		t.Fatalf("genload-job.yaml: %v", err)
	}
	return &job
}

// envVar is the container's definition of the variable name, nil if none.
func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

var shardArg = regexp.MustCompile(`^--shard=\$\(JOB_COMPLETION_INDEX\)/(\d+)$`)

func TestGenloadJob(t *testing.T) {
	job := readJob(t)
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Fatalf("apiVersion %q kind %q, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed: the pods need their index", spec.CompletionMode)
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism {
		t.Fatalf("completions and parallelism must be set and equal: every shard runs at once")
	}
	n := int(*spec.Completions)
	if spec.BackoffLimit == nil || *spec.BackoffLimit != 0 {
		t.Errorf("backoffLimit %v, want 0: a shard retried would send its share twice into one run", spec.BackoffLimit)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (a restarted container would send its share again)", pod.RestartPolicy)
	}
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("the pod must run as non-root, as the image's user is")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want genload alone", len(pod.Containers))
	}
	c := &pod.Containers[0]
	if !strings.HasPrefix(c.Image, "servebench") {
		t.Errorf("image %q, want the one the Dockerfile builds (servebench:...)", c.Image)
	}
	if len(c.Command) != 0 {
		t.Errorf("command %q replaces the image's entrypoint (genload): give args only", c.Command)
	}

	// --shard names this pod's index and the same N as completions.
	var shard string
	args := map[string]string{}
	for _, a := range c.Args {
		if m := shardArg.FindStringSubmatch(a); m != nil {
			shard = m[1]
		}
		name, value, _ := strings.Cut(a, "=")
		args[name] = value
	}
	if shard != strconv.Itoa(n) {
		t.Errorf("args %q: want --shard=$(JOB_COMPLETION_INDEX)/%d, the N of completions", c.Args, n)
	}
	idx := envVar(c, "JOB_COMPLETION_INDEX")
	if idx == nil || idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil ||
		idx.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX %+v: want the completion-index annotation", idx)
	}
	// Every $(VAR) of the args is defined, so Kubernetes expands it (an
	// undefined one would be passed on literally).
	for _, a := range c.Args {
		for _, m := range regexp.MustCompile(`\$\((\w+)\)`).FindAllStringSubmatch(a, -1) {
			if envVar(c, m[1]) == nil {
				t.Errorf("arg %q uses $(%s), which the container does not define", a, m[1])
			}
		}
	}
	// The shards agree on the start and the seed: both are set once for
	// every pod, the start an RFC 3339 time genload accepts.
	for _, flag := range []string{"--start-at", "--seed"} {
		if _, ok := args[flag]; !ok {
			t.Errorf("args lack %s: the shards would not share it", flag)
		}
	}
	if v := envVar(c, "START_AT"); v == nil {
		t.Error("no START_AT")
	} else if _, err := load.ResolveStartAt(v.Value, "", time.Now()); err != nil || strings.HasPrefix(v.Value, "+") {
		t.Errorf("START_AT %q: want an absolute RFC 3339 time, the same in every pod (%v)", v.Value, err)
	}
	if v := envVar(c, "SERVEBENCH_URL"); v == nil || v.Value == "" {
		t.Error("no SERVEBENCH_URL: the shards need the server's address")
	}
}

// TestDockerfile checks the image recipe's essentials, since it cannot be
// built here: static binaries without build paths, a non-root user, CA
// certificates (distroless/static has them), genload as the entrypoint.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, want := range []string{
		"CGO_ENABLED=0 go build -trimpath",
		"./cmd/genload ./cmd/summarize ./cmd/probe ./cmd/llmsim",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532",
		`ENTRYPOINT ["/usr/local/bin/genload"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil || !strings.Contains(df, "FROM golang:"+string(goVersion[1])+" AS build") {
		t.Errorf("the build stage's Go is not go.mod's %s", goVersion)
	}
}
