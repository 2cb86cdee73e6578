package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// need returns the path of a command the recipes use, skipping the test
// outside CI when it is missing.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH", name)
		}
		t.Skipf("%s is not on PATH", name)
	}
	return p
}

// TestCronRecipe runs docs/scheduling/dqaudit-nightly.sh with this test
// binary as dqaudit and a fake mail: the sample's failing gate must reach
// the log and the mail with its exit code.
func TestCronRecipe(t *testing.T) {
	need(t, "flock")
	cfg, _ := copyArchive(t, false)
	dir := t.TempDir()
	mailOut := filepath.Join(dir, "mail.txt")
	fakeMail := filepath.Join(dir, "mail")
	os.WriteFile(fakeMail, []byte("#!/bin/sh\necho \"subject: $2 to: $3\" > "+mailOut+"\ncat >> "+mailOut+"\n"), 0o755)
	wrapper := filepath.Join(dir, "dqaudit")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nDQAUDIT_RUN_MAIN=1 exec "+os.Args[0]+" \"$@\" --date "+sampleDate+"\n"), 0o755)

	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "docs/scheduling/dqaudit-nightly.sh"))
	log := filepath.Join(dir, "dqaudit.log")
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "DQAUDIT_CONFIG="+cfg, "DQAUDIT_LOG="+log,
		"DQAUDIT_LOCK="+filepath.Join(dir, "lock"), "DQAUDIT_BIN="+wrapper)
	err := cmd.Run()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 {
		t.Fatalf("recipe: %v; want exit 1 (the sample fails its gate)", err)
	}
	logText, _ := os.ReadFile(log)
	mail, _ := os.ReadFile(mailOut)
	if !strings.Contains(string(logText), "FAIL") || !strings.Contains(string(mail), "dqaudit: exit 1") {
		t.Errorf("log:\n%s\nmail:\n%s\nwant the summary in the log and the exit code in the mail", logText, mail)
	}

	// While the last run still holds the lock, the recipe exits 75 and
	// says why: not 1, which a failed gate exits.
	hold := exec.Command("flock", filepath.Join(dir, "lock"), "sleep", "30")
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { hold.Process.Kill(); hold.Wait() }()
	for i := 0; exec.Command("flock", "-n", filepath.Join(dir, "lock"), "true").Run() == nil; i++ {
		if i == 100 {
			t.Fatal("the holder never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd = exec.Command("bash", filepath.Join(repoRoot(t), "docs/scheduling/dqaudit-nightly.sh"))
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "DQAUDIT_CONFIG="+cfg, "DQAUDIT_LOG="+log,
		"DQAUDIT_LOCK="+filepath.Join(dir, "lock"), "DQAUDIT_BIN="+wrapper)
	err = cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 75 {
		t.Fatalf("recipe while locked: %v; want exit 75", err)
	}
	logText, _ = os.ReadFile(log)
	mail, _ = os.ReadFile(mailOut)
	if !strings.Contains(string(logText), "another run still holds") || !strings.Contains(string(mail), "dqaudit: exit 75") {
		t.Errorf("log:\n%s\nmail:\n%s\nwant the reason in the log and exit 75 in the mail", logText, mail)
	}
}

func TestAirflowRecipeCompiles(t *testing.T) {
	py := need(t, "python3")
	dag := filepath.Join(repoRoot(t), "docs/scheduling/airflow_dag.py")
	cmd := exec.Command(py, "-c", "import sys, py_compile; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", dag, filepath.Join(t.TempDir(), "dag.pyc"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("py_compile: %v\n%s", err, out)
	}
	src, _ := os.ReadFile(dag)
	for _, want := range []string{".expand(", "--shard $SHARD", "dqaudit merge", "skip_on_exit_code=99", "--warn-exit-code 99", "shards >> merge >> train"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("DAG lacks %q", want)
		}
	}
}

func TestKubernetesRecipes(t *testing.T) {
	type container struct {
		Args []string `yaml:"args"`
	}
	type cronJob struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Schedule    string `yaml:"schedule"`
			JobTemplate struct {
				Spec struct {
					CompletionMode string `yaml:"completionMode"`
					Completions    int    `yaml:"completions"`
					Template       struct {
						Spec struct {
							Containers []container `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	read := func(name string) (cronJob, string) {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs/scheduling/k8s", name))
		if err != nil {
			t.Fatal(err)
		}
		var cj cronJob
		if err := yaml.Unmarshal(b, &cj); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cj.Kind != "CronJob" || len(cj.Spec.JobTemplate.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: not a CronJob with one container", name)
		}
		return cj, strings.Join(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args, " ")
	}
	shards, args := read("cronjob-shards.yaml")
	if shards.Spec.JobTemplate.Spec.CompletionMode != "Indexed" || shards.Spec.JobTemplate.Spec.Completions != 4 ||
		!strings.Contains(args, `--shard "${JOB_COMPLETION_INDEX}/4"`) || !strings.Contains(args, "--partial") {
		t.Errorf("shards job: mode %q, completions %d, args %q", shards.Spec.JobTemplate.Spec.CompletionMode, shards.Spec.JobTemplate.Spec.Completions, args)
	}
	merge, args := read("cronjob-merge.yaml")
	if !strings.Contains(args, "dqaudit merge") || merge.Spec.Schedule <= shards.Spec.Schedule {
		t.Errorf("merge job: args %q, schedule %q after %q", args, merge.Spec.Schedule, shards.Spec.Schedule)
	}
}
