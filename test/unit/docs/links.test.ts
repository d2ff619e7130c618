/**
 * Issue 22 item 14: the README and the pages in docs/ link to each other, to
 * the examples and to sections of each other. Every link must land: a
 * relative link (docs/*.md) names a file or folder of the repository, a link
 * to this repository on GitHub (the README's, which must also work on the npm
 * registry's page) names one on `main`, and an anchor names a heading of the
 * page it points to, spelt as GitHub spells heading anchors. Every page in
 * docs/ is reachable from the README.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../../../lab/consumer';

const REPO_URL = /^https:\/\/github\.com\/VibeWarden\/postgres-strategies\/(?:blob|tree)\/main\/([^#?]*)(#.*)?$/;

/** A fenced code block (indented too, as in a list item): no links, no headings inside. */
const FENCED_CODE = /^[ \t]*(`{3,}|~{3,})[^\n]*\n[\s\S]*?^[ \t]*\1[ \t]*$/gm;

/** The Markdown files checked: the README and every page in docs/. */
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Text outside fenced code blocks and inline code (where `[x](y)` is not a link). */
function prose(markdown: string): string {
  return markdown.replace(FENCED_CODE, '').replace(/`[^`\n]*`/g, '``');
}

/**
 * The anchors GitHub gives a page's headings: the heading's text (inline code
 * and link text kept, markup dropped), lower case, every character but
 * letters, digits, marks, `_`, `-` and spaces removed, spaces as `-`; a
 * repeated anchor gets `-1`, `-2`, ….
 */
export function headingAnchors(markdown: string): Set<string> {
  const withoutFences = markdown.replace(FENCED_CODE, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = (m[1] as string).replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  page: string;
  target: string;
}

/** Every link of a page: inline `[text](target)`, reference definitions and HTML `href`/`src`. */
function linksOf(page: string): Link[] {
  const text = prose(readFileSync(join(ROOT, page), 'utf8'));
  const targets = [
    ...[...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)].map((m) => m[1] as string),
    ...[...text.matchAll(/<(?:a|img)\b[^>]*\b(?:href|src)="([^"]+)"/gi)].map((m) => m[1] as string),
  ];
  return targets.map((target) => ({ page, target }));
}

/** What is wrong with a link, or undefined when it lands. */
function problem({ page, target }: Link): string | undefined {
  let path: string;
  let anchor: string | undefined;
  const repo = REPO_URL.exec(target);
  if (repo) {
    path = join(ROOT, decodeURIComponent(repo[1] as string));
    anchor = repo[2]?.slice(1);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    return undefined; // another site: not checked here
  } else {
    const [file, hash] = target.split('#', 2) as [string, string | undefined];
    path = file === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURIComponent(file));
    anchor = hash;
  }
  if (!existsSync(path)) return `${relative(ROOT, path)} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!statSync(path).isFile() || !path.endsWith('.md')) return `#${anchor} on ${relative(ROOT, path)}, which is not a Markdown page`;
  if (!headingAnchors(readFileSync(path, 'utf8')).has(decodeURIComponent(anchor))) return `${relative(ROOT, path)} has no heading #${anchor}`;
  return undefined;
}

describe('links in README.md and docs/*.md', () => {
  const links = PAGES.flatMap(linksOf);

  it('finds the pages and their links', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'docs/reference.md', 'docs/preview-guard.md', 'docs/development.md']));
    expect(links.filter((l) => l.page === 'README.md' && REPO_URL.test(l.target)).length).toBeGreaterThan(20);
    expect(links.filter((l) => l.page !== 'README.md' && !/^[a-z]+:/i.test(l.target)).length).toBeGreaterThan(20);
  });

  it('every link names a file that exists, and a heading of it where it has an anchor', () => {
    const broken = links.map((l) => ({ ...l, problem: problem(l) })).filter((l) => l.problem !== undefined);
    expect(broken).toEqual([]);
  });

  it('the README links to its pages on GitHub (the registry page resolves a relative link against npmjs.com)', () => {
    const relativeFromReadme = linksOf('README.md').filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target) && !l.target.startsWith('#'));
    expect(relativeFromReadme).toEqual([]);
  });

  it('every page in docs/ is reachable from the README', () => {
    const reached = new Set<string>();
    const visit = (page: string): void => {
      if (reached.has(page)) return;
      reached.add(page);
      for (const l of linksOf(page)) {
        const repo = REPO_URL.exec(l.target);
        const file = repo ? (repo[1] as string) : /^[a-z][a-z0-9+.-]*:/i.test(l.target) ? undefined : relative(ROOT, resolve(dirname(join(ROOT, page)), l.target.split('#')[0] as string));
        if (file !== undefined && /^docs\/[^/]+\.md$/.test(file)) visit(file);
      }
    };
    visit('README.md');
    expect(PAGES.filter((p) => !reached.has(p))).toEqual([]);
  });
});

describe('heading anchors, as GitHub makes them', () => {
  it.each([
    ['## Try it: your own stack on a local server, destroyed and adopted', 'try-it-your-own-stack-on-a-local-server-destroyed-and-adopted'],
    ['## Moving between strategies: `migrate`', 'moving-between-strategies-migrate'],
    ['## The stack procedure: local → managed', 'the-stack-procedure-local--managed'],
    ["## Neon's `channel_binding=require`", 'neons-channel_bindingrequire'],
    ['## Later deployments: `setupScript`', 'later-deployments-setupscript'],
  ])('%s → #%s', (heading, anchor) => {
    expect([...headingAnchors(`${heading}\n`)]).toEqual([anchor]);
  });

  it('numbers a repeated heading', () => {
    expect([...headingAnchors('## Notes\n\n## Notes\n\n## Notes\n')]).toEqual(['notes', 'notes-1', 'notes-2']);
  });

  it('ignores headings inside fenced code', () => {
    expect([...headingAnchors('````markdown\n### Not a heading\n````\n## A heading\n')]).toEqual(['a-heading']);
  });
});
