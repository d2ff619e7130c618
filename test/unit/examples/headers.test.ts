/**
 * Issue 22 item 3: every example's header (its first doc comment) lists every
 * config key the program reads, and nothing it does not read: a user who sets
 * the keys of the header gets a program that runs (examples/shared once failed
 * `dial tcp 127.0.0.1:5432` because `port` was read but not listed). The keys
 * read are found in the program's syntax tree (TypeScript's parser): every
 * `cfg.get*` / `cfg.require*` call, with template keys (`${key}Host`)
 * expanded over the string-literal union of `key`'s declared type.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { ROOT } from '../../../lab/consumer';

const EXAMPLES = join(ROOT, 'examples');
const NAMESPACE = 'postgres-strategies';
const GETTERS = /^(get|require)(Number|Boolean|Object|Secret|SecretNumber|SecretBoolean|SecretObject)?$/;

/** The keys the program reads through `new pulumi.Config('postgres-strategies')` (the variable `cfg`). */
export function keysRead(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const configVars = new Set<string>();
  const unions = new Map<string, string[]>();
  const keys = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.initializer && ts.isNewExpression(node.initializer) && /Config$/.test(node.initializer.expression.getText())) {
      const ns = node.initializer.arguments?.[0];
      if (ns && ts.isStringLiteral(ns) && ns.text === NAMESPACE) configVars.add(node.name.getText());
    }
    if (ts.isParameter(node) && node.type && ts.isUnionTypeNode(node.type)) {
      const literals = node.type.types.filter(ts.isLiteralTypeNode).map((t) => t.literal).filter(ts.isStringLiteral).map((l) => l.text);
      if (literals.length === node.type.types.length) unions.set(node.name.getText(), literals);
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && configVars.has(node.expression.expression.getText()) && GETTERS.test(node.expression.name.text)) {
      const arg = node.arguments[0];
      if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) keys.add(arg.text);
      else if (arg && ts.isTemplateExpression(arg) && arg.head.text === '' && arg.templateSpans.length === 1) {
        const span = arg.templateSpans[0]!;
        const values = unions.get(span.expression.getText());
        if (!values) throw new Error(`${file}: cannot expand the config key ${arg.getText()}`);
        for (const v of values) keys.add(`${v}${span.literal.text}`);
      } else throw new Error(`${file}: a config key that is not a literal: ${node.getText()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...keys].sort();
}

/** The `postgres-strategies:<key>` keys named in the file's first comment. */
export function keysListed(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const header = /^\/\*\*[\s\S]*?\*\//.exec(text)?.[0] ?? '';
  return [...new Set([...header.matchAll(new RegExp(`${NAMESPACE}:([A-Za-z0-9]+)`, 'g'))].map((m) => m[1] as string))].sort();
}

const examples = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('example headers', () => {
  it('finds the examples and the keys they read', () => {
    expect(examples).toEqual(expect.arrayContaining(['shared', 'local', 'rds', 'hetzner', 'move']));
    expect(keysRead(join(EXAMPLES, 'shared', 'index.ts'))).toEqual(expect.arrayContaining(['host', 'port', 'adminPassword']));
    expect(keysRead(join(EXAMPLES, 'move', 'index.ts'))).toEqual(expect.arrayContaining(['aHost', 'bHost', 'aPort', 'bAdminPassword']));
  });

  it.each(examples)('examples/%s lists exactly the keys it reads', (name) => {
    const file = join(EXAMPLES, name, 'index.ts');
    const read = keysRead(file);
    const listed = keysListed(file);
    expect({ readButNotListed: read.filter((k) => !listed.includes(k)), listedButNotRead: listed.filter((k) => !read.includes(k)) }).toEqual({
      readButNotListed: [],
      listedButNotRead: [],
    });
  });

  it.each(examples)('examples/%s tells a non-interactive shell what it needs (PULUMI_CONFIG_PASSPHRASE, --yes)', (name) => {
    const header = /^\/\*\*[\s\S]*?\*\//.exec(readFileSync(join(EXAMPLES, name, 'index.ts'), 'utf8'))?.[0] ?? '';
    expect(header).toContain('PULUMI_CONFIG_PASSPHRASE');
    expect(header).toContain('--yes');
  });
});
