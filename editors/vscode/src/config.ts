// The extension's settings and the server's command line, as plain data: nothing here imports
// `vscode`, so it runs (and is tested) under plain Node.

import * as os from "os";
import * as path from "path";

export const SECTION = "infraCheck";
export const DEFAULT_PATH = "infra-check";

export type Trace = "off" | "messages" | "verbose";

export interface Settings {
  /** The program: a name looked up in PATH, or a path. */
  path: string;
  /** Arguments between the program and `lsp` (a wrapper such as `nix run … --`). */
  extraArgs: string[];
  trace: Trace;
}

/** A setting that had to be replaced by its default, with a sentence saying why. */
export interface SettingProblem {
  setting: string;
  message: string;
}

/** Reads a configuration section the way `vscode.WorkspaceConfiguration.get` does. */
export type Getter = (key: string) => unknown;

/**
 * Settings from the configuration, with every unusable value replaced by its default and
 * reported, so a typo in settings.json never stops the server from starting.
 */
export function readSettings(get: Getter): { settings: Settings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const rawPath = get("path");
  let program = DEFAULT_PATH;
  if (typeof rawPath === "string") {
    // A blank path means "not set", as when the setting is cleared in the settings editor.
    if (rawPath.trim() !== "") program = rawPath.trim();
  } else if (rawPath !== undefined && rawPath !== null) {
    problems.push({
      setting: `${SECTION}.path`,
      message: `The setting ${SECTION}.path must be a string naming the infra-check program; using "${DEFAULT_PATH}" from PATH instead.`,
    });
  }

  const rawArgs = get("extraArgs");
  let extraArgs: string[] = [];
  if (Array.isArray(rawArgs) && rawArgs.every((a) => typeof a === "string")) {
    extraArgs = rawArgs;
  } else if (rawArgs !== undefined && rawArgs !== null) {
    problems.push({
      setting: `${SECTION}.extraArgs`,
      message: `The setting ${SECTION}.extraArgs must be a list of strings, such as ["run", "path:/src/infra-check", "--"]; starting the server without extra arguments.`,
    });
  }

  const rawTrace = get("trace.server");
  let trace: Trace = "off";
  if (rawTrace === "off" || rawTrace === "messages" || rawTrace === "verbose") {
    trace = rawTrace;
  } else if (rawTrace !== undefined && rawTrace !== null) {
    problems.push({
      setting: `${SECTION}.trace.server`,
      message: `The setting ${SECTION}.trace.server must be "off", "messages" or "verbose"; tracing is off.`,
    });
  }
  return { settings: { path: program, extraArgs, trace }, problems };
}

/** What the program path may refer to besides itself. */
export interface Context {
  /** The first workspace folder's path, for `${workspaceFolder}`. */
  workspaceFolder?: string;
  home?: string;
}

/**
 * The program to run: `~` and `${workspaceFolder}` expanded; a relative path with a directory
 * part is taken from the workspace folder, a bare name is left for PATH lookup.
 */
export function resolveProgram(program: string, context: Context): string {
  const home = context.home ?? os.homedir();
  let resolved = program;
  if (resolved === "~" || resolved.startsWith("~/")) {
    resolved = path.join(home, resolved.slice(1));
  }
  if (context.workspaceFolder !== undefined) {
    resolved = resolved.split("${workspaceFolder}").join(context.workspaceFolder);
  }
  const hasDirectory = resolved.includes("/") || resolved.includes("\\");
  if (hasDirectory && !path.isAbsolute(resolved) && context.workspaceFolder !== undefined) {
    resolved = path.join(context.workspaceFolder, resolved);
  }
  return resolved;
}

/** The server's command line: the shape of vscode-languageclient's `Executable`. */
export interface ServerCommand {
  command: string;
  args: string[];
  options: { cwd?: string };
}

export function serverCommand(settings: Settings, context: Context): ServerCommand {
  return {
    command: resolveProgram(settings.path, context),
    args: [...settings.extraArgs, "lsp"],
    options: context.workspaceFolder !== undefined ? { cwd: context.workspaceFolder } : {},
  };
}

/** The command line as a user would type it, for messages and the output channel. */
export function commandLine(command: ServerCommand): string {
  const quote = (word: string) => (/^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  return [command.command, ...command.args].map(quote).join(" ");
}

/** Whether a settings change needs a new server (tracing is applied by the client itself). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return affects(`${SECTION}.path`) || affects(`${SECTION}.extraArgs`);
}

/** The message shown when the server cannot be started, saying how to fix it. */
export function startFailureMessage(command: ServerCommand, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const line = commandLine(command);
  if (code === "ENOENT") {
    return `Cannot start the infra-check language server: "${command.command}" was not found. Install it (cargo install --locked --path crates/cli, or nix profile install), or set ${SECTION}.path to the program.`;
  }
  if (code === "EACCES") {
    return `Cannot start the infra-check language server: "${command.command}" is not executable. Check ${SECTION}.path.`;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return `Cannot start the infra-check language server with \`${line}\`: ${reason}. Check ${SECTION}.path and ${SECTION}.extraArgs, then run "infra-check: Restart the language server".`;
}

/** Documents the client sends to the server. */
export const DOCUMENT_SELECTOR = [{ scheme: "file", language: "nix" }];
