// `local`'s output fits 80 columns: a field's text wraps under its label (a word wider than a line
// is broken), and a line that stands for one item (a task's message, a refused call) is cut with "…".

/** The width the summary and the header are laid out for (a terminal's default). */
export const OUTPUT_WIDTH = 80;

/** `  label            `: the column where a field's text starts. */
const LABEL_WIDTH = 17;
const INDENT = ' '.repeat(2 + LABEL_WIDTH);

/**
 * Joins words that must stay on one line ("p50 6.30 ms"): the no-break spaces are not wrapped
 * at, and are printed as spaces.
 */
export function keep(...words: readonly string[]): string {
  return words.join('\u00a0');
}

/** `line` cut to `width` columns, ending in "…" when cut; newlines shown as `\n`. */
export function cut(line: string, width: number = OUTPUT_WIDTH): string {
  const one = line.replace(/\r?\n/g, '\\n');
  const chars = [...one];
  return chars.length <= width ? one : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/**
 * Lays out `text` after `prefix` (the first line) and `indent` (the others), wrapped at spaces to
 * `width`; a word wider than a line (a path, a URL, a JSON input) is broken across lines, nothing
 * of it lost. No-break spaces (see {@link keep}) become spaces.
 */
export function wrap(prefix: string, text: string, indent: string, width: number = OUTPUT_WIDTH): string[] {
  const lines: string[] = [];
  let line = [...prefix];
  let empty = true;
  const room = Math.max(1, width - [...indent].length);
  for (const word of text.replace(/\r?\n/g, '\\n').split(' ').filter((w) => w !== '')) {
    let chars = [...word];
    if (!empty && line.length + 1 + chars.length > width) {
      lines.push(line.join(''));
      line = [...indent];
      empty = true;
    }
    if (!empty) line.push(' ');
    // Too wide for any line: fill this one, then whole lines.
    while (line.length + chars.length > width && chars.length > room) {
      const take = Math.max(1, width - line.length);
      lines.push([...line, ...chars.slice(0, take)].join(''));
      chars = chars.slice(take);
      line = [...indent];
    }
    line.push(...chars);
    empty = false;
  }
  lines.push(line.join(''));
  return lines.map((l) => l.replaceAll('\u00a0', ' '));
}

/** A summary field: `  label            text`, the text wrapped under itself. */
export function field(label: string, text: string, width: number = OUTPUT_WIDTH): string[] {
  return wrap(`  ${label.padEnd(LABEL_WIDTH)}`, text, INDENT, width);
}

/** A field with one item a line (refused calls, …): each cut to the width, none wrapped. */
export function listField(label: string, items: readonly string[], width: number = OUTPUT_WIDTH): string[] {
  return items.map((item, i) => cut(`${i === 0 ? `  ${label.padEnd(LABEL_WIDTH)}` : INDENT}${item}`, width));
}
