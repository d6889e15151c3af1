// The CI integration files at the repository root: action.yml (a composite GitHub Action) and
// .pre-commit-hooks.yaml. Both are parsed as YAML, and the action's shell steps are run the way
// GitHub's runner would run them (bash -eo pipefail, inputs at their defaults, install: none)
// with the infra-check named by INFRA_CHECK_BIN on PATH, on a copy of examples/fleet with and
// without a finding.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (file) => parse(fs.readFileSync(path.join(repository, file), "utf8"));

test("action.yml is a composite action with the documented inputs", () => {
  const action = read("action.yml");
  assert.equal(action.runs.using, "composite");
  const defaults = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default]));
  assert.deepEqual(defaults, {
    path: ".",
    install: "cargo",
    "deny-warnings": "false",
    "upload-sarif": "true",
    "sarif-file": "infra-check.sarif",
    category: "infra-check",
    "fetch-inputs": "auto",
  });
  for (const [name, input] of Object.entries(action.inputs)) {
    assert.ok(input.description?.length > 10, `input ${name} has no description`);
  }
  const steps = action.runs.steps;
  for (const step of steps) {
    if (step.run) {
      assert.equal(step.shell, "bash", `${step.name}: a composite run step needs a shell`);
      // Inputs reach scripts through env only, so a value is never spliced into shell code.
      assert.doesNotMatch(step.run, /\$\{\{/, `${step.name} expands an expression inside its script`);
    }
  }
  const install = steps.find((s) => s.name === "Install infra-check");
  assert.match(install.run, /cargo install --locked .*--path "\$GITHUB_ACTION_PATH\/crates\/cli"/);
  assert.ok(fs.existsSync(path.join(repository, "crates/cli/Cargo.toml")));
  const upload = steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"));
  assert.equal(upload.uses, "github/codeql-action/upload-sarif@v3");
  assert.equal(upload.if, "inputs.upload-sarif == 'true'");
  assert.equal(upload.with.sarif_file, "${{ steps.sarif.outputs.sarif-file }}");
  const order = steps.map((s) => s.id ?? s.uses ?? s.name);
  assert.ok(order.indexOf("sarif") < order.indexOf(upload.uses), "the log is uploaded after it is written");
  assert.equal(order.at(-1), "Annotate and decide");
});

test(".pre-commit-hooks.yaml has an infra-check hook that checks the whole repository", () => {
  const hooks = read(".pre-commit-hooks.yaml");
  assert.ok(Array.isArray(hooks));
  const hook = hooks.find((h) => h.id === "infra-check");
  assert.ok(hook, "no hook with id infra-check");
  assert.equal(hook.entry, "infra-check check");
  assert.equal(hook.language, "system");
  assert.equal(hook.pass_filenames, false);
  // pre-commit matches `files` with Python's re.search; these patterns mean the same in JS.
  const files = new RegExp(hook.files);
  for (const f of ["flake.nix", "modules/a/b.nix", "inventory.json", "infra-check.toml", "flake.lock", "vars/per-machine/a/g/f/value", "sops/machines/a/key.json"]) {
    assert.match(f, files, `${f} should run the hook`);
  }
  for (const f of ["README.md", "src/main.rs", "flake.nix.orig", "notvars/x"]) {
    assert.doesNotMatch(f, files, `${f} should not run the hook`);
  }
});

/** Evaluates the few expressions the action uses. */
function expand(text, context) {
  return String(text).replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr) => {
    assert.ok(expr in context, `unknown expression ${expr}`);
    return context[expr];
  });
}

function condition(expr, context) {
  if (expr === undefined) return true;
  const m = /^inputs\.([\w-]+) (==|!=) '([^']*)'$/.exec(expr);
  assert.ok(m, `unsupported condition ${expr}`);
  const value = context[`inputs.${m[1]}`];
  return m[2] === "==" ? value === m[3] : value !== m[3];
}

/** Runs the action's shell steps as GitHub's runner would; returns each step's exit status. */
function runAction(workspace, inputs) {
  const action = read("action.yml");
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "infra-check-action-"));
  const context = { "runner.temp": temp };
  for (const [name, input] of Object.entries(action.inputs)) {
    context[`inputs.${name}`] = inputs[name] ?? input.default;
  }
  const outputFile = path.join(temp, "output");
  const statuses = [];
  for (const step of action.runs.steps) {
    if (!condition(step.if, context)) continue;
    if (step.uses) {
      statuses.push({ step: step.uses, skipped: "not run here" });
      continue;
    }
    fs.writeFileSync(outputFile, "");
    const env = { ...process.env, GITHUB_OUTPUT: outputFile, GITHUB_PATH: path.join(temp, "path"), GITHUB_ACTION_PATH: repository };
    env.PATH = `${path.dirname(process.env.INFRA_CHECK_BIN)}${path.delimiter}${process.env.PATH}`;
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expand(v, context);
    const script = path.join(temp, "step.sh");
    fs.writeFileSync(script, step.run);
    const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd: workspace, env, encoding: "utf8" });
    statuses.push({ step: step.name, status: run.status, stdout: run.stdout, stderr: run.stderr });
    for (const line of fs.readFileSync(outputFile, "utf8").split("\n").filter(Boolean)) {
      const [k, ...v] = line.split("=");
      if (step.id) context[`steps.${step.id}.outputs.${k}`] = v.join("=");
    }
    if (run.status !== 0) break;
  }
  fs.rmSync(temp, { recursive: true, force: true });
  return { statuses, context };
}

