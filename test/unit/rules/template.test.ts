import { describe, expect, it } from 'vitest';
import { parseTemplate, renderTemplate } from '../../../src/rules/template.js';

const values: Record<string, string> = { uid: 'jo doe', cn: '  ' };
const lookUp = (name: string) => values[name.toLowerCase()];

function render(template: string, encode?: (value: string) => string) {
  const parts = parseTemplate(template);
  if (typeof parts === 'string') throw new Error(parts);
  return renderTemplate(parts, lookUp, encode);
}

describe('templates', () => {
  it('fills each placeholder, encoded as asked', () => {
    expect(render('https://a.example/{UID}.png', encodeURIComponent)).toBe(
      'https://a.example/jo%20doe.png',
    );
    expect(render('{uid} at work')).toBe('jo doe at work');
  });

  it('gives nothing when a value is missing or blank', () => {
    expect(render('{uid} {GN}')).toBeUndefined();
    expect(render('{CN}')).toBeUndefined();
  });

  it.each([
    ['https://a.example/{UID', "has a '{' without a '}'"],
    ['https://a.example/UID}', "has a '}' without a '{'"],
    ['{}', 'has the placeholder {}, which is not an attribute type or a certificate fact'],
    ['{a b}', 'has the placeholder {a b}, which is not an attribute type or a certificate fact'],
  ])('refuses %s: %s', (template, problem) => {
    expect(parseTemplate(template)).toBe(problem);
  });
});
