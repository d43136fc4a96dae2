#!/bin/sh
# jobrun run --runtime ... without a real container engine: bad input
# gets a clear message and exit status 125; and a scripted stand-in for
# the podman/docker command line (a shell script logging its arguments)
# shows the whole host side: reconcile by run id, the secrets in the
# bundle on standard input and nowhere in the arguments, the output
# masked again, the results collected, the container removed.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 152

cat >job.yaml <<'YAML'
name: rt
secrets:
  env: [RT_TOKEN]
steps:
  - {name: main, run: echo hi}
YAML
export RT_TOKEN=tok-0070-secret-value

# ---- bad input ----
run env PATH=/nonexistent "$JOBRUN" run --runtime auto --image img job.yaml
is "$status" 125 "no runtime found: 125"
contains err "looked for 'podman' and 'docker'" "no runtime: says what was looked for"
run env PATH=/nonexistent "$JOBRUN" run --runtime podman --image img job.yaml
contains err "cannot find 'podman' in PATH" "podman asked for but absent"
run "$JOBRUN" run --runtime sometimes --image img job.yaml
is "$status" 125 "an unknown runtime: 125"
contains err "expected local, podman, docker, kubernetes or auto" "an unknown runtime: the choices"
run "$JOBRUN" run --runtime podman job.yaml
contains err "no runner image" "no image given"
run "$JOBRUN" run --runtime podman --image i --pull often job.yaml
contains err "expected always, missing or never" "a bad --pull"
run "$JOBRUN" run --runtime podman --image i --run-id 'Bad/Id' job.yaml
contains err "--run-id: expected" "a bad --run-id"
run "$JOBRUN" run --runtime podman --image i --memory lots job.yaml
contains err "--memory: expected a size" "a bad --memory"
run "$JOBRUN" run --runtime podman --image i --cpus 0 job.yaml
contains err "--cpus: expected" "a bad --cpus"
run "$JOBRUN" run --runtime podman --image i - <job.yaml
contains err "cannot be read from standard input" "a job from stdin is refused"
run "$JOBRUN" run --detach job.yaml
is "$status" 125 "--detach without a runtime"
contains err "--detach is for a run in a container" "--detach without a runtime: said"
run "$JOBRUN" gc --keep
contains err "option --keep is for 'run'" "run's options are run's"
run "$JOBRUN" attach
contains err "expected 'jobrun attach RUN_ID'" "attach needs a run id"
ok "[ ! -e .jobrun/result.json ]" "bad options leave no result.json"

# ---- a scripted podman ----
mkdir bin state
cat >bin/podman <<'SH'
#!/bin/sh
# Logs each call; keeps the one container's state in state/.
s=$FAKE_STATE
echo "$*" >>"$s/calls"
# A daemon that does not answer this verb (state/hang-VERB).
[ -e "$s/hang-$1" ] && sleep 300
case $1 in
pull) [ -e "$s/slow-pull" ] && sleep 30; exit 0 ;;
version) [ -e "$s/down" ] && { echo "Cannot connect to Podman" >&2; exit 125; }; echo 4.3.1 ;;
image)
	[ -e "$s/no-image" ] && { echo "Error: no such image" >&2; exit 125; }
	if [ -e "$s/plain-image" ]; then echo '{"Cmd":["bash"]}'; else echo '{"Entrypoint":["jobrun"]}'; fi ;;
container)
	[ -e "$s/state" ] || { echo "Error: no such container $3" >&2; exit 125; }
	oom=false; [ -e "$s/oom" ] && oom=true
	printf '[{"Name":"%s","State":{"Status":"%s","ExitCode":%s,"OOMKilled":%s},"Config":{"Labels":{}}}]\n' \
		"$3" "$(cat "$s/state")" "$(cat "$s/code" 2>/dev/null || echo 0)" $oom ;;
create|run)
	[ -e "$s/down" ] && { echo "Cannot connect to Podman" >&2; exit 125; }
	[ -e "$s/no-image" ] && { echo "Error: img: image not known" >&2; exit 125; }
	[ -e "$s/state" ] && { echo "Error: the container name is already in use" >&2; exit 125; }
	echo created >"$s/state"
	[ "$1" = run ] || exit 0
	# run: created (the id in the cidfile), then as start.
	[ "$2" = --cidfile ] && [ ! -e "$3" ] || { echo "Error: bad cidfile" >&2; exit 125; }
	printf 0123abcd >"$3" ;;
