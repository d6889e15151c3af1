// The VS Code side: starts `infra-check lsp` through vscode-languageclient and restarts it
// when its settings change. Everything that can be decided without VS Code is in ./config.

import * as vscode from "vscode";
import { Executable, LanguageClient, LanguageClientOptions } from "vscode-languageclient/node";

import {
  commandLine,
  DOCUMENT_SELECTOR,
  needsRestart,
  readSettings,
  SECTION,
  serverCommand,
  startFailureMessage,
} from "./config";

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("infra-check", { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand(`${SECTION}.restart`, restart),
    vscode.commands.registerCommand(`${SECTION}.showOutput`, () => output?.show()),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (needsRestart((section) => event.affectsConfiguration(section))) {
        await restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

async function start(): Promise<void> {
  const configuration = vscode.workspace.getConfiguration(SECTION);
  const { settings, problems } = readSettings((key) => configuration.get(key));
  for (const problem of problems) {
    output?.warn(problem.message);
    void vscode.window.showWarningMessage(problem.message);
  }
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === "file");
  const command = serverCommand(settings, { workspaceFolder: folder?.uri.fsPath });
  output?.info(`Starting \`${commandLine(command)}\`.`);

  const executable: Executable = command;
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    outputChannel: output,
    // The server registers its own file watchers (workspace/didChangeWatchedFiles).
  };
  const next = new LanguageClient(SECTION, "infra-check", { run: executable, debug: executable }, clientOptions);
  client = next;
  try {
    await next.start();
  } catch (error) {
    const message = startFailureMessage(command, error);
    output?.error(message);
    void vscode.window.showErrorMessage(message, "Show output").then((choice) => {
      if (choice !== undefined) output?.show();
    });
  }
}

async function stop(): Promise<void> {
  const current = client;
  client = undefined;
  if (current === undefined) return;
  try {
    await current.stop();
  } catch (error) {
    // A server that already died cannot be asked to shut down; the new one starts anyway.
    output?.warn(`The previous server did not stop cleanly: ${String(error)}`);
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
