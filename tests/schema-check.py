#!/usr/bin/python3
"""Checks job files against jobrun's JSON Schema.

    python3 tests/schema-check.py SCHEMA FILE.yaml...

Prints one line per file, "FILE: ok" or "FILE: invalid: WHY", and exits 0
when every file is valid, 1 when any is not, 2 when the schema itself cannot
be used.

The YAML is read the way jobrun reads it, so that the schema sees what
jobrun sees: at most 4 MiB and one document; only true/false (in their
three YAML 1.2 spellings) are booleans and integers are those of YAML
1.2's core schema ([-+]?[0-9]+ in decimal, 0o[0-7]+ in octal,
0x[0-9a-fA-F]+ in hexadecimal), while yes/no, 1.5, 1_000 or dates stay
text, and anything quoted is a string; keys are kept as written.  A duplicate key, or a key that is a collection or null, is an
error, and '<<' is an ordinary key (which the schema then refuses), never
a merge.
"""

import json
import re
import sys

import jsonschema
import yaml

# jobrun refuses larger files (JOBFILE_MAX_SIZE in src/jobfile.h).
MAX_SIZE = 4 * 1024 * 1024


class JobfileResolver(yaml.resolver.BaseResolver):
    """Resolves plain scalars as jobrun reads them: the YAML 1.2 core
    spellings of null and booleans, decimal integers, and text."""


JobfileResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
JobfileResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
JobfileResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)


class JobfileConstructor(yaml.constructor.SafeConstructor):
    """Builds plain Python values; mapping keys are the text written."""

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)

    def construct_yaml_bool(self, node):
        return self.construct_scalar(node) in ("true", "True", "TRUE")

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, "expected a mapping", node.start_mark
            )
        mapping = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or (
                key_node.tag == "tag:yaml.org,2002:null"
            ):
                raise yaml.constructor.ConstructorError(
                    None, None, "expected a name as a key", key_node.start_mark
                )
            key = key_node.value
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "duplicate key '%s'" % key,
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


JobfileConstructor.add_constructor(
    "tag:yaml.org,2002:int", JobfileConstructor.construct_yaml_int
)
JobfileConstructor.add_constructor(
    "tag:yaml.org,2002:bool", JobfileConstructor.construct_yaml_bool
)


class JobfileLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    JobfileConstructor,
    JobfileResolver,
):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        JobfileConstructor.__init__(self)
        JobfileResolver.__init__(self)


def load(path):
    """Returns the document in path; raises ValueError or yaml.YAMLError."""
    with open(path, "rb") as f:
        data = f.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise ValueError("larger than %d bytes" % MAX_SIZE)
    loader = JobfileLoader(data)
    try:
        # get_single_node() refuses a second document.
        node = loader.get_single_node()
        if node is None:
            raise ValueError("empty: expected a mapping with 'steps'")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def where(error):
    """Returns the path of the failing value, as in "steps[1].retries"."""
    text = ""
    for part in error.absolute_path:
        if isinstance(part, int):
            text += "[%d]" % part
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def deepest(error):
    """Picks the most specific reason among the alternatives of anyOf."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def check(validator, path):
    try:
        document = load(path)
    except (OSError, ValueError, yaml.YAMLError) as e:
        return "cannot load: %s" % str(e).replace("\n", " ")
    errors = sorted(
        validator.iter_errors(document), key=lambda e: list(e.absolute_path)
    )
    if not errors:
        return None
    error = errors[0]
    return "%s: %s" % (where(error), deepest(error).message)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: %s SCHEMA FILE.yaml...\n" % argv[0])
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        sys.stderr.write("%s: cannot use the schema: %s\n" % (argv[1], e))
        return 2
    validator = cls(schema)
    failed = 0
    for path in argv[2:]:
        problem = check(validator, path)
        if problem is None:
            print("%s: ok" % path)
        else:
            print("%s: invalid: %s" % (path, problem))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
