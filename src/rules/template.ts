/**
 * Templates such as `https://avatars.example.org/{UID}.png` or `{GN} {SN}`: literal text with
 * `{name}` placeholders. A name is a subject DN attribute type (as nginx prints it: CN, UID,
 * serialNumber, a dotted OID) or a certificate fact (email, pseudonym, serial, fingerprint);
 * names are case-insensitive.
 */

export type TemplatePart = { readonly text: string } | { readonly placeholder: string };

const PLACEHOLDER_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;

/**
 * Splits a template into text and placeholders. Returns a problem, in the words of a config
 * message, when a brace is unbalanced or a placeholder name is not a possible attribute type.
 */
export function parseTemplate(template: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close !== -1 && (open === -1 || close < open)) return "has a '}' without a '{'";
    if (open === -1) {
      parts.push({ text: rest });
      break;
    }

    if (open > 0) parts.push({ text: rest.slice(0, open) });
    if (close === -1) return "has a '{' without a '}'";

    const name = rest.slice(open + 1, close);
    if (!PLACEHOLDER_NAME.test(name)) {
      return `has the placeholder {${name}}, which is not an attribute type or a certificate fact`;
    }
    parts.push({ placeholder: name });
    rest = rest.slice(close + 1);
  }
  return parts;
}

/**
 * Fills a parsed template. `lookUp` gives a placeholder's value or undefined; `encode` is
 * applied to each value (percent-encoding for URLs). Returns undefined when any value is
 * missing or blank, so that the caller falls back instead of producing half a value.
 */
export function renderTemplate(
  parts: readonly TemplatePart[],
  lookUp: (name: string) => string | undefined,
  encode: (value: string) => string = (value) => value,
): string | undefined {
  let result = '';
  for (const part of parts) {
    if ('text' in part) {
      result += part.text;
      continue;
    }

    const value = lookUp(part.placeholder)?.trim();
    if (!value) return undefined;
    result += encode(value);
  }
  return result;
}
