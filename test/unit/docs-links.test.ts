// The README is short and links into docs/: a page moved or a heading renamed must not leave a
// link pointing nowhere, and the pages are for users, who cannot look up our internal issues.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/repo-root.js';

const pages = ['README.md', join('bench', 'README.md'), ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];

/** The text outside fenced code blocks (a `# comment` in a shell block is not a heading). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to '-'. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  for (const match of prose(readFileSync(join(repoRoot, file), 'utf8')).matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(match[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

describe('the README and docs/', () => {
  it('has at least the pages the README lists', () => {
    assert.ok(pages.length >= 13, pages.join(', '));
  });

  it('links only to files and headings that exist', () => {
    let checked = 0;
    for (const page of pages) {
      for (const match of prose(readFileSync(join(repoRoot, page), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1]!;
        if (/^[a-z]+:/.test(link)) continue;
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? page : normalize(join(dirname(page), path));
        assert.ok(!relative(repoRoot, join(repoRoot, target)).startsWith('..'), `${page}: ${link} leaves the repository`);
        assert.ok(existsSync(join(repoRoot, target)), `${page}: ${link} names no file`);
        if (anchor !== undefined) assert.ok(anchors(target).has(anchor), `${page}: ${link} names no heading of ${target}`);
        checked++;
      }
    }
    assert.ok(checked > 20, `only ${checked} links found`);
  });

  it('never names an internal issue', () => {
    for (const page of pages) {
      const text = readFileSync(join(repoRoot, page), 'utf8');
      assert.doesNotMatch(text, /(^|[\s(])#\d+\b|\bissues? \d+/im, page);
    }
  });
});