esac
case $1 in
run|start)
	# The OCI runtime refuses it (a memory limit, a missing entrypoint):
	# the tool complains at length and the container stays created.
	[ -e "$s/never-starts" ] && { echo "Error: OCI runtime error: runc create failed: unable to set memory limit ($RT_TOKEN_ECHO)" >&2; head -c 20000 /dev/zero | tr '\0' x >&2; echo >&2; exit 126; }
	echo running >"$s/state"
	# As podman 4.3: the tool says 127, "wait" 0, and /job is empty.
	[ -e "$s/plain-image" ] && { echo 'Error: executable file `run` not found' >&2; echo exited >"$s/state"; echo 0 >"$s/code"; exit 127; }
	read -r header; head -c "${header##* }" >"$s/bundle-body"
	echo "step prints $RT_TOKEN_ECHO"
	echo "step complains $RT_TOKEN_ECHO" >&2
	# OOM-killed: 137, and inspect says so (state/oom).
	code=3; [ -e "$s/oom" ] && code=137
	echo exited >"$s/state"; echo $code >"$s/code"
	exit $code ;;
logs) echo "the log of a running job"; echo "its standard error" >&2; echo 4 >"$s/code"; echo exited >"$s/state" ;;
wait)
	# As podman's: once the container has exited.
	while [ "$(cat "$s/state" 2>/dev/null)" = running ]; do sleep 0.01; done
	cat "$s/code" ;;
cp)
	{ [ -e "$s/plain-image" ] || [ -e "$s/never-starts" ]; } && { mkdir -p "$s/empty"; tar -C "$s/empty" -cf - .; exit 0; }
	# jobrun's own record: state/record, none when it is empty.
	mkdir -p "$s/ws/logs" && echo '{"outcome":"failed","exit_status":3}' >"$s/ws/result.json"
	[ -e "$s/record" ] && { cat "$s/record" >"$s/ws/result.json"; [ -s "$s/record" ] || rm "$s/ws/result.json"; }
	echo log >"$s/ws/logs/main.log"; mkdir -p "$s/ws/src"; echo x >"$s/ws/src/f"
	tar -C "$s/ws" -cf - . ;;
kill) echo "$3" >"$s/signal" ;;
rm) rm -f "$s/state" ;;
ps) echo '[]' ;;
esac
SH
chmod +x bin/podman
FAKE_STATE=$TEST_DIR/state
RT_TOKEN_ECHO=$RT_TOKEN
export FAKE_STATE RT_TOKEN_ECHO
PATH=$TEST_DIR/bin:$PATH
export PATH

# A TMPDIR of its own: the cidfile's directory is looked for there, not
# among other runs' in /tmp.
mkdir -p tmp-r1
run env TMPDIR="$TEST_DIR/tmp-r1" "$JOBRUN" run --runtime podman --image img \
	--run-id r1 --memory 64m --pids 50 job.yaml
is "$status" 3 "the job's exit status"
contains out "step prints ***" "the output is masked again on the host"
lacks out "tok-0070" "no secret on the console"
contains err "step complains ***" "the job's standard error: on the host's, masked"
lacks out "step complains" "the job's standard error: not on the standard output"
lacks err "step prints" "the job's standard output: not on the standard error"
lacks err "tok-0070" "no secret on the standard error"
ok "grep -q '^run --cidfile /[^ ]*/cid --name jobrun-r1 --interactive' state/calls" \
	"created, started and attached by one run, named by its run id"
ok "! grep -q '^start' state/calls" "no separate start"
ok "! ls -d \"$TEST_DIR\"/tmp-r1/jobrun-cid-* 2>/dev/null | grep -q ." "the cidfile's directory removed"
contains state/calls "org.jobrun.run-id=r1" "labelled with the run id"
contains state/calls "org.jobrun.owner=" "labelled with its owner"
contains state/calls "--memory=67108864b" "the memory limit"
contains state/calls "--pids-limit=50" "the pids limit"
contains state/calls "--env JOBRUN_BUNDLE=stdin" "the job reads its bundle"
lacks state/calls "tok-0070" "no secret in any argument"
contains state/bundle-body "tok-0070-secret-value" "the secret is in the bundle"
contains state/bundle-body '"lifeline":true' "with a lifeline"
contains state/calls "/mnt/jobrun/job/job.yaml" "the job file is bound in"
contains state/calls "rm --force --volumes jobrun-r1" "removed at the end"
contains .jobrun/result.json '"exit_status":3' "result.json collected"
ok "[ -f .jobrun/logs/main.log ] && [ ! -e .jobrun/src ]" "logs collected, the source not"

