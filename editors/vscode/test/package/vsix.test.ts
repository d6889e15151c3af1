// The packaged .vsix (a zip) holds what VS Code loads: the manifest with the entry point,
// activation events and contributions, and the bundled entry point itself.

import { strict as assert } from "node:assert";
import * as path from "node:path";
import { test } from "node:test";
import * as yauzl from "yauzl";

const root = path.join(__dirname, "..", "..", "..");
const vsix = process.env.INFRA_CHECK_VSIX ?? path.join(root, "infra-check.vsix");

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, Buffer>();
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on("end", () => resolve(entries));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

test("the .vsix holds the manifest and the bundled entry point", async () => {
  const entries = await readZip(vsix);
  const names = [...entries.keys()].sort();
  assert.ok(entries.has("extension.vsixmanifest"), `no extension.vsixmanifest in ${names}`);
  const manifest = JSON.parse(entries.get("extension/package.json")!.toString("utf8"));

  assert.equal(manifest.name, "infra-check");
  assert.equal(manifest.main, "./dist/extension.js");
  const main = entries.get("extension/dist/extension.js");
  assert.ok(main, `the entry point is not in the package: ${names}`);
  // The client library is bundled in; only `vscode` is left for the host to provide.
  const source = main.toString("utf8");
  assert.match(source, /require\("vscode"\)/);
  assert.doesNotMatch(source, /require\("vscode-languageclient/);
  // The extension's own code is in it, not only the library (the section name is a constant).
  assert.match(source, /registerCommand\(`\$\{\w+\}\.restart`/, "the restart command is not registered in the bundle");
  assert.ok(source.includes('"infraCheck"'), "the settings section is not in the bundle");
  // Nothing but what runs: no sources, tests or node_modules.
  for (const name of names) {
    assert.doesNotMatch(name, /^extension\/(node_modules|src|test|out)\//, `${name} should not be packaged`);
  }

  assert.deepEqual(manifest.activationEvents, ["onLanguage:nix", "workspaceContains:**/flake.nix"]);
  assert.deepEqual(
    manifest.contributes.languages.map((l: { id: string; extensions: string[] }) => [l.id, l.extensions]),
    [["nix", [".nix"]]],
  );
  assert.deepEqual(
    manifest.contributes.commands.map((c: { command: string }) => c.command).sort(),
    ["infraCheck.restart", "infraCheck.showOutput"],
  );
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), ["infraCheck.extraArgs", "infraCheck.path", "infraCheck.trace.server"]);
  assert.equal(properties["infraCheck.path"].default, "infra-check");
  assert.deepEqual(properties["infraCheck.extraArgs"].default, []);
  assert.deepEqual(properties["infraCheck.trace.server"].enum, ["off", "messages", "verbose"]);
  assert.ok(manifest.engines.vscode.startsWith("^1."), manifest.engines.vscode);
});
