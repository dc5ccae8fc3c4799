/** The personal-data scan: what it finds, what it leaves alone, and redaction with placeholders. */
import { describe, expect, it } from 'vitest';
import { findPii, luhnValid, redact } from '../../../src-main/engine/data/pii.js';

const found = (text: string) => findPii(text).map((match) => `${match.kind}:${text.slice(match.start, match.end)}`);

describe('findPii', () => {
  it('finds e-mail addresses, phone numbers, IP addresses and secrets', () => {
    expect(found('Write to jane.doe+work@mail.example.co.uk.')).toEqual(['email:jane.doe+work@mail.example.co.uk']);
    expect(found('Call +1 (415) 555-2671 or 06 12 34 56 78 or +442079460958')).toEqual([
      'phone:+1 (415) 555-2671',
      'phone:06 12 34 56 78',
      'phone:+442079460958',
    ]);
    expect(found('from 203.0.113.7 and 2001:db8::8a2e:370:7334')).toEqual([
      'ip:203.0.113.7',
      'ip:2001:db8::8a2e:370:7334',
    ]);
    expect(
      found(
        'key AKIAIOSFODNN7EXAMPLE, token ghp_abcdefghijklmnopqrstuvwxyz0123456789 and sk-proj-abcdefghijklmnopqrstuv',
      ),
    ).toEqual([
      'secret:AKIAIOSFODNN7EXAMPLE',
      'secret:ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'secret:sk-proj-abcdefghijklmnopqrstuv',
    ]);
    expect(found('see https://admin:hunter2@db.example.com/x?api_key=S3CR3T-VALUE&page=2')).toEqual([
      'secret:admin:hunter2',
      'secret:S3CR3T-VALUE',
    ]);
  });

  it('finds each secret and IPv6 form on its own, past the cheap screens before the patterns', () => {
    const secrets = [
      'AKIAIOSFODNN7EXAMPLE',
      'AIza0123456789abcdefghijklmnopqrstuvwxy',
      'xoxb-1234567890abcd',
      'github_pat_0123456789abcdefghijklmn',
      'rk_live_0123456789abcdefgh',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk',
      '-----BEGIN RSA PRIVATE KEY-----',
      'Bearer abcdefghijklmnopqrstuvwxyz0123',
    ];
    for (const secret of secrets) expect(found(`the value ${secret} here`)).toEqual([`secret:${secret}`]);
    expect(found('full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 form')).toEqual([
      'ip:2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    ]);
    expect(found('short fe80::1ff:fe23:4567:890a form')).toEqual(['ip:fe80::1ff:fe23:4567:890a']);
    expect(found('a:b:c:d:e:f: many colons, no address')).toEqual([]);
  });

  it('finds card numbers only when the Luhn check passes', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(found('card 4111 1111 1111 1111 expires 12/27')).toEqual(['card:4111 1111 1111 1111']);
    expect(found('card 4111 1111 1111 1112 expires 12/27')).toEqual([]);
    expect(found('amex 3782-822463-10005')).toEqual(['card:3782-822463-10005']);
  });

  it('leaves dates, versions, loopback addresses, plain numbers and tables alone', () => {
    expect(found('On 2024-03-15 10:46:22 we shipped 1.2.3 to 127.0.0.1 (0.0.0.0 listens).')).toEqual([]);
    expect(found('1 2 3 4 5 6 7 8 9 10 and 3.14159265 and 12345')).toEqual([]);
    expect(found('656   7726640  15514188   4041754')).toEqual([]);
    expect(found('std::vector<int> a; user @ home')).toEqual([]);
  });

  it('stays linear on long unbroken text', () => {
    const text = `${'a'.repeat(2_000_000)}@${'b'.repeat(2_000_000)}`;
    const started = performance.now();
    expect(findPii(text)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('redact', () => {
  it('replaces each match by its placeholder and returns the placeholders spans', () => {
    const text = 'Mail bob@example.com, card 4111-1111-1111-1111, ip 198.51.100.23.';
    const result = redact(text, findPii(text));
    expect(result.text).toBe('Mail <EMAIL>, card <CARD>, ip <IP>.');
    expect(result.matches.map((match) => result.text.slice(match.start, match.end))).toEqual([
      '<EMAIL>',
      '<CARD>',
      '<IP>',
    ]);
  });
});