# A pull that does not end is stopped by the job's timeout (124) and by a
# signal (143), with a result.json saying so; it held the run before.
rm -f state/state
touch state/no-image state/slow-pull
started=$(date +%s)
run "$JOBRUN" run --runtime podman --image img --run-id p1 --timeout 1s job.yaml
is "$status" 124 "a pull past the job's timeout: 124"
ok "[ $(($(date +%s) - started)) -lt 15 ]" "without waiting for the pull"
contains .jobrun/result.json '"outcome": "timed_out"' "result.json says it timed out"
started=$(date +%s)
"$JOBRUN" run --runtime podman --image img --run-id p2 job.yaml >out 2>err &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
is "$?" 143 "a pull stopped by SIGTERM: 143"
ok "[ $(($(date +%s) - started)) -lt 15 ]" "at once"
contains .jobrun/result.json '"outcome": "cancelled"' "result.json says it was cancelled"
rm -f state/no-image state/slow-pull

# Every other call of the engine is bounded the same way, and result.json
# names the call that hung; a hung daemon held the run for ever before.
rm -f state/state
touch state/hang-run
started=$(date +%s)
run "$JOBRUN" run --runtime podman --image img --run-id h1 --timeout 1s job.yaml
is "$status" 124 "a create that hangs, past the job's timeout: 124"
ok "[ $(($(date +%s) - started)) -lt 60 ]" "a create that hangs: well before it would end"
contains .jobrun/result.json '"outcome": "timed_out"' "a create that hangs: result.json says timed out"
contains .jobrun/result.json "podman run' did not end within the job's timeout" "a create that hangs: result.json names it"
started=$(date +%s)
"$JOBRUN" run --runtime podman --image img --run-id h2 job.yaml >out 2>err &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
is "$?" 143 "a create that hangs, stopped by SIGTERM: 143"
ok "[ $(($(date +%s) - started)) -lt 60 ]" "a create that hangs, SIGTERM: at once"
contains .jobrun/result.json '"outcome": "cancelled"' "a create that hangs, SIGTERM: cancelled"
contains .jobrun/result.json "podman run' stopped: the run is cancelled" "a create that hangs, SIGTERM: result.json names it"
rm -f state/hang-run
echo created >state/state
touch state/hang-container
run "$JOBRUN" run --runtime podman --image img --run-id h3 --timeout 1s job.yaml
is "$status" 124 "an inspect that hangs: 124"
contains .jobrun/result.json "podman container inspect' did not end within the job's timeout" \
	"an inspect that hangs: result.json names it"
rm -f state/hang-container state/state
# After the job ended, a call has a bound of its own (30 s): the image has
# no jobrun, so the job's status is asked for, and "wait" hangs.
touch state/plain-image state/hang-wait
started=$(date +%s)
run "$JOBRUN" run --runtime podman --image img --run-id h4 job.yaml
is "$status" 125 "a wait that hangs after the job: 125"
ok "[ $(($(date +%s) - started)) -lt 120 ]" "a wait that hangs: well before it would end"
contains .jobrun/result.json "podman wait' did not end within 30 s" "a wait that hangs: result.json names it"
rm -f state/plain-image state/hang-wait state/state

# The steps to run and switches cross as the job inside reads them.
rm -f state/state
: >state/calls
run "$JOBRUN" run --runtime podman --image img --run-id r2 --only main \
	--until main --timestamps job.yaml
ok "grep -q -- '--timestamps --only main --until main /mnt/jobrun/job/job.yaml' state/calls" \
	"--only and --until cross, a switch without a value"
