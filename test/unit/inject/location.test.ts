import { describe, expect, it } from 'vitest';
import { locationWithToken, tokenParameters } from '../../../src/inject/location.js';

describe('tokenParameters', () => {
  it('finds no token in a query without one', () => {
    expect(tokenParameters('x=1&y=2')).toEqual([]);
  });

  it('finds every jwt parameter, however it is spelled', () => {
    expect(tokenParameters('jwt=a&x=1&%6Awt=b&jwt')).toEqual(['a', 'b', '']);
  });
});

describe('locationWithToken', () => {
  it('adds the token to a path without a query', () => {
    expect(locationWithToken('/Team%20Sync', '', 'T')).toBe('/Team%20Sync?jwt=T');
  });

  it('keeps other parameters in order and replaces every jwt', () => {
    expect(locationWithToken('/room', 'a=1&jwt=old&b=%20&jwt=older', 'new')).toBe(
      '/room?a=1&b=%20&jwt=new',
    );
  });

  it('encodes the token so that it cannot end the parameter', () => {
    expect(locationWithToken('/room', '', 'a&b=c')).toBe('/room?jwt=a%26b%3Dc');
  });
});
