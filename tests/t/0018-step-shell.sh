#!/bin/sh
# How a step's script is run: by default "sh -e -c SCRIPT", so a step
# stops at its first failing command; a POSIX shell named alone (shell:
# bash, /bin/sh) gets -e too; a shell given with options, or another
# program, runs exactly as written, with -c and the script after it.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 17

outcome() { sed -n "s/^jobrun: step '$1': \([a-z_]*\).*/\1/p" err; }

# job_with SHELL_LINE: a job whose step fails on its first line and would
# leave a marker on its second; SHELL_LINE (may be empty) goes on top.
job_with()
{
	rm -f second-line-ran
	{
		[ -n "$1" ] && echo "$1"
		cat <<'YAML'
steps:
  - name: s
    run: |
      false
      touch second-line-ran
YAML
	} >job.yaml
}

job_with ""
run "$JOBRUN" run --local job.yaml
is "$status" 1 "default: a failing first command fails the job"
is "$(outcome s)" "failed" "and the step"
ok "[ ! -e second-line-ran ]" "and the rest of the script does not run"

job_with "shell: bash"
run "$JOBRUN" run --local job.yaml
is "$status $(outcome s)" "1 failed" "shell: bash alone gets -e too"
ok "[ ! -e second-line-ran ]" "and stops at the first failure"

job_with "shell: /bin/sh"
run "$JOBRUN" run --local job.yaml
is "$status $(outcome s)" "1 failed" "so does a shell named by its path"

job_with "shell: sh +e"
run "$JOBRUN" run --local job.yaml
is "$status" 0 "shell: sh +e runs the script as sh -c did"
ok "[ -e second-line-ran ]" "on past the failing command"

job_with "shell: bash -o pipefail"
run "$JOBRUN" run --local job.yaml
is "$status" 0 "a shell with options runs exactly as written (no -e added)"
ok "[ -e second-line-ran ]" "so the script goes on"

job_with ""
JOBRUN_SHELL=sh run "$JOBRUN" run --local job.yaml
is "$status $(outcome s)" "1 failed" "JOBRUN_SHELL=sh gets -e as the default does"

# A step's shell: overrides the job's, either way.
cat >job.yaml <<'YAML'
shell: sh +e
steps:
  - name: s
    shell: sh
    run: |
      false
      touch second-line-ran
YAML
rm -f second-line-ran
run "$JOBRUN" run --local job.yaml
is "$status" 1 "a step's shell: sh overrides the job's sh +e"
ok "[ ! -e second-line-ran ]" "and stops at the first failure"

# Inside the script, set +e goes back to sh -c's way for what follows.
cat >job.yaml <<'YAML'
steps:
  - name: s
    run: |
      set +e
      false
      echo "status $?"
YAML
run "$JOBRUN" run --local job.yaml
is "$status" 0 "set +e in the script turns -e off"
contains out "status 1" "and the script sees the failure itself"

# Another program: no -e, just -c and the script.
cat >job.yaml <<EOF
steps:
  - name: py
    shell: $PYTHON3
    run: print("from " + "python")
EOF
run "$JOBRUN" run --local job.yaml
is "$status" 0 "a program that is not a POSIX shell gets no -e"
contains out "from python" "and runs the script with -c"
done_testing