run "$JOBRUN" run --runtime podman --image img --run-id r2 --shell-on-failure job.yaml
is "$status" 125 "--shell-on-failure for a run in a container: 125"
contains err "is for a run on this machine" "saying why"

# Flags that may hold a credential travel in the bundle as their
# variables, never as arguments: a source URL's user info, inline job
# variables (as --secret-values-list).
rm -f state/state
: >state/calls
run "$JOBRUN" run --runtime podman --image img --run-id u1 --source-type git \
	--source-url "https://user:url-pw-0070-abcdef@git.example.org/app.git" \
	--ci-source-type git \
	--ci-source-url "https://ghp_CIUSERTOKEN0070abcdefgh@git.example.org/ci.git" \
	--job-env "INLINE_0070=inline-0070-value" job.yaml
is "$status" 3 "credentials in flags: the job runs"
lacks state/calls "url-pw-0070" "a source URL's password is in no argument"
lacks state/calls "ghp_CIUSERTOKEN0070" "nor a CI source URL's token as the user"
lacks state/calls "inline-0070-value" "nor inline job variables"
contains state/calls "--source-type git" "other flags still cross as flags"
contains state/bundle-body '"JOBRUN_SOURCE_URL":"https://user:url-pw-0070-abcdef@git.example.org/app.git"' \
	"the source URL travels in the bundle"
contains state/bundle-body '"JOBRUN_CI_SOURCE_URL":"https://ghp_CIUSERTOKEN0070abcdefgh@git.example.org/ci.git"' \
	"so does the CI source URL"
contains state/bundle-body '"JOBRUN_JOB_ENV":"INLINE_0070=inline-0070-value"' \
	"and the inline job variables"
rm -f state/state

# A values list with a comma is values, as a run on this machine reads
# it, even when a file has that name: the file does not travel instead.
rm -f state/state
echo "file-0070-content" >"vals-0070,x"
run "$JOBRUN" run --runtime podman --image img --run-id v1 \
	--secret-values-list "vals-0070,x" job.yaml
contains state/bundle-body '"JOBRUN_SECRET_VALUES_LIST":"vals-0070,x"' \
	"a values list with a comma crosses as values, though a file has its name"
lacks state/bundle-body "file-0070-content" "and that file does not travel"
rm -f state/state "vals-0070,x"

# No directory for the cidfile: create, then start --attach.
: >state/calls
: >not-a-dir
run env TMPDIR="$TEST_DIR/not-a-dir" "$JOBRUN" run --runtime podman --image img --run-id r0 job.yaml
is "$status" 3 "create then start: the job's exit status"
contains state/calls "create --name jobrun-r0 --interactive" "create then start: created"
contains state/calls "start --attach --interactive jobrun-r0" "create then start: started"
contains state/bundle-body "tok-0070-secret-value" "create then start: the bundle"
rm -f state/state

# The same run id, its container running: the create finds the name
# taken (the fake refuses it as podman does), so attach to its log.
: >state/calls
echo running >state/state
run "$JOBRUN" run --runtime podman --image img --run-id r1 job.yaml
is "$status" 4 "running: the running job's status"
contains out "the log of a running job" "running: its log"
contains err "its standard error" "running: its log's standard error kept apart"
contains state/calls "logs --follow jobrun-r1" "running: its log followed from the start"
lacks state/calls "start" "running: not started again"

# The same run id, created but never started: start it.
: >state/calls
echo created >state/state
run "$JOBRUN" run --runtime podman --image img --run-id r1 job.yaml
contains state/calls "container inspect jobrun-r1" "created: its name taken, it is looked at"
contains state/calls "start --attach --interactive jobrun-r1" "created: started"

# Failures of the host side: 125 and result.json says why.
: >state/calls
touch state/down
run "$JOBRUN" run --runtime podman --image img job.yaml
is "$status" 125 "a daemon that does not answer: 125"
contains err "does not answer" "the daemon: said"
contains .jobrun/result.json '"outcome": "error"' "the daemon: result.json says error"
ok "[ ! -e state/state ]" "the daemon: nothing made"
rm state/down
touch state/no-image
run "$JOBRUN" run --runtime podman --image img --pull never job.yaml
contains err "image 'img' is not here and --pull is never" "--pull never and no image"
ok "[ ! -e state/state ]" "no image: nothing made"
rm state/no-image
touch state/plain-image
run "$JOBRUN" run --runtime podman --image img job.yaml
contains err "holds no jobrun" "an image without jobrun"
is "$status" 125 "an image without jobrun: 125"
contains .jobrun/result.json "holds no jobrun" "an image without jobrun: result.json says why"
ok "[ ! -e state/state ]" "no jobrun: nothing left"
rm state/plain-image

