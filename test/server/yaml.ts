// A small YAML reader for the deploy/ manifests (block mappings and sequences, quoted and plain
// scalars, flow sequences, comments, one document). Enough to check them without a dependency;
// it throws on anything it does not understand rather than guessing.

type Yaml = null | boolean | number | string | Yaml[] | { [k: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function stripComment(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || s[i - 1] === " ")) return s.slice(0, i).trimEnd();
  }
  return s.trimEnd();
}

function scalar(s: string, no: number): Yaml {
  const t = s.trim();
  if (t.startsWith('"')) {
    if (!t.endsWith('"') || t.length < 2) throw new Error(`line ${no}: unterminated string`);
    return JSON.parse(t) as string;
  }
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) throw new Error(`line ${no}: unterminated string`);
    return t.slice(1, -1).replaceAll("''", "'");
  }
  if (t.startsWith("[")) {
    if (!t.endsWith("]")) throw new Error(`line ${no}: unterminated flow sequence`);
    const inner = t.slice(1, -1).trim();
    if (!inner) return [];
    const parts: string[] = [];
    let cur = "";
    let quote: string | undefined;
    for (const c of inner) {
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === ",") {
        parts.push(cur);
        cur = "";
        continue;
      }
      cur += c;
    }
    parts.push(cur);
    return parts.map((p) => scalar(p, no));
  }
  if (t.startsWith("{") || t.startsWith("&") || t.startsWith("*") || t.startsWith("|") || t.startsWith(">")) {
    throw new Error(`line ${no}: unsupported YAML: ${t}`);
  }
  if (t === "" || t === "null" || t === "~") return null;
  if (t === "true") return true;
  if (t === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/** "key: value" -> [key, value text]; undefined when the line is not a mapping entry. */
function entry(text: string): [string, string] | undefined {
  const m = /^("[^"]*"|'[^']*'|[^\s"'#:][^:]*?):(?:\s+(.*))?$/.exec(text);
  if (!m) return undefined;
  return [String(scalar(m[1]!, 0)), m[2] ?? ""];
}

export function parseYaml(text: string): Yaml {
  const lines: Line[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.includes("\t")) throw new Error(`line ${i + 1}: tabs are not YAML indentation`);
    const s = stripComment(raw);
    if (!s.trim() || s.trim() === "---") return;
    lines.push({ indent: s.length - s.trimStart().length, text: s.trim(), no: i + 1 });
  });
  let pos = 0;

  function block(indent: number): Yaml {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    if (first.text.startsWith("- ") || first.text === "-") return sequence(first.indent);
    return mapping(first.indent);
  }

  function mapping(indent: number, into: { [k: string]: Yaml } = {}): Yaml {
    while (pos < lines.length && lines[pos]!.indent === indent && !lines[pos]!.text.startsWith("- ")) {
      const line = lines[pos]!;
      const kv = entry(line.text);
      if (!kv) throw new Error(`line ${line.no}: expected "key: value", got ${line.text}`);
      const [k, v] = kv;
      if (Object.hasOwn(into, k)) throw new Error(`line ${line.no}: duplicate key ${k}`);
      pos++;
      if (v !== "") into[k] = scalar(v, line.no);
      else {
        const next = lines[pos];
        // A sequence may sit at the key's own indentation.
        into[k] = next && (next.indent > indent || (next.indent === indent && next.text.startsWith("- "))) ? block(next.indent) : null;
      }
    }
    if (pos < lines.length && lines[pos]!.indent > indent) throw new Error(`line ${lines[pos]!.no}: bad indentation`);
    return into;
  }

  function sequence(indent: number): Yaml {
    const out: Yaml[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && (lines[pos]!.text.startsWith("- ") || lines[pos]!.text === "-")) {
      const line = lines[pos]!;
      const rest = line.text === "-" ? "" : line.text.slice(2).trim();
      if (rest === "") {
        pos++;
        out.push(block(indent + 1));
      } else if (entry(rest) && !rest.startsWith('"') && !rest.startsWith("'")) {
        // "- key: value" starts a mapping whose other keys sit two columns in.
        const inner = indent + line.text.indexOf(rest);
        lines[pos] = { indent: inner, text: rest, no: line.no };
        out.push(mapping(inner));
      } else {
        pos++;
        out.push(scalar(rest, line.no));
      }
    }
    return out;
  }

  const doc = block(0);
  if (pos !== lines.length) throw new Error(`line ${lines[pos]!.no}: unexpected ${lines[pos]!.text}`);
  return doc;
}
