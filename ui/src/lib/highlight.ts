import type { Language } from "./file-kinds.ts";

/**
 * A light syntax highlighter: comments, strings, numbers and keywords per language family, enough to
 * read code in the file pane. Tokens are plain text; the view renders them as text nodes in spans.
 */
export type TokenKind = "comment" | "string" | "number" | "keyword" | "tag" | "plain";
export interface Token {
  kind: TokenKind;
  text: string;
}

/** Files above this are shown without highlighting: tokenizing would cost more than it helps. */
export const MAX_HIGHLIGHT_CHARS = 200_000;

const C_KEYWORDS =
  "abstract as async await break case catch class const continue default defer delete do else enum export extends false final finally fn for from func function go if impl implements import in instanceof interface let loop match mod mut namespace new nil null override package private protected pub public readonly return self static struct super switch this throw throws trait true try type typeof undefined union unsafe use var void where while yield";
const PYTHON_KEYWORDS =
  "and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return self True try while with yield";
const SHELL_KEYWORDS =
  "case do done elif else esac export fi for function if in local readonly return select then until while echo exit set unset";
const RUBY_KEYWORDS =
  "alias and begin break case class def do else elsif end ensure false for if in module next nil not or redo rescue retry return self super then true undef unless until when while yield";
const SQL_KEYWORDS =
  "select from where insert into values update set delete create table index drop alter join left right inner outer on group by order having limit offset and or not null is as distinct union primary key references default";
const LITERALS = "true false null";

interface Grammar {
  /** Alternatives in order; each is a regex source without flags. */
  comment?: string;
  string: string;
  keywords: Set<string>;
  caseInsensitive?: boolean;
  tag?: string;
}

const words = (list: string) => new Set(list.split(" "));
const DOUBLE = String.raw`"(?:[^"\\\n]|\\.)*"?`;
const SINGLE = String.raw`'(?:[^'\\\n]|\\.)*'?`;
const BACKTICK = String.raw`\`(?:[^\`\\]|\\.)*\`?`;

const GRAMMARS: Record<Language, Grammar> = {
  "c-like": {
    comment: String.raw`\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)`,
    string: `${DOUBLE}|${SINGLE}|${BACKTICK}`,
    keywords: words(C_KEYWORDS),
  },
  python: {
    comment: "#[^\\n]*",
    string: `"""[\\s\\S]*?(?:"""|$)|'''[\\s\\S]*?(?:'''|$)|${DOUBLE}|${SINGLE}`,
    keywords: words(PYTHON_KEYWORDS),
  },
  shell: { comment: "#[^\\n]*", string: `${DOUBLE}|${SINGLE}`, keywords: words(SHELL_KEYWORDS) },
  ruby: { comment: "#[^\\n]*", string: `${DOUBLE}|${SINGLE}`, keywords: words(RUBY_KEYWORDS) },
  json: { string: DOUBLE, keywords: words(LITERALS) },
  yaml: { comment: "#[^\\n]*", string: `${DOUBLE}|${SINGLE}`, keywords: words(`${LITERALS} yes no`) },
  toml: { comment: "#[^\\n]*", string: `${DOUBLE}|${SINGLE}`, keywords: words(LITERALS) },
  css: {
    comment: String.raw`\/\*[\s\S]*?(?:\*\/|$)`,
    string: `${DOUBLE}|${SINGLE}`,
    keywords: words("important media import from to and not only"),
  },
  markup: {
    comment: "<!--[\\s\\S]*?(?:-->|$)",
    string: `${DOUBLE}|${SINGLE}`,
    keywords: new Set(),
    tag: String.raw`<\/?[A-Za-z][\w:.-]*|\/?>`,
  },
  sql: {
    comment: String.raw`--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)`,
    string: SINGLE,
    keywords: words(SQL_KEYWORDS),
    caseInsensitive: true,
  },
};

const NUMBER = String.raw`\b(?:0[xX][\da-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)\b`;
const WORD = String.raw`[A-Za-z_$][\w$]*`;

const compiled = new Map<Language, RegExp>();

/** One sticky regex per grammar; group order: comment, string, tag, number, word. */
function scanner(language: Language): RegExp {
  let regex = compiled.get(language);
  if (!regex) {
    const grammar = GRAMMARS[language];
    const groups = [grammar.comment ?? "(?!)", grammar.string, grammar.tag ?? "(?!)", NUMBER, WORD];
    regex = new RegExp(groups.map((g) => `(${g})`).join("|"), "g");
    compiled.set(language, regex);
  }
  return regex;
}

export function tokenize(text: string, language: Language): Token[] {
  const grammar = GRAMMARS[language];
  const regex = scanner(language);
  const tokens: Token[] = [];
  let last = 0;
  const push = (kind: TokenKind, value: string) => {
    if (value.length === 0) return;
    const previous = tokens[tokens.length - 1];
    if (previous && previous.kind === kind) previous.text += value;
    else tokens.push({ kind, text: value });
  };
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match; match = regex.exec(text)) {
    if (match[0].length === 0) {
      regex.lastIndex += 1;
      continue;
    }
    push("plain", text.slice(last, match.index));
    const [all, comment, string, tag, number, word] = match;
    if (comment !== undefined) push("comment", all);
    else if (string !== undefined) push("string", all);
    else if (tag !== undefined) push("tag", all);
    else if (number !== undefined) push("number", all);
    else if (word !== undefined) {
      const key = grammar.caseInsensitive ? word.toLowerCase() : word;
      push(grammar.keywords.has(key) ? "keyword" : "plain", all);
    }
    last = match.index + all.length;
  }
  push("plain", text.slice(last));
  return tokens;
}
