// Checks Kubernetes objects against the API's schema with the npm package
// kubernetes-models (its validate() runs the OpenAPI schema of each kind).
// Usage: node kube-schema.mjs FILE.json, FILE a List (jobrun manifest).
// Prints "valid KIND" or "invalid KIND: WHY" a line; exits 1 when any is
// invalid.  kubernetes-models must be found from this script's directory
// (a node_modules beside it).
import { readFileSync } from "node:fs";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";

const kinds = { Job, ConfigMap, Secret, Pod };
const list = JSON.parse(readFileSync(process.argv[2], "utf8"));
let bad = 0;
for (const item of list.items) {
	const Kind = kinds[item.kind];
	try {
		if (Kind === undefined)
			throw new Error("a kind this check does not know");
		new Kind(item).validate();
		console.log(`valid ${item.kind}`);
	} catch (e) {
		bad++;
		const why = String(e.message).split("\n").slice(0, 3).join(" | ");
		console.log(`invalid ${item.kind}: ${why}`);
	}
}
process.exit(bad > 0 ? 1 : 0);