# A container that never starts ends the run 125, with a result.json that
# says so and quotes the engine, masked and bounded; it was "ended with
# status 0 and left no result.json", the engine's words on the console only.
touch state/never-starts
run "$JOBRUN" run --runtime podman --image img --run-id n1 job.yaml
is "$status" 125 "a container that never starts: 125"
contains .jobrun/result.json "container 'jobrun-n1' did not start" "never started: result.json says so"
contains .jobrun/result.json "unable to set memory limit (***)" "never started: the engine's words, masked"
lacks .jobrun/result.json "tok-0070" "never started: no secret in result.json"
lacks .jobrun/result.json "ended with status" "never started: not an end of the job"
ok "[ $(wc -c <.jobrun/result.json) -lt 4096 ]" "never started: the engine's words bounded"
contains err "did not start" "never started: said on the console"
ok "[ ! -e state/state ]" "never started: removed"
rm state/never-starts
run "$JOBRUN" attach nothere
contains err "no run 'nothere' here" "attach to nothing"

# OOM: podman's OOMKilled cross-checked with jobrun's own record.
touch state/oom
: >state/record
run "$JOBRUN" run --runtime podman --image img --run-id m1 job.yaml
is "$status" 1 "OOMKilled, no record (PID 1 killed): failed, 1"
contains err "ran out of memory: podman says it was OOM-killed before jobrun inside wrote its result" \
	"OOMKilled, no record: said"
contains .jobrun/result.json '"outcome": "failed"' "OOMKilled, no record: result.json says failed"
echo '{"outcome":"failed","exit_status":1,"steps":[{"name":"main","oom_killed":true}]}' >state/record
run "$JOBRUN" run --runtime podman --image img --run-id m2 job.yaml
is "$status" 1 "OOMKilled, a step OOM-killed in the record: the record's 1"
contains err "step 'main' ran out of memory: jobrun's record and podman agree" "both agree: said"
echo '{"outcome":"success","exit_status":0,"steps":[{"name":"main","oom_killed":false}]}' >state/record
run "$JOBRUN" run --runtime podman --image img --run-id m3 job.yaml
is "$status" 0 "OOMKilled after a success was recorded: the record stands"
contains err "warning: the job's container ran out of memory after jobrun inside recorded its result (success)" \
	"killed after the record: a warning"
rm state/oom
echo '{"outcome":"failed","exit_status":3,"steps":[{"name":"main","oom_killed":true}]}' >state/record
run "$JOBRUN" run --runtime podman --image img --run-id m4 job.yaml
is "$status" 3 "a step OOM-killed, the container not: the job's status"
contains err "step 'main' was killed by the OOM killer (jobrun's record); the container itself was not" \
	"a step OOM-killed inside: said"
rm state/record

# The job file's container: key; flags win over it.
cat >c.yaml <<'YAML'
container: {image: cimg, pull: never, resources: {cpus: 2, memory: 1g, pids: 7}}
steps: [{name: s, run: x}]
YAML
: >state/calls
run "$JOBRUN" run --runtime podman --run-id r3 c.yaml
contains state/calls "--cpus=2 --memory=1073741824b --pids-limit=7 cimg" "container: gives the image and the limits"
: >state/calls
run "$JOBRUN" run --runtime podman --run-id r4 --image other --pids 9 c.yaml
contains state/calls "--pids-limit=9 other" "flags win over container:"

# ---- host files the job file names by a relative path ----
# A local run reads them from its working directory (after --work-dir):
# they travel in the bundle at that directory's path, and the job inside
# works there, so its unchanged relative paths find them and their
# secrets are masked inside too.  They were left out, and the job failed
# inside, or ran with its secrets unmasked there.
mkdir -p rel/keys && cd rel || exit 1
printf 'rel-0070-file-secret\n' >keys/secret.txt
printf 'tok-0070-relative-token\n' >keys/token
printf 'key-0070-relative-ssh-key\n' >keys/ssh
printf 'up-0070-parent-secret\n' >../up.txt
cat >job.yaml <<'YAML'
secrets:
  files: [keys/secret.txt, ../up.txt]
