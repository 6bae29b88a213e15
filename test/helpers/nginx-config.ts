// Reads nginx configuration text into directives, and follows proxy settings into locations as
// nginx inherits them, so that tests can check what each shipped location sends upstream.

export interface Directive {
  readonly name: string;
  /** Arguments without their quotes: `""` is an empty string. */
  readonly args: readonly string[];
  /** The directives inside `{ … }`, or undefined for a directive that ends with `;`. */
  readonly block?: readonly Directive[];
}

/** A location as nginx runs it: its own directives plus the proxy settings it inherits. */
export interface ProxyLocation {
  /** The location's arguments, as written: `/`, `@gateway`, `~* ^/_gateway/`. */
  readonly match: string;
  /** The `proxy_pass` target. */
  readonly target: string;
  /** Header name (lower case) to value, from the `proxy_set_header` lines in effect. */
  readonly headers: ReadonlyMap<string, string>;
  /** Directive name to arguments, for the single-valued `proxy_*` directives in effect. */
  readonly settings: ReadonlyMap<string, readonly string[]>;
}

type Token = { kind: 'word'; text: string } | { kind: 'punct'; text: '{' | '}' | ';' };

/**
 * Splits configuration text into words and `{`, `}`, `;`, as nginx's own parser does: `#`
 * starts a comment outside quotes, and a quoted word keeps its escaped quotes.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === '#') {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end;
    } else if (char === '{' || char === '}' || char === ';') {
      tokens.push({ kind: 'punct', text: char });
      index += 1;
    } else if (char === '"' || char === "'") {
      const { value, end } = readQuoted(text, index);
      tokens.push({ kind: 'word', text: value });
      index = end;
    } else {
      const match = /^[^\s{};"']+/.exec(text.slice(index)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: match[0] });
      index += match[0].length;
    }
  }
  return tokens;
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  for (let index = start + 1; index < text.length; index += 1) {
    const char = text[index] as string;
    if (char === quote) return { value, end: index + 1 };
    if (char === '\\' && index + 1 < text.length) {
      value += text.slice(index, index + 2);
      index += 1;
    } else {
      value += char;
    }
  }
  throw new Error(`unterminated quoted string at offset ${start}`);
}

/** Parses nginx configuration text. Throws on unbalanced braces or a directive without `;`. */
export function parseNginxConfig(text: string): Directive[] {
  const tokens = tokenize(text);
  let position = 0;

  const readBlock = (nested: boolean): Directive[] => {
    const directives: Directive[] = [];
    const words: string[] = [];
    while (position < tokens.length) {
      const token = tokens[position] as Token;
      position += 1;
      if (token.kind === 'word') {
        words.push(token.text);
        continue;
      }
      if (token.text === '}') {
        if (!nested || words.length > 0) throw new Error('unexpected "}"');
        return directives;
      }

      const [name, ...args] = words.splice(0);
      if (name === undefined) throw new Error(`"${token.text}" without a directive`);
      const block = token.text === '{' ? readBlock(true) : undefined;
      directives.push({ name, args, ...(block && { block }) });
    }
    if (nested || words.length > 0) throw new Error('unexpected end of configuration');
    return directives;
  };

  return readBlock(false);
}

interface Inherited {
  readonly headers: ReadonlyMap<string, string>;
  readonly settings: ReadonlyMap<string, readonly string[]>;
}

/** The proxy settings in effect inside a block, given those of the block around it. */
function inherit(directives: readonly Directive[], outer: Inherited): Inherited {
  const own = directives.filter((directive) => directive.name === 'proxy_set_header');
  // nginx inherits proxy_set_header only when a level sets none of its own
  // (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header).
  const headers =
    own.length === 0
      ? outer.headers
      : new Map(own.map(({ args }) => [(args[0] ?? '').toLowerCase(), args[1] ?? '']));

  const settings = new Map(outer.settings);
  for (const directive of directives) {
    if (directive.name.startsWith('proxy_') && directive.name !== 'proxy_set_header') {
      settings.set(directive.name, directive.args);
    }
  }
  return { headers, settings };
}

/** Every location (nested ones too) that has a `proxy_pass`, with the settings in effect. */
export function listProxyLocations(directives: readonly Directive[]): ProxyLocation[] {
  const found: ProxyLocation[] = [];
  const visit = (block: readonly Directive[], outer: Inherited, match?: string) => {
    const inner = inherit(block, outer);
    const target = block.find((directive) => directive.name === 'proxy_pass')?.args[0];
    if (match !== undefined && target !== undefined) {
      found.push({ match, target, ...inner });
    }
    for (const directive of block) {
      if (!directive.block) continue;
      const isLocation = directive.name === 'location';
      visit(directive.block, inner, isLocation ? directive.args.join(' ') : match);
    }
  };
  visit(directives, { headers: new Map(), settings: new Map() });
  return found;
}

/** The `proxy_pass` targets that reach `address`: itself, and each upstream that lists it. */
export function targetsFor(directives: readonly Directive[], address: string): Set<string> {
  const targets = new Set([`http://${address}`]);
  for (const directive of directives) {
    const servers = directive.block?.filter((inner) => inner.name === 'server') ?? [];
    if (directive.name === 'upstream' && servers.some((server) => server.args[0] === address)) {
      targets.add(`http://${directive.args[0] ?? ''}`);
    }
  }
  return targets;
}

/** nginx's size syntax (`16k`, `1m`, `4096`) in bytes. */
export function sizeInBytes(size: string): number {
  const match = /^(\d+)([kKmM]?)$/.exec(size);
  if (!match) throw new Error(`"${size}" is not an nginx size`);
  const unit = { '': 1, k: 1024, m: 1024 * 1024 }[(match[2] as string).toLowerCase()] as number;
  return Number(match[1]) * unit;
}
