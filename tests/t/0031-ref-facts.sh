#!/bin/sh
# branch, tag and event derived from the source's ref when no flag,
# variable or job file gives them; config --explain says where each came
# from; conditions see them.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 27

cat >job.yaml <<'YAML'
steps: [{name: a, run: "true"}]
YAML

# facts REF [ARGS...]: "branch=B tag=T event=E" as config --explain shows
# them with --source-ref REF.
facts()
{
	_ref=$1
	shift
	"$JOBRUN" config --explain --source-ref "$_ref" "$@" job.yaml >out 2>err
	printf 'branch=%s tag=%s event=%s' "$(value_of branch)" \
		"$(value_of tag)" "$(value_of event)"
}
value_of() { awk -v k="$1" '$1 == k { print $2 }' out; }
origin_of() { sed -n "s/^$1  *[^ ]*  *//p" out; }

is "$(facts refs/heads/main)" "branch=main tag=(unset) event=push" \
	"refs/heads/main: branch main, event push"
is "$(origin_of branch)" "default (derived from source_ref 'refs/heads/main')" \
	"config --explain says the branch was derived from the ref"
is "$(origin_of event)" "default (derived from source_ref 'refs/heads/main')" \
	"and so was the event"
is "$(facts refs/heads/release/1.x)" \
	"branch=release/1.x tag=(unset) event=push" "a branch with a slash"
is "$(facts refs/tags/v1.2.3)" "branch=(unset) tag=v1.2.3 event=tag" \
	"refs/tags/v1.2.3: tag v1.2.3, event tag"
is "$(origin_of tag)" "default (derived from source_ref 'refs/tags/v1.2.3')" \
	"config --explain says the tag was derived from the ref"
is "$(facts refs/pull/7/head)" "branch=(unset) tag=(unset) event=pull_request" \
	"refs/pull/7/head: event pull_request"
is "$(facts refs/pull/7/merge)" "branch=(unset) tag=(unset) event=pull_request" \
	"refs/pull/7/merge: event pull_request"
is "$(facts refs/merge-requests/9/head)" \
	"branch=(unset) tag=(unset) event=pull_request" \
	"refs/merge-requests/9/head: event pull_request"
is "$(facts pull/7/head)" "branch=(unset) tag=(unset) event=pull_request" \
	"pull/7/head without refs/ reads the same"
is "$(facts tags/v2)" "branch=(unset) tag=v2 event=tag" \
	"tags/v2 without refs/ reads the same"
is "$(facts main)" "branch=main tag=(unset) event=push" \
	"a bare name is a branch"
is "$(facts 0123abcd)" "branch=(unset) tag=(unset) event=(unset)" \
	"a short commit id derives nothing"
is "$(facts 0123456789abcdef0123456789abcdef01234567)" \
	"branch=(unset) tag=(unset) event=(unset)" \
	"nor does a full one"
is "$(facts refs/notes/commits)" "branch=(unset) tag=(unset) event=(unset)" \
	"nor another kind of ref"

# Flags and variables win, each fact on its own.
is "$(facts refs/heads/main --branch dev)" "branch=dev tag=(unset) event=push" \
	"--branch wins; the event is still derived"
is "$(origin_of branch)" "flag --branch" "and is named"
is "$(JOBRUN_EVENT=manual facts refs/heads/main)" \
	"branch=main tag=(unset) event=manual" "JOBRUN_EVENT wins"
is "$(JOBRUN_TAG=v9 facts refs/tags/v1)" "branch=(unset) tag=v9 event=tag" \
	"JOBRUN_TAG wins"
is "$(origin_of tag)" "environment JOBRUN_TAG" "and is named"

# The ref may come from the job file or from runnerlib's variable.
cat >src.yaml <<'YAML'
source: {type: none, ref: refs/heads/trunk}
steps: [{name: a, run: "true"}]
YAML
run "$JOBRUN" config --explain src.yaml
is "$(value_of branch) $(value_of event)" "trunk push" \
	"the job file's source.ref is read"
REACTORCIDE_SOURCE_REF=refs/tags/v3 run "$JOBRUN" config --explain job.yaml
is "$(value_of tag) $(value_of event)" "v3 tag" \
	"so is REACTORCIDE_SOURCE_REF"

# No ref: nothing derived, as before.
run "$JOBRUN" config --explain job.yaml
is "$(value_of branch) $(value_of tag) $(value_of event)" \
	"(unset) (unset) (unset)" "no ref, no facts"

# Conditions and triggers see the derived facts.
cat >cond.yaml <<'YAML'
source: {type: none, ref: main}
steps:
  - {name: on-main, run: "true", if: "branch == 'main' && event == 'push'"}
  - {name: on-dev, run: "true", if: "branch == 'dev'"}
  - {name: tagged, run: "true", if: "tag =~ '^v'"}
triggers:
  - {job: deploy-staging, when: success, if: "branch == 'main'"}
YAML
run "$JOBRUN" validate cond.yaml
is "$status" 0 "a condition may name the tag"
run "$JOBRUN" run --local cond.yaml
contains err "step 'on-main': success" "a step for the derived branch runs"
contains err "step 'on-dev': skipped" "a step for another branch is skipped"
contains err "next: deploy-staging" "a trigger for the derived branch is written"
done_testing
