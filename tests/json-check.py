#!/usr/bin/python3
"""Checks JSON files jobrun wrote (triggers.json, result.json) against a
JSON Schema.

    python3 tests/json-check.py SCHEMA FILE.json...
    python3 tests/json-check.py --lines SCHEMA FILE...

With --lines, each line of a FILE is a document of its own (the JSON log of
--log-format json), reported as FILE:LINE.  Prints "FILE: ok" or "FILE: invalid: WHY" for each file and exits 0 when
every file is valid, 1 when any is not, 2 when the schema cannot be used.
A file must be exactly one JSON document (a trailing newline allowed) with
no duplicate keys, as a strict reader would insist.
"""

import json
import sys

import jsonschema


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def check(validator, path):
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f, object_pairs_hook=no_duplicates)
    except (OSError, ValueError) as e:
        return "not JSON: %s" % e
    return check_document(validator, document)


def check_lines(validator, path):
    """Checks every line of path; returns [(name, problem or None)]."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, ValueError) as e:
        return [(path, "cannot read: %s" % e)]
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return [(path, "no lines")]
    results = []
    for number, line in enumerate(lines, 1):
        name = "%s:%d" % (path, number)
        try:
            document = json.loads(line, object_pairs_hook=no_duplicates)
        except ValueError as e:
            results.append((name, "not JSON: %s" % e))
            continue
        results.append((name, check_document(validator, document)))
    return results


def check_document(validator, document):
    errors = sorted(validator.iter_errors(document), key=lambda e: e.path)
    if not errors:
        return None
    error = errors[0]
    return "at /%s: %s" % ("/".join(str(p) for p in error.path), error.message)


def main(argv):
    lines = len(argv) > 1 and argv[1] == "--lines"
    if lines:
        argv = argv[:1] + argv[2:]
    if len(argv) < 3:
        sys.stderr.write("usage: %s SCHEMA FILE.json...\n" % argv[0])
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        sys.stderr.write("%s: cannot use the schema: %s\n" % (argv[1], e))
        return 2
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    failed = 0
    for path in argv[2:]:
        results = (check_lines(validator, path) if lines
                   else [(path, check(validator, path))])
        for name, problem in results:
            if problem is None:
                print("%s: ok" % name)
            else:
                print("%s: invalid: %s" % (name, problem))
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
