import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Relative links in Markdown that point nowhere: a missing file, or an anchor that matches no heading of the
 * target page (GitHub's heading ids). External links (with a scheme) are not followed; code is skipped.
 */

/** GitHub's id for a heading: lower case, punctuation dropped (not `-` or `_`), each space a hyphen. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const withoutFences = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');

/** The ids of a page's headings; a repeated heading gets `-1`, `-2`… as on GitHub. */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    const slug = headingSlug(m[1]!.replace(/`/g, ''));
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

export interface LinkProblem {
  file: string;
  target: string;
  problem: string;
}

/** Problems of the relative links in `text` (the content of `file`, a path relative to `root`). */
export function linkProblems(root: string, file: string, text: string): { checked: number; problems: LinkProblem[] } {
  const problems: LinkProblem[] = [];
  let checked = 0;
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, '');
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    checked++;
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const resolved = path ? join(root, dirname(file), decodeURIComponent(path)) : join(root, file);
    if (!existsSync(resolved)) {
      problems.push({ file, target, problem: `no file ${relative(root, resolved)}` });
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
      problems.push({ file, target, problem: 'an anchor into something that is not a Markdown file' });
      continue;
    }
    const page = path ? readFileSync(resolved, 'utf8') : text;
    if (!headingAnchors(page).has(anchor))
      problems.push({ file, target, problem: `no heading #${anchor} in ${relative(root, resolved)}` });
  }
  return { checked, problems };
}
