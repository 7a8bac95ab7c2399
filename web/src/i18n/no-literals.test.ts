/* No user-visible text is left out of the catalogues: every .tsx of the app
 * is parsed (Rolldown's parser, the one Vite builds with) and its JSX text,
 * the strings a JSX expression shows ({x ? 'Hide' : 'Show'}) and the
 * visible attributes (aria-label, title, placeholder, alt) must hold no
 * letter, but for the few names below that no language translates. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAst } from 'rolldown/parseAst';
import { expect, it } from 'vitest';

const SRC = join(__dirname, '..');
/* The product's name, and a command the user types as it is. */
const ALLOWED = new Set(['Peerdrop', 'peerdrop send --code']);
const VISIBLE_ATTRS = new Set(['aria-label', 'aria-description', 'aria-roledescription', 'aria-valuetext', 'title', 'placeholder', 'alt']);
const LETTER = /\p{L}/u;

type Node = { type: string; start: number; [k: string]: unknown };

function tsxFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return tsxFiles(p);
    return n.endsWith('.tsx') && !n.includes('.test.') ? [p] : [];
  });
}

/** The text a shown expression can evaluate to, when written in the source. */
function shownStrings(e: Node | null | undefined): Node[] {
  if (!e) return [];
  switch (e.type) {
    case 'Literal':
      return typeof e.value === 'string' ? [e] : [];
    case 'TemplateLiteral':
      return (e.quasis as Node[]).filter((q) => LETTER.test(String((q.value as { cooked: string }).cooked)));
    case 'ConditionalExpression':
      return [...shownStrings(e.consequent as Node), ...shownStrings(e.alternate as Node)];
    case 'LogicalExpression':
      return shownStrings(e.right as Node);
    case 'ParenthesizedExpression':
    case 'TSAsExpression':
      return shownStrings(e.expression as Node);
    case 'BinaryExpression':
      return e.operator === '+' ? [...shownStrings(e.left as Node), ...shownStrings(e.right as Node)] : [];
    default:
      return [];
  }
}

function text(n: Node): string {
  if (n.type === 'TemplateElement') return String((n.value as { cooked: string }).cooked);
  return String(n.value);
}

function literals(source: string, file: string): string[] {
  const found: string[] = [];
  const line = (pos: number) => source.slice(0, pos).split('\n').length;
  const report = (n: Node, what: string) => {
    const t = text(n).trim();
    if (LETTER.test(t) && !ALLOWED.has(t)) found.push(`${file}:${line(n.start)}: ${what} ${JSON.stringify(t.slice(0, 60))}`);
  };
  const visit = (n: unknown, parent?: Node): void => {
    if (Array.isArray(n)) return n.forEach((c) => visit(c, parent));
    if (!n || typeof n !== 'object') return;
    const node = n as Node;
    if (node.type === 'JSXText') report(node, 'text');
    else if (node.type === 'JSXExpressionContainer' && parent && (parent.type === 'JSXElement' || parent.type === 'JSXFragment'))
      shownStrings(node.expression as Node).forEach((s) => report(s, 'shown string'));
    else if (node.type === 'JSXAttribute') {
      const name = (node.name as { name?: string }).name ?? '';
      const v = node.value as Node | null;
      if (VISIBLE_ATTRS.has(name) && v) (v.type === 'Literal' ? [v] : shownStrings((v as Node).expression as Node)).forEach((s) => report(s, `${name}=`));
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'parent' && v && typeof v === 'object') visit(v, node);
  };
  visit(parseAst(source, { lang: 'tsx' }));
  return found;
}

it('no user-visible English literal in the components: every text is a catalogue key', () => {
  const files = tsxFiles(SRC);
  expect(files.length).toBeGreaterThan(3);
  const found = files.flatMap((f) => literals(readFileSync(f, 'utf8'), relative(SRC, f)));
  expect(found).toEqual([]);
});

it('the scan finds what it looks for (a check of the check)', () => {
  const sample = `export const X = () => (<p title="Hi there">Hello {a ? 'Shown' : ''} <b aria-label={\`Label \${n}\`}>Peerdrop</b>{' '}{n}</p>);`;
  expect(literals(sample, 'x.tsx').map((s) => s.replace(/^x\.tsx:1: /, ''))).toEqual(['title= "Hi there"', 'text "Hello"', 'shown string "Shown"', 'aria-label= "Label"']);
});
