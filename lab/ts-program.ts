/**
 * The arguments that make `node` run a TypeScript program of this
 * repository in a process of its own (e.g. a fresh Pulumi mock runtime per
 * evaluation, as each `pulumi up` is): its .ts files, and those it
 * requires, are transpiled on the fly (their types are checked by tsc with
 * the rest of the tests).
 *
 *   spawn(process.execPath, tsProgramArgs(file), { cwd: <repository root>, … })
 */
export function tsProgramArgs(program: string): string[] {
  const loader = [
    "const ts = require('typescript'); const fs = require('fs');",
    "require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), { fileName: f, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, f);",
    `require(${JSON.stringify(program)});`,
  ].join('\n');
  return ['-e', loader];
}
