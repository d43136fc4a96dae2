#!/bin/sh
# result.json counts the redactions of each secret and pattern, names each
# secret by HMAC-SHA256 keyed with a per-job salt, and the stock openssl
# command reproduces that name (jobrun(1), result.json, "redactions").
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 16

CHECK="$PYTHON3 $JOBRUN_SRCDIR/tests/json-check.py"
RSCHEMA=$JOBRUN_SRCDIR/src/result.schema.json

# field EXPR: prints EXPR evaluated on result.json's "redactions" (r).
field()
{
	"$PYTHON3" -c 'import json, sys
r = json.load(open(".jobrun/result.json"))["redactions"]
print(eval(sys.argv[1]))' "$1"
}

# hmac VALUE: the hash jobrun(1) tells users to compute, with the job's salt.
hmac()
{
	printf %s "$1" | openssl dgst -sha256 -hmac "$(field 'r["salt"]')" |
		awk '{ print $NF }'
}

# A secret printed 5 times (once split across two writes, once in base64
# within a line), one never printed, one too short, one registered at run
# time and printed twice, and a pattern matched once.
cat >count.yaml <<'YAML'
secrets:
  patterns: ['ghp_[A-Za-z0-9]{8}', 'never-[0-9]{9}']
steps:
  - name: print
    run: |
      for i in 1 2 3; do echo "line $i: listed-secret-1"; done
      printf 'split: listed-sec'; sleep 0.3; printf 'ret-1\n'
      printf 'b64: %s\n' "$(printf %s listed-secret-1 | base64)"
      printf 'late-secret-77\n' | jobrun secret add
      echo "late-secret-77 and late-secret-77"
      echo "token ghp_ABCdef12"
YAML
REACTORCIDE_SECRET_VALUES_LIST='listed-secret-1, unused-secret-2, abc' \
	run "$JOBRUN" run count.yaml
is "$status" 0 "a job printing its secrets succeeds"
lacks out "listed-secret-1" "the secret is masked on the console"
is "$($CHECK "$RSCHEMA" .jobrun/result.json)" ".jobrun/result.json: ok" \
	"result.json is valid against its schema"
ok "field 'r[\"salt\"]' | grep -qxE '[0-9a-f]{32}'" "the salt is 32 hex digits"
is "$(field 'len(r["secrets"])')" 3 \
	"three secrets listed: the short one is not"
is "$(field 'r["secrets"][0]["hash"]')" "$(hmac listed-secret-1)" \
	"openssl dgst -hmac with the salt gives the first secret's hash"
is "$(field 'r["secrets"][0]["count"]')" 5 \
	"printed 5 times (split, base64): counted 5"
is "$(field 'r["secrets"][1]["hash"]')" "$(hmac unused-secret-2)" \
	"the unused secret is listed"
is "$(field 'r["secrets"][1]["count"]')" 0 "with count 0"
is "$(field 'r["secrets"][2]["hash"]')" "$(hmac late-secret-77)" \
	"the secret registered at run time is listed last"
is "$(field 'r["secrets"][2]["count"]')" 2 "counted twice"
is "$(field '[p["count"] for p in r["patterns"]]')" "[1, 0]" \
	"each pattern counted by its index"
ok "! grep -qaF -e listed-secret-1 -e unused-secret-2 -e late-secret-77 \
	.jobrun/result.json" "result.json never holds a secret's value"
ok "! grep -qaF listed-secret-1 .jobrun/logs/print.log" "nor does the log"

# Another job, another salt: the same secret gets another hash.
first=$(field 'r["secrets"][0]["hash"]')
REACTORCIDE_SECRET_VALUES_LIST='listed-secret-1' \
	run "$JOBRUN" run --job-command 'echo listed-secret-1'
is "$(field 'r["secrets"][0]["hash"]')" "$(hmac listed-secret-1)" \
	"a second job's hash matches its own salt"
ok "[ '$first' != \"\$(field 'r[\"secrets\"][0][\"hash\"]')\" ]" \
	"and differs from the first job's"
done_testing
