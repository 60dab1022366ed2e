// Parse an AsyncAPI document with the official parser (@asyncapi/parser); exit 1 on any
// error-level diagnostic. Usage: node .ci/asyncapi/validate.mjs schemas/asyncapi.json
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2] ?? "schemas/asyncapi.json";
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of errors) {
  console.error(`${path}: ${d.path.join(".")}: ${d.message}`);
}
if (!document || errors.length) {
  console.error(`${path}: ${errors.length} error(s); not a valid AsyncAPI document`);
  process.exit(1);
}
const warnings = diagnostics.filter((d) => d.severity === 1).length;
console.log(`${path}: valid AsyncAPI ${document.version()} (${warnings} warning(s))`);
