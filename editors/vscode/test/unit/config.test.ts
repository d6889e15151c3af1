import { strict as assert } from "node:assert";
import { test } from "node:test";

import {
  commandLine,
  needsRestart,
  readSettings,
  resolveProgram,
  serverCommand,
  startFailureMessage,
} from "../../src/config";

const from = (values: Record<string, unknown>) => (key: string) => values[key];

test("no settings start `infra-check lsp` from PATH without tracing", () => {
  const { settings, problems } = readSettings(from({}));
  assert.deepEqual(settings, { path: "infra-check", extraArgs: [], trace: "off" });
  assert.deepEqual(problems, []);
  assert.deepEqual(serverCommand(settings, {}), { command: "infra-check", args: ["lsp"], options: {} });
});

test("extra arguments go between the program and `lsp`", () => {
  const { settings } = readSettings(
    from({ path: "nix", extraArgs: ["run", "path:/src/infra-check", "--"], "trace.server": "verbose" }),
  );
  const command = serverCommand(settings, { workspaceFolder: "/repo" });
  assert.equal(command.command, "nix");
  assert.deepEqual(command.args, ["run", "path:/src/infra-check", "--", "lsp"]);
  assert.deepEqual(command.options, { cwd: "/repo" });
  assert.equal(settings.trace, "verbose");
});

test("unusable values fall back to the defaults and say which setting was wrong", () => {
  const { settings, problems } = readSettings(
    from({ path: 42, extraArgs: "--verbose", "trace.server": "loud" }),
  );
  assert.deepEqual(settings, { path: "infra-check", extraArgs: [], trace: "off" });
  assert.deepEqual(
    problems.map((p) => p.setting),
    ["infraCheck.path", "infraCheck.extraArgs", "infraCheck.trace.server"],
  );
  for (const p of problems) assert.match(p.message, new RegExp(`The setting ${p.setting.replace(/\./g, "\\.")} must be`));
  // A list with a non-string in it is refused whole, not passed on half.
  assert.deepEqual(readSettings(from({ extraArgs: ["a", 1] })).settings.extraArgs, []);
});

test("a blank path is the default, not an empty command", () => {
  const { settings, problems } = readSettings(from({ path: "   " }));
  assert.equal(settings.path, "infra-check");
  assert.deepEqual(problems, []);
});

test("the program path expands ~ and ${workspaceFolder}; relative paths are in the workspace", () => {
  const context = { workspaceFolder: "/work/fleet", home: "/home/ada" };
  assert.equal(resolveProgram("~/.cargo/bin/infra-check", context), "/home/ada/.cargo/bin/infra-check");
  assert.equal(resolveProgram("${workspaceFolder}/result/bin/infra-check", context), "/work/fleet/result/bin/infra-check");
  assert.equal(resolveProgram("./result/bin/infra-check", context), "/work/fleet/result/bin/infra-check");
  assert.equal(resolveProgram("/usr/bin/infra-check", context), "/usr/bin/infra-check");
  // A bare name is looked up in PATH by the operating system.
  assert.equal(resolveProgram("infra-check", context), "infra-check");
  // Without a workspace folder a relative path is left to the process's directory.
  assert.equal(resolveProgram("./bin/infra-check", { home: "/h" }), "./bin/infra-check");
});

test("the command line is shown quoted as a shell would need it", () => {
  assert.equal(
    commandLine({ command: "/opt/my tools/infra-check", args: ["--x=it's", "lsp"], options: {} }),
    "'/opt/my tools/infra-check' '--x=it'\\''s' lsp",
  );
  assert.equal(commandLine({ command: "infra-check", args: ["lsp"], options: {} }), "infra-check lsp");
});

test("only the program and its arguments need a new server", () => {
  const changed = (...sections: string[]) => (s: string) => sections.includes(s);
  assert.equal(needsRestart(changed("infraCheck.path")), true);
  assert.equal(needsRestart(changed("infraCheck.extraArgs")), true);
  assert.equal(needsRestart(changed("infraCheck.trace.server")), false);
  assert.equal(needsRestart(changed("editor.fontSize")), false);
});

test("a missing program is reported with how to install it or set the path", () => {
  const command = { command: "infra-check", args: ["lsp"], options: {} };
  const missing = Object.assign(new Error("spawn infra-check ENOENT"), { code: "ENOENT" });
  const message = startFailureMessage(command, missing);
  assert.match(message, /"infra-check" was not found/);
  assert.match(message, /cargo install --locked/);
  assert.match(message, /infraCheck\.path/);
  const denied = Object.assign(new Error("spawn EACCES"), { code: "EACCES" });
  assert.match(startFailureMessage(command, denied), /is not executable/);
  assert.match(startFailureMessage(command, new Error("boom")), /with `infra-check lsp`: boom/);
});
