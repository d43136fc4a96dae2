#!/bin/sh
# Conditions and skips follow the graph: a table of small jobs and the
# outcome each step must get.  F fails, S succeeds.
. "$JOBRUN_SRCDIR/tests/lib.sh"

# graph NAME EXPECTED STEP...: each STEP is "name:F|S[:deps[:if]]" with
# deps separated by '+'; EXPECTED is "name=outcome ..." in step order.
graph()
{
	name=$1 expected=$2
	shift 2
	echo "steps:" >g.yaml
	for spec in "$@"; do
		step=${spec%%:*} rest=${spec#*:}
		kind=${rest%%:*} rest=${rest#"$kind"}; rest=${rest#:}
		deps=${rest%%:*} cond=${rest#"$deps"}; cond=${cond#:}
		[ "$kind" = F ] && cmd='exit 1' || cmd='true'
		printf '  - {name: %s, run: "%s"' "$step" "$cmd" >>g.yaml
		[ -n "$deps" ] && printf ', depends_on: [%s]' "$(echo "$deps" | tr + ,)" >>g.yaml
		[ -n "$cond" ] && printf ", if: \"%s\"" "$cond" >>g.yaml
		echo "}" >>g.yaml
	done
	"$JOBRUN" run -j2 --branch main g.yaml >/dev/null 2>&1
	got=$($PYTHON3 -c 'import json
print(" ".join(s["name"] + "=" + s["outcome"] for s in json.load(open(".jobrun/result.json"))["steps"]))')
	is "$got" "$expected" "$name"
}

plan 14
graph "a chain of successes" "a=success b=success c=success" \
	a:S b:S:a c:S:b
graph "a failure skips the chain after it" "a=failed b=skipped c=skipped" \
	a:F b:S:a c:S:b
graph "an independent branch still runs" "a=failed b=skipped c=success" \
	a:F b:S:a c:S
graph "always() runs after a failure" "a=failed b=success" \
	a:F "b:S:a:always()"
graph "failure() runs only after a failure" "a=success b=skipped c=failed d=success" \
	a:S "b:S:a:failure()" c:F "d:S:c:failure()"
graph "the dependant of a skipped step is skipped" "a=failed b=skipped c=skipped" \
	a:F b:S:a c:S:b
graph "always() after a skipped step" "a=failed b=skipped c=success" \
	a:F b:S:a "c:S:b:always()"
graph "a diamond with one failing side" "a=success b=failed c=success d=skipped" \
	a:S b:F:a c:S:a d:S:b+c
graph "a false condition skips" "a=skipped b=skipped" \
	"a:S::branch == 'dev'" b:S:a
graph "a true condition runs" "a=success b=success" \
	"a:S::branch =~ '^ma'" b:S:a
graph "a plain condition still needs its dependencies" "a=failed b=skipped" \
	a:F "b:S:a:branch == 'main'"
graph "a condition on an earlier outcome" "a=failed b=success" \
	a:F "b:S:a:always() && steps.a.outcome == 'failed'"
graph "failure() with two dependencies" "a=success b=failed c=success" \
	a:S b:F "c:S:a+b:failure()"
graph "success() is the default" "a=success b=success c=skipped" \
	a:S "b:S:a:success()" "c:S:a:failure()"
done_testing
