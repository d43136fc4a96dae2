#!/bin/sh
# The JSON Schema (src/job.schema.json) and jobrun's own parser agree: the
# examples and a job file using every key pass both, and documents that are
# wrong in ways a schema can see fail both.  Checks a schema cannot make
# (unique step names, dependencies, cycles, condition syntax) are jobrun's
# alone and are tested in 0005 and 0008.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! "$PYTHON3" -c 'import jsonschema, yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3-jsonschema not installed"
	exit 0
fi

LC_ALL=C
export LC_ALL
SCHEMA=$JOBRUN_SRCDIR/src/job.schema.json
CHECK="$PYTHON3 $JOBRUN_SRCDIR/tests/schema-check.py"

mkdir bad good

# ---- documents both must refuse ----

cat >bad/unknown-key.yaml <<'YAML'
steps:
  - name: build
    run: make
    dependson: [deps]
YAML
cat >bad/unknown-top-key.yaml <<'YAML'
name: ci
stages: [build]
steps: []
YAML
cat >bad/wrong-type-retries.yaml <<'YAML'
steps:
  - {name: build, run: make, retries: many}
YAML
cat >bad/wrong-type-env-list.yaml <<'YAML'
env: [CC=gcc]
steps:
  - {name: build, run: make}
YAML
cat >bad/wrong-type-steps-mapping.yaml <<'YAML'
steps:
  build: {run: make}
YAML
cat >bad/bad-name.yaml <<'YAML'
steps:
  - {name: -build, run: make}
YAML
cat >bad/bad-name-space.yaml <<'YAML'
name: my job
steps: []
YAML
cat >bad/missing-run.yaml <<'YAML'
steps:
  - name: build
YAML
cat >bad/missing-name.yaml <<'YAML'
steps:
  - run: make
YAML
cat >bad/null-run.yaml <<'YAML'
steps:
  - {name: build, run: ~}
YAML
cat >bad/bool-yes.yaml <<'YAML'
steps:
  - {name: lint, run: make lint, continue_on_error: yes}
YAML
cat >bad/bool-quoted.yaml <<'YAML'
steps:
  - {name: lint, run: make lint, continue_on_error: "true"}
YAML
cat >bad/duration-zero.yaml <<'YAML'
steps:
  - {name: build, run: make, timeout: 0s}
YAML
cat >bad/duration-blank.yaml <<'YAML'
timeout: 10 min
steps: []
YAML
cat >bad/retries-range.yaml <<'YAML'
steps:
  - {name: build, run: make, retries: 101}
YAML
cat >bad/env-name.yaml <<'YAML'
env: {1CC: gcc}
steps: []
YAML
cat >bad/merge-key.yaml <<'YAML'
steps:
  - {<<: {name: build}, run: make}