source: {type: git, url: 'https://git.example.org/app.git', token_file: keys/token}
ci_source: {type: git, url: 'ssh://git@git.example.org/ci.git', ssh_key_file: ./keys/ssh}
steps:
  - {name: main, run: echo hi}
YAML
here=$(pwd -P)
rm -f ../state/state
: >../state/calls
RT_TOKEN_ECHO=rel-0070-file-secret
run "$JOBRUN" run --runtime podman --image img --run-id f1 job.yaml
cd .. || exit 1
RT_TOKEN_ECHO=$RT_TOKEN
is "$status" 3 "relative host files: the job runs"
is "$(field state/bundle-body 'd["files"]["'"$here"'/keys/secret.txt"]')" \
	"rel-0070-file-secret" "a relative secrets file travels at the working directory's path"
is "$(field state/bundle-body 'd["files"]["'"$here"'/../up.txt"]')" \
	"up-0070-parent-secret" "one above the working directory too"
is "$(field state/bundle-body 'd["files"]["'"$here"'/keys/token"]')" \
	"tok-0070-relative-token" "a relative token_file travels"
is "$(field state/bundle-body 'd["files"]["'"$here"'/./keys/ssh"]')" \
	"key-0070-relative-ssh-key" "a relative ssh_key_file travels"
is "$(field state/bundle-body 'd["cwd"]')" "$here" \
	"the job inside works in the same directory"
contains out "step prints ***" "the relative file's secret is masked"
lacks out "rel-0070" "no secret of a relative file on the console"
lacks state/calls "rel-0070" "nor in any argument"
rm -f state/state
run "$JOBRUN" run --runtime podman --image img --run-id f2 --work-dir rel job.yaml
is "$(field state/bundle-body 'd["cwd"]')" "$here" "--work-dir: the directory it names"
is "$(field state/bundle-body 'd["files"]["'"$here"'/keys/secret.txt"]')" \
	"rel-0070-file-secret" "--work-dir: relative paths taken from it"
rm -f state/state
run "$JOBRUN" run --runtime podman --image img --run-id f3 job.yaml
is "$(field state/bundle-body 'd.get("cwd")')" "None" \
	"no relative file: the job inside keeps its working directory"

# A relative secrets file that cannot be read here fails the run with
# its name, as an absolute one does, before any container is made.
cat >rel/missing.yaml <<'YAML'
secrets: {files: [keys/missing.txt]}
steps: [{name: main, run: echo hi}]
YAML
: >state/calls
run "$JOBRUN" run --runtime podman --image img --run-id f4 --work-dir rel missing.yaml
is "$status" 125 "a missing relative secrets file: 125"
contains err "keys/missing.txt" "a missing relative secrets file: named"
lacks state/calls "run --cidfile" "a missing relative secrets file: no container"
printf 'bin\377\376ary\n' >rel/keys/binary
cat >rel/binary.yaml <<'YAML'
secrets: {files: [keys/binary]}
steps: [{name: main, run: echo hi}]
YAML
run "$JOBRUN" run --runtime podman --image img --run-id f5 --work-dir rel binary.yaml
is "$status" 125 "a relative secrets file that is no text: 125"
contains err "keys/binary' is not UTF-8 text" "a relative secrets file that is no text: named"
lacks state/calls "run --cidfile" "a relative secrets file that is no text: no container"
# Inside, '..' goes up from a plain directory: after a symbolic link
# here, the same path would name another file there.
mkdir -p rel/deep/er && ln -s deep/er rel/lnk
printf 'lnk-0070-secret-value\n' >rel/deep/x.txt
cat >rel/link.yaml <<'YAML'
secrets: {files: [lnk/../x.txt]}
steps: [{name: main, run: echo hi}]
YAML
run "$JOBRUN" run --runtime podman --image img --run-id f7 --work-dir rel link.yaml
is "$status" 125 "'..' after a symbolic link: 125"
contains err "'lnk/../x.txt' goes up ('..') from a symbolic link" "'..' after a symbolic link: said"
chmod 000 rel/keys/token
cat >rel/unreadable.yaml <<'YAML'
source: {type: git, url: 'https://git.example.org/app.git', token_file: keys/token}
steps: [{name: main, run: echo hi}]
YAML
if [ "$(id -u)" = 0 ]; then
	ok true "# SKIP root reads any file"
	ok true "# SKIP root reads any file"
