/**
 * The table of Dolibarr versions (support/dolibarr/versions.ts): every entry cites its source, a reported version
 * finds what to expect of it, and the two refusals of a write — by authentication, by the permission model — are told
 * apart on every version, by their messages where the status is the same (19). Also the setting that picks the version
 * the hermetic stand-ins answer as.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../support/config';
import {
  DEFAULT_DOLIBARR_PROFILE,
  DOLIBARR_PROFILES,
  DOLIBARR_VERSIONS,
  EVERY_VERSION,
  isDatabaseDownPage,
  missingRight,
  profileNamed,
  profileOf,
  refusalOf,
  type Sourced,
} from '../support/dolibarr/versions';

const SOURCE = /^(observed on \S.*|not verified: \S.*)$/;

describe('the table of Dolibarr versions', () => {
  it('cites a source for every entry: the version observed, or "not verified" and why', () => {
    const entries: [string, Sourced<unknown>][] = [
      ...DOLIBARR_PROFILES.flatMap((name) => Object.entries(DOLIBARR_VERSIONS[name])
        .filter(([field]) => field !== 'name')
        .map(([field, entry]) => [`${name}.${field}`, entry as Sourced<unknown>] as [string, Sourced<unknown>])),
      ...Object.entries(EVERY_VERSION).map(([field, entry]) => [`every version.${field}`, entry as Sourced<unknown>] as [string, Sourced<unknown>]),
    ];
    assert.ok(entries.length > 30, `${entries.length} entries`);
    for (const [where, entry] of entries) {
      assert.ok(entry.value !== undefined, where);
      assert.match(entry.source, SOURCE, where);
    }
  });

  it('has the observed differences of 19, 20 and 23', () => {
    assert.deepEqual(DOLIBARR_PROFILES.map((name) => missingRight(DOLIBARR_VERSIONS[name])), [
      { status: 401, message: 'Unauthorized' }, { status: 403, message: 'Forbidden' }, { status: 403, message: 'Forbidden' },
    ]);
    assert.deepEqual(DOLIBARR_PROFILES.map((name) => DOLIBARR_VERSIONS[name].createdId.value), ['string', 'number', 'number']);
    assert.deepEqual(DOLIBARR_VERSIONS['19'].linePriceFields.value, ['pu_ht'], '19 prices lines from pu_ht only');
    assert.deepEqual(DOLIBARR_PROFILES.map((name) => DOLIBARR_VERSIONS[name].bearer.value), [false, false, true]);
    assert.equal(DEFAULT_DOLIBARR_PROFILE, '20');
  });

  it('finds what to expect of a reported version: its major, else the newest older one, else the oldest', () => {
    const expect = (version: string) => profileOf(version)?.name;
    assert.deepEqual(
      ['19.0.2', '19.0.0', '20.0.2', '20.0.4', '21.0.1', '22.0.0-beta', '23.0.0-alpha', '23.0.2', '24.0.0', '18.0.5', '3.9.0'].map(expect),
      ['19', '19', '20', '20', '20', '20', '23', '23', '23', '19', '19'],
    );
    assert.equal(profileOf('develop'), undefined);
    assert.equal(profileOf(''), undefined);
    assert.equal(profileNamed('23'), DOLIBARR_VERSIONS['23']);
    assert.equal(profileNamed('21'), undefined);
  });

  it('tells a refusal by authentication from one by the permission model, on every version', () => {
    for (const name of DOLIBARR_PROFILES) {
      const profile = DOLIBARR_VERSIONS[name];
      const right = missingRight(profile);
      const permission = [
        right,
        missingRight(profile, profile.insufficientRights.value),
        missingRight(profile, 'Not allowed'),
        missingRight(profile, 'Access not allowed for login ai_agent'),
      ];
      for (const { status, message } of permission) {
        assert.equal(refusalOf(status, message, profile), 'permission', `${name}: ${status} ${message}`);
        assert.equal(refusalOf(status, message), 'permission', `${name} by its message alone: ${status} ${message}`);
      }
      for (const message of [EVERY_VERSION.unknownKey.value, profile.noKeyMessage.value]) {
        assert.equal(refusalOf(401, message, profile), 'authentication', `${name}: ${message}`);
        assert.equal(refusalOf(401, message), 'authentication', `${name} by its message alone: ${message}`);
      }
    }
    // A version that refuses missing rights with 403: a 401 is authentication, whatever its words.
    assert.equal(refusalOf(401, 'Unauthorized', DOLIBARR_VERSIONS['20']), 'authentication');
    assert.equal(refusalOf(401, 'Unauthorized: Insuffisant rights', DOLIBARR_VERSIONS['23']), 'authentication');
    assert.equal(refusalOf(401, 'Unauthorized: something else'), 'authentication');
    assert.equal(refusalOf(404, 'Not Found: Thirdparty not found'), undefined);
    assert.equal(refusalOf(200, ''), undefined);
  });

  it("knows Dolibarr's technical-error page by its words on every version, and nothing else", () => {
    for (const name of DOLIBARR_PROFILES) {
      assert.ok(isDatabaseDownPage(`<html><body>${DOLIBARR_VERSIONS[name].databaseDownPage.value}.</body></html>`), name);
    }
    assert.ok(!isDatabaseDownPage('<html><head><title>502 Bad Gateway</title></head></html>'));
  });
});

describe('ERP_REHEARSAL_DOLIBARR_VERSION', () => {
  /** The configuration `env` gives, read from a directory without a .env file. */
  function load(env: Record<string, string>) {
    const empty = mkdtempSync(join(tmpdir(), 'erp-rehearsal-versions-'));
    try {
      return loadConfig(env, { cwd: empty });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }

  it('is the version the hermetic stand-ins answer as: 20 by default, 19 or 23 when set', () => {
    assert.equal(load({}).dolibarrVersion, '20');
    assert.equal(load({ ERP_REHEARSAL_DOLIBARR_VERSION: '19' }).dolibarrVersion, '19');
    assert.equal(load({ ERP_REHEARSAL_DOLIBARR_VERSION: '23' }).dolibarrVersion, '23');
  });

  it('refuses another value, saying which it takes', () => {
    for (const value of ['21', '20.0.2', 'latest']) {
      assert.throws(() => load({ ERP_REHEARSAL_DOLIBARR_VERSION: value }), (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.includes(`ERP_REHEARSAL_DOLIBARR_VERSION="${value}": use 19, 20, 23 (the Dolibarr versions the hermetic stand-ins answer as)`));
    }
  });
});
