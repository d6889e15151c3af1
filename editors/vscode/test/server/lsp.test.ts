// `infra-check lsp` driven over vscode-languageserver-protocol (the library under VS Code's
// client) with the capabilities VS Code announces, on a copy of examples/fleet with a module
// reference broken: a diagnostic, a definition, a hover, and a clean shutdown.

import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  ClientCapabilities,
  ConfigurationRequest,
  createProtocolConnection,
  DefinitionRequest,
  Diagnostic,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  Location,
  LocationLink,
  MarkupContent,
  ProtocolConnection,
  PublishDiagnosticsNotification,
  PublishDiagnosticsParams,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  WorkDoneProgressCreateRequest,
} from "vscode-languageserver-protocol/node";

const binary = process.env.INFRA_CHECK_BIN;
const repository = path.join(__dirname, "..", "..", "..", "..", "..");
const TIMEOUT = 60_000;

/** What VS Code 1.9x announces for the features this test uses. */
const capabilities: ClientCapabilities = {
  general: { positionEncodings: ["utf-16"], markdown: { parser: "marked", version: "1.1.0" } },
  window: { workDoneProgress: true, showMessage: { messageActionItem: { additionalPropertiesSupport: true } } },
  workspace: {
    applyEdit: true,
    configuration: true,
    workspaceFolders: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
    workspaceEdit: { documentChanges: true, resourceOperations: ["create", "rename", "delete"] },
    symbol: { dynamicRegistration: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
    publishDiagnostics: {
      relatedInformation: true,
      versionSupport: false,
      tagSupport: { valueSet: [1, 2] },
      codeDescriptionSupport: true,
      dataSupport: true,
    },
    hover: { dynamicRegistration: true, contentFormat: ["markdown", "plaintext"] },
    definition: { dynamicRegistration: true, linkSupport: true },
    references: { dynamicRegistration: true },
    completion: {
      dynamicRegistration: true,
      contextSupport: true,
      completionItem: { snippetSupport: true, documentationFormat: ["markdown", "plaintext"], insertReplaceSupport: true },
    },
    codeAction: {
      dynamicRegistration: true,
      isPreferredSupport: true,
      codeActionLiteralSupport: { codeActionKind: { valueSet: ["", "quickfix", "refactor", "source"] } },
    },
    documentSymbol: { dynamicRegistration: true, hierarchicalDocumentSymbolSupport: true },
  },
};

let tree: string;
let server: ChildProcess;
let connection: ProtocolConnection;
let exited: Promise<number | null>;
const published = new Map<string, PublishDiagnosticsParams>();
const waiters: Array<() => void> = [];

const machine = () => path.join(tree, "modules/machines/nixos/argon/default.nix");
const uri = (file: string) => pathToFileURL(file).toString();

function positionOf(text: string, needle: string, offset = 0) {
  const index = text.indexOf(needle);
  assert.ok(index >= 0, `${needle} is not in the document`);
  const before = text.slice(0, index + offset).split("\n");
  return { line: before.length - 1, character: before[before.length - 1].length };
}

function diagnosticsFor(file: string, code: string): Promise<Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${code} published for ${file}; published: ${JSON.stringify([...published.values()])}`)),
      TIMEOUT,
    );
    const check = () => {
      const found = published.get(uri(file))?.diagnostics ?? [];
      if (found.some((d) => d.code === code)) {
        clearTimeout(timer);
        resolve(found);
        return true;
      }
      return false;
    };
    if (!check()) waiters.push(() => void check());
  });
}

before(async () => {
  assert.ok(binary, "INFRA_CHECK_BIN must name the infra-check binary to test");
  tree = fs.mkdtempSync(path.join(os.tmpdir(), "infra-check-vscode-"));
  fs.cpSync(path.join(repository, "examples/fleet"), tree, { recursive: true });
  const text = fs.readFileSync(machine(), "utf8").replace("        monitoring\n", "        monitorin\n");
  fs.writeFileSync(machine(), text);

  server = spawn(binary, ["lsp"], { cwd: tree, stdio: ["pipe", "pipe", "inherit"] });
  exited = new Promise((resolve) => server.on("exit", (code) => resolve(code)));
  connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  // The requests VS Code's client answers for the server.
  connection.onRequest(RegistrationRequest.type, () => undefined);
  connection.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
  connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => null));
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.set(params.uri, params);
    for (const w of waiters.splice(0)) w();
  });
  connection.listen();

  const init = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    clientInfo: { name: "Visual Studio Code", version: "1.95.0" },
    locale: "en",
    rootUri: uri(tree),
    capabilities,
    workspaceFolders: [{ uri: uri(tree), name: path.basename(tree) }],
  });
  assert.equal(init.serverInfo?.name, "infra-check");
  assert.ok(init.capabilities.hoverProvider, "the server offers no hover");
  assert.ok(init.capabilities.definitionProvider, "the server offers no definition");
  await connection.sendNotification(InitializedNotification.type, {});
  await connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: uri(machine()), languageId: "nix", version: 1, text: fs.readFileSync(machine(), "utf8") },
  });
});

after(() => {
  connection?.dispose();
  if (server && server.exitCode === null) server.kill();
  if (tree) fs.rmSync(tree, { recursive: true, force: true });
});

test("a module reference that is not defined is published for the open document", async () => {
  const diagnostics = await diagnosticsFor(machine(), "module/undefined");
  const text = fs.readFileSync(machine(), "utf8");
  const found = diagnostics.find((d) => d.code === "module/undefined")!;
  assert.deepEqual(found.range.start, positionOf(text, "monitorin\n"));
  assert.match(found.message as string, /monitorin/);
});

test("go to definition of a module reference lands on its definitions", async () => {
  const text = fs.readFileSync(machine(), "utf8");
  const result = await connection.sendRequest(DefinitionRequest.type, {
    textDocument: { uri: uri(machine()) },
    position: positionOf(text, "        base\n", 9),
  });
  assert.ok(result, "no definition");
  const targets = (Array.isArray(result) ? result : [result]).map((l: Location | LocationLink) =>
    "targetUri" in l ? l.targetUri : l.uri,
  );
  assert.ok(targets.includes(uri(path.join(tree, "modules/system/locale.nix"))), JSON.stringify(targets));
});

test("hover over a module reference describes it in markdown", async () => {
  const text = fs.readFileSync(machine(), "utf8");
  const hover = await connection.sendRequest(HoverRequest.type, {
    textDocument: { uri: uri(machine()) },
    position: positionOf(text, "        base\n", 9),
  });
  assert.ok(hover, "no hover");
  const contents = hover.contents as MarkupContent;
  assert.equal(contents.kind, "markdown");
  assert.match(contents.value, /\*\*flake\.modules\.nixos\.base\*\*/);
  assert.match(contents.value, /Imported by the machines .*`argon`/);
});

test("the server shuts down and exits with status 0", { timeout: TIMEOUT }, async () => {
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
  assert.equal(await exited, 0);
});