else
	run "$JOBRUN" run --runtime podman --image img --run-id f6 --work-dir rel unreadable.yaml
	is "$status" 125 "an unreadable relative token file: 125"
	contains err "keys/token" "an unreadable relative token file: named"
fi
chmod 600 rel/keys/token
rm -f state/state

# ---- copy sources ----
# A copy source of this host is bound read-only and copied inside from
# there; the copy inside failed, on a path of this host.
mkdir -p app ci-tree && echo x >app/f && echo y >ci-tree/g && : >a-file
top=$(pwd -P)
: >state/calls
run "$JOBRUN" run --runtime podman --image img --run-id c1 --source-type copy \
	--source-url app --ci-source-type copy --ci-source-url "file://$top/ci-tree" job.yaml
is "$status" 3 "copy sources: the job runs"
contains state/calls "--volume $top/app:/mnt/jobrun/src:ro" "the copy source is bound read-only"
contains state/calls "--volume $top/ci-tree:/mnt/jobrun/ci:ro" "so is the CI copy source"
is "$(field state/bundle-body 'd["env"]["JOBRUN_SOURCE_URL"]')" "/mnt/jobrun/src" \
	"the job inside copies from where it is bound"
is "$(field state/bundle-body 'd["env"]["JOBRUN_CI_SOURCE_URL"]')" "/mnt/jobrun/ci" \
	"the CI source too"
rm -f state/state
run env JOBRUN_SOURCE_TYPE=copy REACTORCIDE_SOURCE_URL=app \
	"$JOBRUN" run --runtime podman --image img --run-id c4 job.yaml
is "$(field state/bundle-body 'd["env"]["JOBRUN_SOURCE_URL"]')" "/mnt/jobrun/src" \
	"a copy source from variables: the job inside copies from where it is bound"
contains state/calls "--volume $top/app:/mnt/jobrun/src:ro" "a copy source from variables: bound"
rm -f state/state
cat >rel/copy.yaml <<'YAML'
source: {type: copy, url: ../app}
steps: [{name: main, run: echo hi}]
YAML
: >state/calls
run "$JOBRUN" run --runtime podman --image img --run-id c2 --work-dir rel copy.yaml
contains state/calls "--volume $top/app:/mnt/jobrun/src:ro" \
	"the job file's copy source, from the working directory"
rm -f state/state
: >state/calls
run "$JOBRUN" run --runtime podman --image img --run-id c3 --source-type copy \
	--source-url nothere job.yaml
is "$status" 125 "a copy source that does not exist: 125"
contains err "cannot find the copy source 'nothere'" "a copy source that does not exist: said"
run "$JOBRUN" run --runtime podman --image img --run-id c3 --ci-source-type copy \
	--ci-source-url a-file job.yaml
is "$status" 125 "a copy source that is a file: 125"
contains err "--ci-source-url: the copy source 'a-file' is not a directory" \
	"a copy source that is a file: said, with where it was given"
run "$JOBRUN" run --runtime podman --image img --run-id c3 --source-type copy \
	--source-url https://example.org/app job.yaml
is "$status" 125 "a copy source that is a URL: 125"
contains err "a copy source is a local directory" "a copy source that is a URL: said"
mkdir 'a:b'
run "$JOBRUN" run --runtime podman --image img --run-id c3 --source-type copy \
	--source-url 'a:b' job.yaml
is "$status" 125 "a copy source whose path holds ':': 125"
contains err "cannot be bound into a container" "a path with ':': said"
lacks state/calls "run --cidfile" "nothing made for a copy source refused"
run "$JOBRUN" manifest --image img --ci-source-type copy --ci-source-url app job.yaml
is "$status" 125 "kubernetes: a copy source is refused"
contains err "the job's CI source is a directory of this machine, which a Kubernetes pod cannot see" \
	"kubernetes: a copy source, said"

done_testing