function fleet(broken) {
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "infra-check-action-tree-"));
  fs.cpSync(path.join(repository, "examples/fleet"), tree, { recursive: true });
  if (broken) {
    const file = path.join(tree, "modules/machines/nixos/argon/default.nix");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("        monitoring\n", "        monitorin\n"));
  }
  return tree;
}

const binary = process.env.INFRA_CHECK_BIN;
const nix = spawnSync("nix", ["--version"], { encoding: "utf8" }).status === 0;
const nixSkip = !nix && (process.env.INFRA_CHECK_REQUIRE_TOOLS === "1" ? false : "nix is not on PATH (Debian package nix-bin)");

test("the action writes the SARIF log even with findings, annotates them and fails on them", { skip: !binary && "INFRA_CHECK_BIN is not set" }, () => {
  const tree = fleet(true);
  // The example's inputs are on GitHub: fetching them is tested apart, offline.
  const { statuses, context } = runAction(tree, { install: "none", "fetch-inputs": "false" });
  const byName = Object.fromEntries(statuses.map((s) => [s.step, s]));
  assert.equal(byName["Check that infra-check can be run"].status, 0, JSON.stringify(statuses));
  assert.equal(byName["Write the SARIF log"].status, 0, JSON.stringify(statuses));
  const sarif = JSON.parse(fs.readFileSync(path.join(tree, context["steps.sarif.outputs.sarif-file"]), "utf8"));
  assert.ok(sarif.runs[0].results.some((r) => r.ruleId === "module/undefined"), "the finding is not in the log");
  assert.equal(byName["github/codeql-action/upload-sarif@v3"].skipped, "not run here");
  const annotate = byName["Annotate and decide"];
  assert.equal(annotate.status, 1, "an error fails the job");
  assert.match(annotate.stdout, /^::error file=modules\/machines\/nixos\/argon\/default\.nix,line=\d+,.*title=module\/undefined::/m);
  fs.rmSync(tree, { recursive: true, force: true });
});

test("the action passes on a clean tree, and without upload when asked", { skip: !binary && "INFRA_CHECK_BIN is not set" }, () => {
  const tree = fleet(false);
  const { statuses } = runAction(tree, { install: "none", "upload-sarif": "false", "deny-warnings": "true", "fetch-inputs": "false" });
  assert.deepEqual(statuses.map((s) => [s.step, s.status]), [
    ["Check that infra-check can be run", 0],
    ["Write the SARIF log", 0],
    ["Annotate and decide", 0],
  ], JSON.stringify(statuses));
  fs.rmSync(tree, { recursive: true, force: true });
});

test("the action refuses an unknown install method with a message", () => {
  const { statuses } = runAction(os.tmpdir(), { install: "apt" });
  assert.equal(statuses[0].status, 2);
  assert.match(statuses[0].stdout, /::error title=infra-check::The input install is `apt`; use `cargo` or `none`\./);
});

test("the action fetches the locked inputs with the real nix flake archive, without writing the lock", { skip: nixSkip }, () => {
  assert.ok(nix, "INFRA_CHECK_REQUIRE_TOOLS=1, but nix is not on PATH");
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "infra-check-action-archive-"));
  fs.writeFileSync(path.join(tree, "flake.nix"), "{ outputs = _: { }; }\n");
  fs.mkdirSync(path.join(tree, "sub"));
  const { statuses } = runAction(tree, { install: "none", "upload-sarif": "false", path: "sub", "fetch-inputs": "true" });
  const fetch = statuses.find((s) => s.step === "Fetch the locked inputs");
  assert.equal(fetch.status, 0, JSON.stringify(fetch));
  assert.doesNotMatch(fetch.stdout, /::warning/);
  assert.ok(!fs.existsSync(path.join(tree, "flake.lock")), "the lock is not written");
  // A flake whose input cannot be fetched (a file that does not exist): a warning, and the checks still run.
  fs.writeFileSync(path.join(tree, "flake.nix"), '{ inputs.x = { url = "file:///nonexistent/x.tar.gz"; flake = false; }; outputs = _: { }; }\n');
  const failed = runAction(tree, { install: "none", "upload-sarif": "false", "fetch-inputs": "auto" }).statuses;
  const warned = failed.find((s) => s.step === "Fetch the locked inputs");
  assert.equal(warned.status, 0, JSON.stringify(warned));
  assert.match(warned.stdout, /^::warning title=infra-check::nix flake archive failed \(exit code \d+\): the inputs it could not fetch stay unknown to the checks\.$/m);
  assert.equal(failed.find((s) => s.step === "Write the SARIF log").status, 0, JSON.stringify(failed));
  fs.rmSync(tree, { recursive: true, force: true });
});

test("the action fetches nothing when asked not to, and refuses an unknown fetch-inputs", () => {
  const off = runAction(os.tmpdir(), { install: "none", "fetch-inputs": "false" }).statuses;
  assert.ok(!off.some((s) => s.step === "Fetch the locked inputs"), JSON.stringify(off));
  const bad = runAction(os.tmpdir(), { install: "none", "fetch-inputs": "yes" }).statuses;
  const step = bad.find((s) => s.step === "Fetch the locked inputs");
  assert.equal(step.status, 2, JSON.stringify(bad));
  assert.match(step.stdout, /::error title=infra-check::The input fetch-inputs is `yes`; use `auto`, `true` or `false`\./);
});