YAML
cat >bad/duplicate-key.yaml <<'YAML'
name: a
name: b
YAML
cat >bad/second-document.yaml <<'YAML'
steps: []
---
steps: []
YAML
cat >bad/version-2.yaml <<'YAML'
version: 2
YAML
cat >bad/source-without-url.yaml <<'YAML'
source: {type: git, ref: main}
YAML
cat >bad/source-type.yaml <<'YAML'
source: {type: svn, url: https://example.org/app}
YAML
cat >bad/trigger-as-without-for-each.yaml <<'YAML'
triggers:
  - {job: deploy, as: REGION}
YAML
cat >bad/trigger-when.yaml <<'YAML'
triggers:
  - {job: deploy, when: sometimes}
YAML
cat >bad/plugin-without-path.yaml <<'YAML'
plugins:
  - {priority: 10}
YAML
cat >bad/min-length-zero.yaml <<'YAML'
secrets: {min_length: 0}
YAML
cat >bad/empty.yaml <<'YAML'
YAML
printf 'steps:\n  - {name: a, run: "echo a\\0b"}\n' >bad/nul-byte.yaml

# ---- documents both must accept: YAML corners jobrun reads as text ----

cat >good/text-scalars.yaml <<'YAML'
name: 2024
env: {N: 010, ON: true, HALF: 0.5, EMPTY: , NOTHING: ~, WORD: yes}
steps:
  - {name: 1, run: true}
  - {name: b.c-d_e, run: 42, depends_on: 1, if: true}
YAML
cat >good/aliases.yaml <<'YAML'
steps:
  - name: a
    run: echo a
    env: &common {LANG: C, TZ: UTC}
  - name: b
    run: echo b
    env: *common
    depends_on: [a]
YAML
cat >good/durations.yaml <<'YAML'
timeout: 366d
steps:
  - {name: a, run: x, timeout: 90}
  - {name: b, run: x, timeout: "45"}
  - {name: c, run: x, timeout: 1h30m}
  - {name: d, run: x, timeout: 500ms}
  - {name: e, run: x, timeout: 1d12h}
YAML
cat >good/ranges.yaml <<'YAML'
version: 1
secrets: {min_length: 4096}
source: {type: none}
ci_source: {type: copy, url: ., depth: 1000000}
plugins:
  - {path: a.so, priority: -10000}
  - {path: b.so, priority: 10000, config: {any name: ~, 7: x}}
steps:
  - {name: a, run: x, retries: 0}
  - {name: b, run: x, retries: 100}
triggers:
  - {job: j, priority: -10000, for_each: [a], as: X}
YAML
cat >good/empty-lists.yaml <<'YAML'
plugins: []
steps: []
triggers: []
secrets: {env: [], files: [], patterns: [], env_globs: []}
YAML

# ---- a job file with every key ----

cat >every-key.yaml <<'YAML'
version: 1
name: app-ci
shell: bash -eo pipefail
workdir: .
timeout: 1h
trusted: false
untrusted_user: "65532:65532"
isolation: strict
env:
  CC: gcc
  EMPTY:
secrets:
  env: [API_TOKEN]
  env_globs: ['*_PASSWORD']
  files: [/run/secrets/deploy-key]
  patterns: ['ghp_[A-Za-z0-9]{36}']
  min_length: 6
source:
  type: git
  url: https://git.example.org/app.git
  ref: main
  depth: 1
  submodules: true
  token_env: GIT_TOKEN
  token_file: /run/secrets/git-token
  ssh_key_file: /run/secrets/git-key
  timeout: 5m
  known_hosts: /etc/jobrun/known_hosts
  ca_file: /etc/jobrun/ca.pem
  max_size: 1073741824
ci_source:
  type: tarball
  url: https://example.org/ci.tar.gz
container:
  image: localhost/jobrun:1
  pull: missing
  resources: {cpus: 1.5, memory: 512m, pids: 100}
plugins:
  - path: /job/ci/plugins/notify.so
    priority: 20
    config: {channel: ci, quiet: true}
steps:
  - name: deps
    run: ./configure
  - name: build
    run: make -j2
    depends_on: [deps]
    env: {V: "1"}
    workdir: build
    shell: sh
    timeout: 10m
    retries: 2
    continue_on_error: false
    if: "branch =~ '^(main|release/.*)$' || event == 'push'"
    trusted: true
    run_as: "1000:1000"
  - name: report
    run: ./report.sh
    depends_on: build
    if: always() && steps.build.outcome != 'skipped'
triggers:
  - job: deploy
    when: success
    if: "env.DEPLOY == 'yes'"
    env: {TARGET: staging}
    depends_on: [build-images]
    condition: all_success
    for_each: [eu, us]
    as: REGION
    job_command: ./deploy.sh
    container_image: registry.example.org/deploy:1
    timeout: 30m
    priority: 10
    source: {type: git, url: https://git.example.org/app.git, ref: main}
    ci_source: {type: git, url: https://git.example.org/ci.git, ref: v3}
YAML

# An example's job file is its job.yaml; other YAML there (a Kubernetes
# manifest) is not a job file and has a test of its own.
examples=$(find "$JOBRUN_SRCDIR/examples" -type f -name job.yaml | sort)
n_examples=$(printf '%s\n' $examples | grep -c .)
n_bad=$(find bad -name '*.yaml' | wc -l)
n_good=$(find good -name '*.yaml' | wc -l)
plan $((2 + 2 * n_examples + 2 * n_bad + 2 * n_good + 4))

# One run of the checker for every file; each test then reads its line.
# shellcheck disable=SC2086
$CHECK "$SCHEMA" $examples bad/*.yaml good/*.yaml every-key.yaml >schema.out 2>&1
ok "! grep -q 'cannot use the schema' schema.out" \
	"the schema is a valid JSON Schema"
ok "[ $n_examples -gt 0 ]" "there are examples to check"

schema_verdict() { sed -n "s|^$1: ||p" schema.out | cut -c1-7; }

for file in $examples; do
	name=${file#"$JOBRUN_SRCDIR"/}
	is "$(schema_verdict "$file")" "ok" "$name matches the schema"
	run "$JOBRUN" validate "$file"
	is "$status" 0 "$name passes jobrun validate"
done

for file in bad/*.yaml; do
	is "$(schema_verdict "$file")" "invalid" "the schema refuses $file"
	run "$JOBRUN" validate "$file"
	is "$status" 125 "jobrun validate refuses $file"
done

for file in good/*.yaml; do
	is "$(schema_verdict "$file")" "ok" "the schema accepts $file"
	run "$JOBRUN" validate "$file"
	is "$status" 0 "jobrun validate accepts $file"
done

is "$(schema_verdict every-key.yaml)" "ok" \
	"the schema accepts a job file using every key"
run "$JOBRUN" validate every-key.yaml
is "$status" 0 "jobrun validate accepts a job file using every key"

# The file above must really use every key of the parser's field tables.
sed -n '/^static const struct yamlwalk_field [a-z_]*\[\] = {/,/^};/p' \
	"$JOBRUN_SRCDIR/src/jobfile.c" |
	sed -n 's/^[[:space:]]*{ "\([a-z_]*\)",.*/\1/p' | sort -u >keys.parser
"$PYTHON3" - every-key.yaml >keys.used <<'PY'
import sys, yaml
def walk(value, free):
    if isinstance(value, dict):
        for key, child in value.items():
            if not free:
                print(key)
            walk(child, key in ("env", "config"))
    elif isinstance(value, list):
        for child in value:
            walk(child, False)
walk(yaml.safe_load(open(sys.argv[1])), False)
PY
is "$(sort -u keys.used | comm -13 - keys.parser)" "" \
	"the job file using every key misses none of src/jobfile.c"

# run refuses what it cannot do yet instead of ignoring it.
run "$JOBRUN" run every-key.yaml
is "$status" 125 "jobrun run refuses the features not yet built"

done_testing
